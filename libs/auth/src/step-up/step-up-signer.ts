import { randomUUID } from 'node:crypto';
import { toMinorUnits } from '@pay/contracts';
import type { CryptoKey, JSONWebKeySet, JWK } from 'jose';
import { exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import type { StepUpCeiling, StepUpGrant, StepUpMethod } from './step-up-proof';
import { STEP_UP_AUDIENCE, STEP_UP_MAX_LIFETIME_SECONDS, STEP_UP_PROOF_TYPE } from './step-up-proof';

export interface StepUpSignerOptions {
  /** Private signing key as a JWK with `kid` (EC P-256 for ES256, or Ed25519 for EdDSA). */
  privateJwk: JWK;
  issuer: string;
  ttlSeconds: number;
}

export interface SignedStepUpProof {
  proof: string;
  grant: StepUpGrant;
}

function algorithmOf(jwk: JWK): 'ES256' | 'EdDSA' {
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  throw new Error('the step-up signing key must be an EC P-256 (ES256) or Ed25519 (EdDSA) private JWK');
}

/** Signs step-up proofs. Only the wallet holds one; everyone else verifies with its public keys. */
export class StepUpProofSigner {
  private constructor(
    private readonly key: CryptoKey,
    private readonly publicJwk: JWK,
    private readonly algorithm: 'ES256' | 'EdDSA',
    private readonly issuer: string,
    private readonly ttlSeconds: number,
  ) {}

  static async create(options: StepUpSignerOptions): Promise<StepUpProofSigner> {
    const { privateJwk } = options;
    if (typeof privateJwk.kid !== 'string' || privateJwk.kid.length === 0) throw new Error('the step-up signing key needs a "kid"');
    if (typeof privateJwk.d !== 'string') throw new Error('the step-up signing key must be a private JWK (with "d")');
    if (options.ttlSeconds < 1 || options.ttlSeconds > STEP_UP_MAX_LIFETIME_SECONDS) {
      throw new Error(`the step-up proof lifetime must be 1 to ${STEP_UP_MAX_LIFETIME_SECONDS} seconds`);
    }
    const algorithm = algorithmOf(privateJwk);
    const key = (await importJWK(privateJwk, algorithm)) as CryptoKey;
    const { d: _private, ...publicJwk } = privateJwk;
    return new StepUpProofSigner(key, { ...publicJwk, alg: algorithm, use: 'sig' }, algorithm, options.issuer, options.ttlSeconds);
  }

  /** A fresh key pair, for development and tests only (proofs die with the process). */
  static async generatePrivateJwk(kid = `step-up-${randomUUID()}`): Promise<JWK> {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    return { ...(await exportJWK(privateKey)), kid, alg: 'ES256' };
  }

  /** The public half, as published at `/.well-known/step-up-jwks.json`. */
  publicKeySet(): JSONWebKeySet {
    return { keys: [{ ...this.publicJwk }] };
  }

  async sign(request: { personId: string; ceiling: StepUpCeiling; method: StepUpMethod; now?: Date }): Promise<SignedStepUpProof> {
    if (toMinorUnits(request.ceiling) <= 0n) throw new RangeError('a step-up ceiling must be a positive amount');
    const issuedAt = Math.floor((request.now ?? new Date()).getTime() / 1000);
    const expiresAt = issuedAt + this.ttlSeconds;
    const proofId = randomUUID();
    const proof = await new SignJWT({ amr: [request.method], max_amount: request.ceiling.amount, currency: request.ceiling.currency })
      .setProtectedHeader({ alg: this.algorithm, typ: STEP_UP_PROOF_TYPE, kid: this.publicJwk.kid })
      .setIssuer(this.issuer)
      .setSubject(request.personId)
      .setAudience(STEP_UP_AUDIENCE)
      .setJti(proofId)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(this.key);
    return {
      proof,
      grant: {
        proofId,
        personId: request.personId,
        ceiling: { amount: request.ceiling.amount, currency: request.ceiling.currency },
        method: request.method,
        issuedAt: new Date(issuedAt * 1000),
        expiresAt: new Date(expiresAt * 1000),
      },
    };
  }
}
