import type { StepUpGrant, StepUpProofVerifier, StepUpThresholds } from '@pay/auth';
import { StepUpProofError, stepUpRequired } from '@pay/auth';
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

export type StepUpOutcome = { readonly ok: true; readonly grant?: StepUpGrant } | { readonly ok: false; readonly refusal: PurchaseRefusal };

/**
 * Above the currency's threshold a payment needs the wallet's step-up proof: signed by the wallet,
 * for this person, currency and at least this amount, not expired. Verification only; that the
 * proof was not used before is decided where the payment is written (one transaction).
 */
export async function checkStepUp(request: PurchaseRequest, thresholds: StepUpThresholds, verifier: StepUpProofVerifier): Promise<StepUpOutcome> {
  if (!stepUpRequired(request.amount, request.currency, thresholds)) return { ok: true };
  if (!request.stepUpProof) {
    return { ok: false, refusal: new PurchaseRefusal('STEP_UP_REQUIRED', 'this amount needs the payer to confirm with their PIN or biometrics: send stepUpProof') };
  }
  try {
    const grant = await verifier.verify(request.stepUpProof, { personId: request.personId, amount: request.amount, currency: request.currency });
    return { ok: true, grant };
  } catch (error) {
    if (error instanceof StepUpProofError) return { ok: false, refusal: new PurchaseRefusal(CODE_OF[error.reason], error.message) };
    throw error;
  }
}
