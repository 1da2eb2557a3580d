import type { Money } from '@pay/contracts';

/**
 * A step-up proof: evidence that the person confirmed a payment moments ago (PIN or biometric).
 * It is a compact JWS signed by the wallet and bound to the person (`sub`), an amount ceiling
 * and currency, an expiry, and a unique id (`jti`, so a payment service can use it once).
 * The wallet signs (step-up-signer.ts); anyone holding the wallet's public keys verifies
 * (step-up-verifier.ts), so signing power stays in one service.
 */
export const STEP_UP_PROOF_TYPE = 'step-up+jwt';
/** The audience of every proof: whoever takes payments, never an API gateway (proofs are not access tokens). */
export const STEP_UP_AUDIENCE = 'pay:payments';
export const STEP_UP_METHODS = ['pin', 'biometric'] as const;
export type StepUpMethod = (typeof STEP_UP_METHODS)[number];
/** No proof lives longer than this, whatever its signer says. */
export const STEP_UP_MAX_LIFETIME_SECONDS = 900;
export const STEP_UP_ALGORITHMS = ['ES256', 'EdDSA'] as const;

/** The most a proof allows, in one currency: the `Money` of the contracts. */
export type StepUpCeiling = Money;

/** What a valid proof grants. */
export interface StepUpGrant {
  proofId: string;
  personId: string;
  ceiling: StepUpCeiling;
  method: StepUpMethod;
  issuedAt: Date;
  expiresAt: Date;
}

/** The proof's private claims, beside iss, sub, aud, jti, iat, exp. */
export interface StepUpClaims {
  /** RFC 8176 authentication method references: `pin` or `bio`-like; ours is the method name. */
  amr: [StepUpMethod];
  /** Amount ceiling in minor units, a decimal string (JSON numbers lose precision). */
  max_amount: string;
  currency: string;
}

export type StepUpRefusal = 'malformed' | 'bad-signature' | 'expired' | 'wrong-person' | 'amount-above-ceiling' | 'currency-mismatch' | 'already-used';

/** A proof that must not be accepted; `reason` is for machines, the message for people. */
export class StepUpProofError extends Error {
  override name = 'StepUpProofError';
  constructor(
    readonly reason: StepUpRefusal,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The wallet's public keys could not be had: the wallet is down or slow, answered with an error,
 * or with something that is not a usable key set. The proof may be valid or not, we cannot tell,
 * so this is never a refusal: the payment is neither accepted nor refused, and is asked again
 * later (HTTP 503 with Retry-After; a consumed message is retried, not answered).
 */
export class StepUpKeysUnavailableError extends Error {
  override name = 'StepUpKeysUnavailableError';
  /** Always: asking again once the wallet answers gets the proof checked. */
  readonly retryable = true;
}
