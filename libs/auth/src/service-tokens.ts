import type { CryptoKey, JWK } from 'jose';
import { importJWK, SignJWT } from 'jose';

/**
 * The subject payment-orchestration's own tokens name (`service:payment-orchestration`): the one
 * service a person's payment instruments are released to (`@RequireServiceSubject` on those routes).
 */
export const PAYMENT_ORCHESTRATION_SUBJECT = 'payment-orchestration';

/** Where a service's access tokens for other services come from. */
export interface ServiceTokenSource {
  token(): Promise<string | undefined>;
}

/** What a service's own tokens say: who signs them for whom, as which subject, asking for which scopes (none: no scope claim). */
export interface ServiceTokenClaims {
  readonly issuer: string;
  readonly audience: string;
  readonly subject: string;
  readonly scopes?: readonly string[];
}

const LIFETIME_SECONDS = 300;

/**
 * Short-lived access tokens a service signs itself (role `service`), with a key whose public half
 * the identity provider publishes in the JWKS the other services trust, and whose grant
 * (`AUTH_KEY_GRANTS`) limits it to that subject, role and scopes. Reused until a minute before expiry.
 */
export class SignedServiceTokens implements ServiceTokenSource {
  private cached?: { token: string; renewAt: number };

  private constructor(
    private readonly key: CryptoKey,
    private readonly kid: string,
    private readonly algorithm: 'ES256' | 'EdDSA',
    private readonly claims: ServiceTokenClaims,
    private readonly now: () => number,
  ) {}

  /** `privateJwk`: an EC P-256 or Ed25519 private key with its `kid` (the grant names it). */
  static async create(privateJwk: JWK, claims: ServiceTokenClaims, now: () => number = Date.now): Promise<SignedServiceTokens> {
    const algorithm = privateJwk.kty === 'OKP' ? 'EdDSA' : 'ES256';
    if (typeof privateJwk.kid !== 'string') throw new Error('the service token signing JWK needs a "kid"');
    return new SignedServiceTokens((await importJWK(privateJwk, algorithm)) as CryptoKey, privateJwk.kid, algorithm, claims, now);
  }

  async token(): Promise<string> {
    const now = this.now();
    if (this.cached && now < this.cached.renewAt) return this.cached.token;
    const issuedAt = Math.floor(now / 1000);
    const scopes = this.claims.scopes ?? [];
    const token = await new SignJWT({ role: 'service', ...(scopes.length > 0 ? { scope: scopes.join(' ') } : {}) })
      .setProtectedHeader({ alg: this.algorithm, kid: this.kid })
      .setIssuer(this.claims.issuer)
      .setAudience(this.claims.audience)
      .setSubject(this.claims.subject)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + LIFETIME_SECONDS)
      .sign(this.key);
    this.cached = { token, renewAt: now + (LIFETIME_SECONDS - 60) * 1000 };
    return token;
  }
}

/** No key configured: requests go without a token (and the callee refuses them). */
export const noServiceToken: ServiceTokenSource = { token: async () => undefined };
