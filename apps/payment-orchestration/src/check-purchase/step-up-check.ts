import type { StepUpGrant, StepUpProofVerifier, StepUpThresholds } from '@pay/auth';
import { StepUpKeysUnavailableError, StepUpProofError, stepUpRequired } from '@pay/auth';
import type { PaymentRejectionCode } from '@pay/contracts';
import { PurchaseRefusal } from './purchase-refusal';
import type { PurchaseRequest } from './purchase-request';

const CODE_OF: Readonly<Record<StepUpProofError['reason'], PaymentRejectionCode>> = {
  malformed: 'STEP_UP_PROOF_INVALID',
  'bad-signature': 'STEP_UP_PROOF_INVALID',
  'wrong-person': 'STEP_UP_PROOF_INVALID',
  'currency-mismatch': 'STEP_UP_PROOF_INVALID',
  expired: 'STEP_UP_PROOF_EXPIRED',
  'amount-above-ceiling': 'STEP_UP_AMOUNT_ABOVE_CEILING',
  'already-used': 'STEP_UP_PROOF_ALREADY_USED',
};

/**
 * `passed` (with the grant when a proof was needed), `refused` (a final answer with its code), or
 * `unavailable`: the wallet's keys could not be fetched, so the proof is unchecked — not a refusal
 * and not a rejection code; the request is decided later (HTTP 503, a Kafka message retried).
 */
export type StepUpOutcome =
  | { readonly outcome: 'passed'; readonly grant?: StepUpGrant }
  | { readonly outcome: 'refused'; readonly refusal: PurchaseRefusal }
  | { readonly outcome: 'unavailable'; readonly error: StepUpKeysUnavailableError };

/**
 * Above the currency's threshold a payment needs the wallet's step-up proof: signed by the wallet,
 * for this person, currency and at least this amount, not expired. Verification only; that the
 * proof was not used before is decided where the payment is written (one transaction). A proof
 * sent with a smaller payment is checked the same way: it resets the payer's cumulative allowance
 * (payments without a proof since the last one, see cumulative-step-up.ts), which is also decided
 * where the payment is written.
 */
export async function checkStepUp(request: PurchaseRequest, thresholds: StepUpThresholds, verifier: StepUpProofVerifier): Promise<StepUpOutcome> {
  if (!stepUpRequired(request.amount, thresholds) && !request.stepUpProof) return { outcome: 'passed' };
  if (!request.stepUpProof) {
    return {
      outcome: 'refused',
      refusal: new PurchaseRefusal('STEP_UP_REQUIRED', 'this amount needs the payer to confirm with their PIN or biometrics: send stepUpProof'),
    };
  }
  try {
    const grant = await verifier.verify(request.stepUpProof, { personId: request.payerId, amount: request.amount });
    return { outcome: 'passed', grant };
  } catch (error) {
    if (error instanceof StepUpProofError) return { outcome: 'refused', refusal: new PurchaseRefusal(CODE_OF[error.reason], error.message) };
    if (error instanceof StepUpKeysUnavailableError) return { outcome: 'unavailable', error };
    throw error;
  }
}
