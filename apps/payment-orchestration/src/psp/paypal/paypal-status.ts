import type { DisputeObservation, PspObservation, RefundObservation } from '@pay/payments-domain';

/**
 * PayPal's statuses in the payments domain's words: plain fields read off the SDK's objects by
 * paypal-objects.ts, so the mapping is unit-tested without the SDK. The reference of a PayPal
 * payment is its order id (captures and refunds hang off it).
 */

/** The `provider` of every payment, refund and webhook this adapter reports. */
export const PAYPAL_PROVIDER = 'paypal';

export interface PayPalOrderFacts {
  readonly orderId: string;
  readonly status: string;
  /** The order's capture, when there is one (one purchase unit, intent CAPTURE: at most one capture). */
  readonly capture?: { readonly status: string; readonly amount: bigint; readonly reason?: string };
  /** The order's authorisation (intent AUTHORIZE: manual capture), when there is one; its capture, if any, is `capture`. */
  readonly authorization?: { readonly status: string; readonly amount: bigint };
}

const CODE = /^[a-z][a-z0-9_]{0,63}$/;

/** PayPal's issue names (`INSTRUMENT_DECLINED`) as our codes (`instrument_declined`); anything else replaced. */
export function payPalCode(value: string | undefined, fallback: string): string {
  const code = value?.toLowerCase();
  return code && CODE.test(code) ? code : fallback;
}

/**
 * Order (and its capture) -> observation:
 * - a capture COMPLETED, PARTIALLY_REFUNDED or REFUNDED: captured for its amount (refunds are news of their own);
 * - a capture PENDING (e.g. PENDING_REVIEW, an eCheck): pending, money on its way;
 * - a capture DECLINED or FAILED: failed (`capture_declined`, with the reason when PayPal gives one);
 * - no capture, an authorisation (intent AUTHORIZE): CREATED or PENDING is authorized for its amount,
 *   VOIDED canceled (our void: requested), EXPIRED canceled (authorization_expired);
 * - no capture: CREATED, SAVED, APPROVED are pending (a capture is still to come), PAYER_ACTION_REQUIRED
 *   needs the payer, VOIDED is canceled.
 */
export function observePayPalOrder(facts: PayPalOrderFacts): PspObservation {
  const reference = facts.orderId;
  const capture = facts.capture;
  if (capture) {
    switch (capture.status) {
      case 'COMPLETED':
      case 'PARTIALLY_REFUNDED':
      case 'REFUNDED':
        return { stage: 'captured', reference, amount: capture.amount };
      case 'PENDING':
        return { stage: 'pending', reference };
      case 'DECLINED':
      case 'FAILED':
        return capture.reason
          ? { stage: 'failed', reference, code: 'capture_declined', declineCode: payPalCode(capture.reason, 'unknown') }
          : { stage: 'failed', reference, code: 'capture_declined' };
      default:
        return { stage: 'unrecognized', reference, providerStatus: `capture ${capture.status}` };
    }
  }
  const authorization = facts.authorization;
  if (authorization) {
    switch (authorization.status) {
      case 'CREATED':
      case 'PENDING':
        return { stage: 'authorized', reference, amount: authorization.amount };
      case 'VOIDED':
        return { stage: 'canceled', reference, reason: 'requested' };
      case 'EXPIRED':
        return { stage: 'canceled', reference, reason: 'authorization_expired' };
      default:
        return { stage: 'unrecognized', reference, providerStatus: `authorization ${authorization.status}` };
    }
  }
  switch (facts.status) {
    case 'CREATED':
    case 'SAVED':
    case 'APPROVED':
      return { stage: 'pending', reference };
    case 'PAYER_ACTION_REQUIRED':
      return { stage: 'requires_action', reference };
    case 'VOIDED':
      return { stage: 'canceled', reference, reason: 'psp' };
    default:
      return { stage: 'unrecognized', reference, providerStatus: facts.status };
  }
}

export interface PayPalRefundFacts {
  /** Our refund id (sent in custom_id), else PayPal's. */
  readonly refundId: string;
  readonly status: string;
  readonly amount: bigint;
  readonly reason?: string;
}

/** Refund status -> observation: COMPLETED succeeded, PENDING pending, FAILED failed, CANCELLED canceled. */
export function observePayPalRefund(facts: PayPalRefundFacts): RefundObservation {
  const base = { refundId: facts.refundId, amount: facts.amount };
  switch (facts.status) {
    case 'COMPLETED':
      return { ...base, status: 'succeeded' };
    case 'FAILED':
      return { ...base, status: 'failed', reason: payPalCode(facts.reason, 'refund_failed') };
    case 'CANCELLED':
      return { ...base, status: 'canceled' };
    default:
      return { ...base, status: 'pending' };
  }
}

export interface PayPalDisputeFacts {
  readonly disputeId: string;
  readonly status: string;
  /** `dispute_outcome.outcome_code` once resolved. */
  readonly outcome?: string;
  readonly amount: bigint;
  readonly reason?: string;
}

/**
 * Dispute (Customer Disputes v1) -> observation, like a card chargeback: RESOLVED for the buyer
 * (the money stays with them) is lost, for the seller (or canceled by the buyer) won; anything
 * else, or a resolution this code does not know, is still open.
 */
export function observePayPalDispute(facts: PayPalDisputeFacts): DisputeObservation {
  const base = { disputeId: facts.disputeId, amount: facts.amount, reason: payPalCode(facts.reason, 'general') };
  if (facts.status !== 'RESOLVED') return { ...base, status: 'open' };
  switch (facts.outcome) {
    case 'RESOLVED_BUYER_FAVOUR':
      return { ...base, status: 'lost' };
    case 'RESOLVED_SELLER_FAVOUR':
    case 'CANCELED_BY_BUYER':
      return { ...base, status: 'won' };
    default:
      return { ...base, status: 'open' };
  }
}
