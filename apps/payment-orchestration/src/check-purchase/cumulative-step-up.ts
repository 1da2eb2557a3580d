import type { StepUpThresholds } from '@pay/auth';
import { PurchaseRefusal } from './purchase-refusal';

/**
 * Cumulative step-up, in the spirit of PSD2's low-value exemption: payments each below the
 * step-up threshold still need a proof once those accepted without one since the last proof
 * would exceed a count (`STEP_UP_MAX_UNCONFIRMED_PAYMENTS`) or an amount per currency
 * (`STEP_UP_CUMULATIVE_AMOUNTS`; a currency not listed is limited by the count alone).
 */
export interface CumulativeStepUpLimits {
  readonly maxUnconfirmedPayments: number;
  readonly maxUnconfirmedAmounts: StepUpThresholds;
}

/** What a payer has been let through without a proof since the last one, in one currency. */
export interface UnconfirmedSpending {
  readonly payments: number;
  readonly amount: bigint;
}

/** Whether a payment without a proof must be refused (STEP_UP_REQUIRED), and why; undefined when it may go through. */
export function cumulativeStepUpRefusal(
  spent: UnconfirmedSpending,
  amount: bigint,
  currency: string,
  limits: CumulativeStepUpLimits,
): PurchaseRefusal | undefined {
  if (spent.payments + 1 > limits.maxUnconfirmedPayments) {
    return new PurchaseRefusal(
      'STEP_UP_REQUIRED',
      `${spent.payments} payments were made without confirmation since the last one (at most ${limits.maxUnconfirmedPayments}): the payer confirms this one with their PIN or biometrics (stepUpProof)`,
    );
  }
  const maxAmount = limits.maxUnconfirmedAmounts.get(currency);
  if (maxAmount !== undefined && spent.amount + amount > maxAmount) {
    return new PurchaseRefusal(
      'STEP_UP_REQUIRED',
      `payments without confirmation since the last one would add up to more than ${maxAmount} ${currency} (minor units): the payer confirms this one with their PIN or biometrics (stepUpProof)`,
    );
  }
  return undefined;
}
