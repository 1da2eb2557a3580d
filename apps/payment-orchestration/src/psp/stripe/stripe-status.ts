import type { CancellationReason, DisputeObservation, PspObservation, RefundObservation } from '@pay/payments-domain';

/**
 * Stripe's statuses in the payments domain's words. The domain knows PSPs only through these
 * observations; this adapter alone knows what Stripe's statuses mean. Plain fields, read off the
 * SDK's objects by stripe-objects.ts, so the mapping is unit-tested without the SDK.
 */

/** The `provider` of every payment, refund and webhook this adapter reports. */
export const STRIPE_PROVIDER = 'stripe';

/** The fields of a PaymentIntent that decide what it means for the payment (amounts in minor units). */
export interface StripePaymentIntentFacts {
  readonly id: string;
  readonly status: string;
  readonly amountCapturable: bigint;
  /** The PaymentIntent's amount (what a bank debit takes). */
  readonly amount?: bigint;
  readonly amountReceived: bigint;
  readonly lastPaymentError?: { readonly code?: string | null; readonly declineCode?: string | null } | null;
  readonly cancellationReason?: string | null;
  /** Which kinds of payment method the PaymentIntent takes (`card`, `sepa_debit`, `us_bank_account`). */
  readonly paymentMethodTypes?: readonly string[];
}

/** Stripe's bank debits: `processing` for days, then succeeded or failed (late). */
export const STRIPE_BANK_DEBIT_TYPES: readonly string[] = ['sepa_debit', 'us_bank_account'];

const isBankDebit = (facts: StripePaymentIntentFacts): boolean => (facts.paymentMethodTypes ?? []).some((type) => STRIPE_BANK_DEBIT_TYPES.includes(type));

const CODE = /^[a-z][a-z0-9_]{0,63}$/;

/** Stripe codes are snake case; anything else is replaced rather than stored as free text. */
function safeCode(value: string | null | undefined, fallback: string): string {
  return value && CODE.test(value) ? value : fallback;
}

const CANCELLATION: Readonly<Record<string, CancellationReason>> = {
  requested_by_customer: 'requested',
  // Stripe cancels an uncaptured authorisation itself when it expires (7 days for cards).
  automatic: 'authorization_expired',
  expired: 'authorization_expired',
  abandoned: 'abandoned',
  duplicate: 'duplicate',
  fraudulent: 'fraudulent',
};

/**
 * PaymentIntent status -> observation:
 * - requires_payment_method: nothing tried yet (pending), or the last attempt failed (failed with
 *   its codes): Stripe sends a PaymentIntent back there after a decline, and a bank debit after its
 *   bank refused it (marked `bankDebit`: that may come after it succeeded, a return);
 * - requires_confirmation: pending;
 * - processing: a bank debit on its way to the payer's bank (processing, for the amount: it
 *   settles or fails in days); for a card, pending (money on its way, not yet there);
 * - requires_action: the payer must authenticate;
 * - requires_capture: authorised for amount_capturable;
 * - succeeded: captured amount_received;
 * - canceled: canceled, with its reason.
 */
export function observeStripePaymentIntent(facts: StripePaymentIntentFacts): PspObservation {
  const reference = facts.id;
  switch (facts.status) {
    case 'requires_payment_method': {
      const error = facts.lastPaymentError;
      if (!error) return { stage: 'pending', reference };
      const code = safeCode(error.code, 'payment_failed');
      const declineCode = error.declineCode ? safeCode(error.declineCode, 'unknown') : undefined;
      // A bank debit fails late, and may fail after it succeeded (returned by the payer's bank).
      const debit = isBankDebit(facts) ? { bankDebit: true } : {};
      return declineCode === undefined ? { stage: 'failed', reference, code, ...debit } : { stage: 'failed', reference, code, declineCode, ...debit };
    }
    case 'requires_confirmation':
      return { stage: 'pending', reference };
    case 'processing':
      return isBankDebit(facts) && facts.amount !== undefined ? { stage: 'processing', reference, amount: facts.amount } : { stage: 'pending', reference };
    case 'requires_action':
      return { stage: 'requires_action', reference };
    case 'requires_capture':
      return { stage: 'authorized', reference, amount: facts.amountCapturable };
    case 'succeeded':
      return { stage: 'captured', reference, amount: facts.amountReceived };
    case 'canceled':
      return { stage: 'canceled', reference, reason: CANCELLATION[facts.cancellationReason ?? ''] ?? 'psp' };
    default:
      return { stage: 'unrecognized', reference, providerStatus: facts.status };
  }
}

export interface StripeRefundFacts {
  /** Our refund id when we asked for it (sent as metadata), else Stripe's `re_...`. */
  readonly refundId: string;
  readonly status: string | null;
  readonly amount: bigint;
  readonly failureReason?: string | null;
}

/** Refund status -> observation; `requires_action` (some bank refunds) is still pending. */
export function observeStripeRefund(facts: StripeRefundFacts): RefundObservation {
  const base = { refundId: facts.refundId, amount: facts.amount };
  switch (facts.status) {
    case 'succeeded':
      return { ...base, status: 'succeeded' };
    case 'failed':
      return { ...base, status: 'failed', reason: safeCode(facts.failureReason, 'refund_failed') };
    case 'canceled':
      return { ...base, status: 'canceled', reason: 'refund_canceled' };
    default:
      return { ...base, status: 'pending' };
  }
}

export interface StripeDisputeFacts {
  readonly id: string;
  readonly status: string;
  readonly amount: bigint;
  readonly reason: string;
}

/**
 * Dispute status -> observation. `won`, and an inquiry closed without a chargeback
 * (`warning_closed`) or `prevented`, give the money back; `lost` keeps it withdrawn; every other
 * status is still open.
 */
export function observeStripeDispute(facts: StripeDisputeFacts): DisputeObservation {
  const base = { disputeId: facts.id, amount: facts.amount, reason: safeCode(facts.reason, 'general') };
  switch (facts.status) {
    case 'won':
    case 'warning_closed':
    case 'prevented':
      return { ...base, status: 'won' };
    case 'lost':
      return { ...base, status: 'lost' };
    default:
      return { ...base, status: 'open' };
  }
}
