/**
 * The states of a payment. The state machine (transitions.ts) says which events move a
 * payment from one to another; nothing else changes a payment's status.
 */
export const PAYMENT_STATUSES = [
  'initiated',
  'requires_action',
  'authorized',
  /** A bank debit is on its way (days); it settles (captured) or fails late. */
  'processing',
  'captured',
  'partially_refunded',
  'refunded',
  'failed',
  'canceled',
  'disputed',
] as const;

export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** A payment in one of these never moves again: no PSP news can revive it. */
export const FINAL_STATUSES: ReadonlySet<PaymentStatus> = new Set<PaymentStatus>(['failed', 'canceled']);

/**
 * How far money has moved, for the "never go backwards" rule: a PSP observation of a lower
 * stage than the payment's is stale news (webhooks arrive late and out of order). Every status
 * once money was captured shares the top stage: refunds and disputes follow a capture, they
 * are not progress of the authorisation.
 */
export const PROGRESS_STAGE: Readonly<Record<PaymentStatus, number>> = {
  initiated: 0,
  requires_action: 1,
  authorized: 2,
  processing: 2,
  captured: 3,
  partially_refunded: 3,
  refunded: 3,
  disputed: 3,
  failed: 0,
  canceled: 0,
};

/** Captured at some point: money moved from the payer. */
export function hasCaptured(status: PaymentStatus): boolean {
  return PROGRESS_STAGE[status] === 3;
}
