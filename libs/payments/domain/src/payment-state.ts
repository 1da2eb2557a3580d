import type { CancellationReason, CaptureMethod, Counterparty, PaymentKind, RefundReason } from './payment-events';
import type { PaymentStatus } from './payment-status';

export interface RefundRecord {
  readonly refundId: string;
  readonly amount: bigint;
  readonly reason: RefundReason;
  readonly status: 'pending' | 'succeeded' | 'failed';
}

export interface DisputeRecord {
  readonly disputeId: string;
  readonly amount: bigint;
  readonly reason: string;
  readonly outcome: 'open' | 'won' | 'lost';
}

/**
 * A payment as its events made it. Plain, immutable data: equal histories give deeply equal
 * states, which is what the rehydration property checks.
 *
 * Invariant kept by `applyPaymentEvent`:
 *   refunded + pending refunds + open or lost dispute <= captured <= authorized <= amount.
 */
export interface PaymentState {
  readonly paymentId: string;
  readonly requestId: string;
  readonly kind: PaymentKind;
  readonly payerId: string;
  readonly counterparty: Counterparty;
  readonly app: string;
  readonly country: string;
  readonly currency: string;
  readonly amount: bigint;
  readonly captureMethod: CaptureMethod;
  readonly paymentMethodId?: string;
  readonly status: PaymentStatus;
  /** Number of events applied: the stream position of the last one. */
  readonly version: number;
  readonly provider?: string;
  readonly reference?: string;
  readonly authorizedAmount: bigint;
  readonly capturedAmount: bigint;
  readonly refundedAmount: bigint;
  readonly refunds: readonly RefundRecord[];
  readonly dispute?: DisputeRecord;
  readonly failure?: { readonly code: string; readonly declineCode?: string };
  readonly cancellationReason?: CancellationReason;
}

/** Sum of refunds asked for that have not settled yet. */
export function pendingRefundAmount(state: PaymentState): bigint {
  return state.refunds.reduce((sum, refund) => (refund.status === 'pending' ? sum + refund.amount : sum), 0n);
}

/** The disputed amount the merchant does not have (open or lost dispute). */
export function withheldByDispute(state: PaymentState): bigint {
  return state.dispute && state.dispute.outcome !== 'won' ? state.dispute.amount : 0n;
}

/** What may still be refunded: captured, less what is refunded, being refunded or withheld by a dispute. */
export function refundableAmount(state: PaymentState): bigint {
  return state.capturedAmount - state.refundedAmount - pendingRefundAmount(state) - withheldByDispute(state);
}

export function findRefund(state: PaymentState, refundId: string): RefundRecord | undefined {
  return state.refunds.find((refund) => refund.refundId === refundId);
}
