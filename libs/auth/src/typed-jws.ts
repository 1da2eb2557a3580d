import { randomUUID } from 'node:crypto';
import type { CryptoKey, JWK, JWTPayload } from 'jose';
import { importJWK, SignJWT } from 'jose';

/**
 * A kind of signed statement a service makes with its own key (a support case, a mandate
 * attestation, a refund approval): its `typ` (so it is never taken as an access token, nor an
 * access token as it), the subject the key signs for and the scope its grant in `AUTH_KEY_GRANTS`
 * must hold to make it, and how long one is good for. The verifier checks all of it
 * (`AccessTokenVerifier.verifyTypedJws`), so a kind's key, grant and lifetime are named once.
 */
export interface TypedJwsKind {
  /** What it is called in errors, e.g. "support case". */
  readonly name: string;
  readonly type: string;
  readonly subject: string;
  readonly scope: string;
  readonly lifetimeSeconds: number;
  /** Whether each carries an id of its own (`jti`), which its verifier then requires. */
  readonly withId: boolean;
  /** Skew allowed on its expiry, when less than the access tokens' (`clockToleranceSeconds`). */
  readonly clockToleranceSeconds?: number;
}

/** Signs statements of one kind with a service's private JWK (the same key and `kid` as its service tokens, so its grant bounds them). */
export class TypedJwsSigner {
  private constructor(
    private readonly kind: TypedJwsKind,
    private readonly key: CryptoKey,
    private readonly kid: string,
    private readonly algorithm: 'ES256' | 'EdDSA',
    private readonly claims: { issuer: string; audience: string },
    private readonly now: () => number,
  ) {}

  static async create(
    kind: TypedJwsKind,
    privateJwk: JWK,
    claims: { issuer: string; audience: string },
    now: () => number = Date.now,
  ): Promise<TypedJwsSigner> {
    const algorithm = privateJwk.kty === 'OKP' ? 'EdDSA' : 'ES256';
    if (typeof privateJwk.kid !== 'string') throw new Error(`the JWK that signs a ${kind.name} needs a "kid"`);
    return new TypedJwsSigner(kind, (await importJWK(privateJwk, algorithm)) as CryptoKey, privateJwk.kid, algorithm, claims, now);
  }

  /** The signer's clock (ms since the epoch): what a statement says happened "now". */
  time(): number {
    return this.now();
  }

  /** A statement of this kind with these claims, issued now, with a new id if the kind has one. */
  async sign(payload: JWTPayload): Promise<string> {
    const issuedAt = Math.floor(this.now() / 1000);
    const jws = new SignJWT(payload)
      .setProtectedHeader({ alg: this.algorithm, kid: this.kid, typ: this.kind.type })
      .setIssuer(this.claims.issuer)
      .setAudience(this.claims.audience)
      .setSubject(this.kind.subject)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + this.kind.lifetimeSeconds);
    if (this.kind.withId) jws.setJti(randomUUID());
    return jws.sign(this.key);
  }
}
