import type { CryptoKey, JWK } from 'jose';
import { importJWK, SignJWT } from 'jose';

/** Where this service's access tokens for other services come from. */
export interface ServiceTokenSource {
  token(): Promise<string | undefined>;
}

const LIFETIME_SECONDS = 300;

/** What this service's own tokens ask for: reading the instrument of the payment it charges. */
export const SERVICE_TOKEN_SCOPES = ['instruments:read'] as const;

/**
 * Short-lived access tokens this service signs itself (role `service`, subject
 * `payment-orchestration`, scope `instruments:read`), with a key whose public half the identity
 * provider publishes in the JWKS the other services trust, and whose grant (`AUTH_KEY_GRANTS`)
 * limits it to that subject, role and scope. Reused until a minute before expiry.
 */
export class SignedServiceTokens implements ServiceTokenSource {
  private cached?: { token: string; renewAt: number };

  private constructor(
    private readonly key: CryptoKey,
    private readonly kid: string,
    private readonly algorithm: 'ES256' | 'EdDSA',
    private readonly claims: { issuer: string; audience: string; subject: string },
  ) {}

  static async create(privateJwk: JWK, claims: { issuer: string; audience: string; subject: string }): Promise<SignedServiceTokens> {
    const algorithm = privateJwk.kty === 'OKP' ? 'EdDSA' : 'ES256';
    if (typeof privateJwk.kid !== 'string') throw new Error('SERVICE_TOKEN_SIGNING_JWK needs a "kid"');
    return new SignedServiceTokens((await importJWK(privateJwk, algorithm)) as CryptoKey, privateJwk.kid, algorithm, claims);
  }

  async token(): Promise<string> {
    const now = Date.now();
    if (this.cached && now < this.cached.renewAt) return this.cached.token;
    const issuedAt = Math.floor(now / 1000);
    const token = await new SignJWT({ role: 'service', scope: SERVICE_TOKEN_SCOPES.join(' ') })
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

/** No key configured: requests go without a token (and the wallet refuses them, which is logged). */
export const noServiceToken: ServiceTokenSource = { token: async () => undefined };
