import { createHash } from 'node:crypto';
import type { Principal } from '@pay/auth';
import type { CryptoKey, JWK } from 'jose';
import { importJWK, jwtVerify, SignJWT } from 'jose';

/**
 * The dead-letter header in which orchestration attests who sent a purchase request: a JWS it signs
 * with its own key when it dead-letters a request whose sender's token it verified (the token itself
 * is never kept). `npm run dlq:replay` re-publishes the request with it and an operator's token.
 */
export const SENDER_ATTESTATION_HEADER = 'sender-attestation';

const TYPE = 'sender-attestation+jwt';
const ISSUER = 'payment-orchestration';
/** As long as a dead letter is kept (the dead-letter topics' 7-day retention). */
export const SENDER_ATTESTATION_LIFETIME_SECONDS = 7 * 24 * 3600;

const SUBJECT = /^[A-Za-z0-9_.:-]{1,100}$/;
const APP = /^[a-z][a-z0-9-]{0,40}$/;
const SCOPE = /^[a-z][a-z-]{0,40}:[a-z][a-z-]{0,40}$/;

/** What orchestration attests: this sender (as its token said, verified as of `verifiedAt`) wrote exactly this record value. */
export interface AttestedSender {
  readonly sender: Pick<Principal, 'subject' | 'role' | 'scopes' | 'app'>;
  /** When the token was judged: the record's timestamp (ISO-8601). */
  readonly verifiedAt: string;
  /** SHA-256 of the record's value bytes, base64url. */
  readonly valueSha256: string;
}

export class AttestationRefused extends Error {
  override name = 'AttestationRefused';
}

export function sha256Of(value: Buffer | null | undefined): string {
  return createHash('sha256')
    .update(value ?? Buffer.alloc(0))
    .digest('base64url');
}

/**
 * Signs and checks sender attestations with orchestration's own key (`SERVICE_TOKEN_SIGNING_JWK`):
 * only orchestration's own statements are taken, not what any other key of the key set signs. An
 * attestation signed before a rotation of that key is not accepted after it.
 */
export class SenderAttestations {
  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    private readonly kid: string,
    private readonly algorithm: 'ES256' | 'EdDSA',
    private readonly now: () => number,
  ) {}

  static async create(privateJwk: JWK, now: () => number = Date.now): Promise<SenderAttestations> {
    const algorithm = privateJwk.kty === 'OKP' ? 'EdDSA' : 'ES256';
    if (typeof privateJwk.kid !== 'string') throw new Error('the service token signing JWK needs a "kid"');
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const { d, ...publicJwk } = privateJwk;
    return new SenderAttestations(
      (await importJWK(privateJwk, algorithm)) as CryptoKey,
      (await importJWK(publicJwk, algorithm)) as CryptoKey,
      privateJwk.kid,
      algorithm,
      now,
    );
  }

  async sign(attested: AttestedSender): Promise<string> {
    const issuedAt = Math.floor(this.now() / 1000);
    const { subject, role, scopes, app } = attested.sender;
    return new SignJWT({
      sender: { sub: subject, role, scope: scopes.join(' '), ...(app ? { app } : {}) },
      verified_at: attested.verifiedAt,
      value_sha256: attested.valueSha256,
    })
      .setProtectedHeader({ alg: this.algorithm, kid: this.kid, typ: TYPE })
      .setIssuer(ISSUER)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + SENDER_ATTESTATION_LIFETIME_SECONDS)
      .sign(this.privateKey);
  }

  /** The attestation's content, or AttestationRefused saying what was wrong. */
  async verify(token: string): Promise<AttestedSender> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.publicKey, {
        issuer: ISSUER,
        typ: TYPE,
        algorithms: [this.algorithm],
        requiredClaims: ['exp', 'iat'],
        currentDate: new Date(this.now()),
      }));
    } catch {
      throw new AttestationRefused('the sender attestation is not one payment-orchestration signed, or it has expired');
    }
    const sender = (payload.sender ?? {}) as Record<string, unknown>;
    const scopes = typeof sender.scope === 'string' ? sender.scope.split(' ').filter(Boolean) : undefined;
    if (
      typeof sender.sub !== 'string' ||
      !SUBJECT.test(sender.sub) ||
      sender.role !== 'service' ||
      !scopes?.every((scope) => SCOPE.test(scope)) ||
      (sender.app !== undefined && (typeof sender.app !== 'string' || !APP.test(sender.app))) ||
      typeof payload.verified_at !== 'string' ||
      typeof payload.value_sha256 !== 'string'
    ) {
      throw new AttestationRefused('the sender attestation does not name a sender, when it was verified and the request it is for');
    }
    return {
      sender: { subject: sender.sub, role: 'service', scopes, ...(typeof sender.app === 'string' ? { app: sender.app } : {}) },
      verifiedAt: payload.verified_at,
      valueSha256: payload.value_sha256,
    };
  }
}
