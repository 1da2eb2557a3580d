import type { CryptoKey, JWK } from 'jose';
import { importJWK, SignJWT } from 'jose';

const LIFETIME_SECONDS = 300;
/** The one scope its grant allows: orchestration's refund route needs it (and takes `support` for any payment). */
const REFUND_SCOPE = 'payments:refund';

/**
 * Short-lived access tokens the support service signs itself (role `service`, subject `support`)
 * with scope `payments:refund`, for payment-orchestration's refund route; the key's grant
 * (AUTH_KEY_GRANTS) limits it to that subject, role and scope. Reused until a minute before expiry. (Like orchestration's own service tokens;
 * an app may not import another app, so the few lines are repeated here.)
 */
export class SupportServiceTokens {
  private cached?: { token: string; renewAt: number };

  private constructor(
    private readonly key: CryptoKey,
    private readonly kid: string,
    private readonly algorithm: 'ES256' | 'EdDSA',
    private readonly claims: { issuer: string; audience: string },
  ) {}

  static async create(privateJwk: JWK, claims: { issuer: string; audience: string }): Promise<SupportServiceTokens> {
    const algorithm = privateJwk.kty === 'OKP' ? 'EdDSA' : 'ES256';
    return new SupportServiceTokens((await importJWK(privateJwk, algorithm)) as CryptoKey, String(privateJwk.kid), algorithm, claims);
  }

  async token(): Promise<string> {
    const now = Date.now();
    if (this.cached && now < this.cached.renewAt) return this.cached.token;
    const issuedAt = Math.floor(now / 1000);
    const token = await new SignJWT({ role: 'service', scope: REFUND_SCOPE })
      .setProtectedHeader({ alg: this.algorithm, kid: this.kid })
      .setIssuer(this.claims.issuer)
      .setAudience(this.claims.audience)
      .setSubject('support')
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + LIFETIME_SECONDS)
      .sign(this.key);
    this.cached = { token, renewAt: now + (LIFETIME_SECONDS - 60) * 1000 };
    return token;
  }
}
