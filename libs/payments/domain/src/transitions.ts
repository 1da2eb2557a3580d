import type { PaymentEventType } from './payment-events';
import type { PaymentStatus } from './payment-status';

/**
 * The state machine, as data: the statuses in which each event is accepted. `apply` refuses an
 * event in any other status; amounts and references are checked on top of this.
 */
export const ACCEPTED_IN: Readonly<Record<PaymentEventType, readonly PaymentStatus[]>> = {
  // Only ever the first event of a stream.
  PaymentInitiated: [],
  ActionRequired: ['initiated'],
  Authorized: ['initiated', 'requires_action'],
  DebitSubmitted: ['initiated', 'requires_action'],
  // From processing: the bank debit settled.
  Captured: ['authorized', 'processing'],
  // From processing: the bank debit failed late (insufficient funds, mandate revoked), after the purchase looked done.
  Failed: ['initiated', 'requires_action', 'processing'],
  // Once captured, money comes back by refund, never by cancellation.
  Canceled: ['initiated', 'requires_action', 'authorized'],
  // A disputed charge cannot be refunded (the bank already took the money back).
  RefundRequested: ['captured', 'partially_refunded'],
  // A refund asked for before a dispute still settles during it.
  Refunded: ['captured', 'partially_refunded', 'disputed'],
  RefundFailed: ['captured', 'partially_refunded', 'disputed'],
  DisputeOpened: ['captured', 'partially_refunded'],
  DisputeWon: ['disputed'],
  DisputeLost: ['disputed'],
};

/** Every status change the machine can make, as `from>to`; anything else is a bug. */
export const STATUS_CHANGES: ReadonlySet<string> = new Set([
  'initiated>requires_action',
  'initiated>authorized',
  'requires_action>authorized',
  'authorized>captured',
  'initiated>processing',
  'requires_action>processing',
  'processing>captured',
  'processing>failed',
  'initiated>failed',
  'requires_action>failed',
  'initiated>canceled',
  'requires_action>canceled',
  'authorized>canceled',
  'captured>partially_refunded',
  'captured>refunded',
  'partially_refunded>refunded',
  'captured>disputed',
  'partially_refunded>disputed',
  // A won dispute returns the payment to what its refunds make it.
  'disputed>captured',
  'disputed>partially_refunded',
  'disputed>refunded',
]);

export function isAllowedStatusChange(from: PaymentStatus, to: PaymentStatus): boolean {
  return from === to || STATUS_CHANGES.has(`${from}>${to}`);
}
