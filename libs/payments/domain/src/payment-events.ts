/**
 * The domain events of a payment: the only way its state changes. They are plain data (amounts
 * as bigint minor units, in the payment's currency) so that the store can persist them and the
 * contracts can publish them without the domain knowing either.
 */

export const PAYMENT_KINDS = ['purchase', 'donation', 'transfer'] as const;
export type PaymentKind = (typeof PAYMENT_KINDS)[number];

export const COUNTERPARTY_TYPES = ['merchant', 'non-profit', 'person'] as const;
export type CounterpartyType = (typeof COUNTERPARTY_TYPES)[number];

/** Manual capture authorises first and captures later (e.g. on shipment); automatic does both at once. */
export const CAPTURE_METHODS = ['automatic', 'manual'] as const;
export type CaptureMethod = (typeof CAPTURE_METHODS)[number];

export const CANCELLATION_REASONS = ['requested', 'authorization_expired', 'abandoned', 'duplicate', 'fraudulent', 'failed_checks', 'psp'] as const;
export type CancellationReason = (typeof CANCELLATION_REASONS)[number];

export const REFUND_REASONS = ['requested_by_customer', 'duplicate', 'fraudulent', 'psp'] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];

export interface Counterparty {
  readonly type: CounterpartyType;
  readonly id: string;
}

/** A payment exists: who pays whom, how much, for which app. Always the first event of a stream. */
export interface PaymentInitiated {
  readonly type: 'PaymentInitiated';
  readonly paymentId: string;
  /** The app's idempotency key of the request that created this payment. */
  readonly requestId: string;
  readonly kind: PaymentKind;
  readonly payerId: string;
  readonly counterparty: Counterparty;
  readonly app: string;
  readonly country: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly captureMethod: CaptureMethod;
  readonly paymentMethodId?: string;
  /** ISO 18245 merchant category code, when the app sent one (ad-signal dimension). */
  readonly merchantCategory?: string;
}

/** The provider needs the payer (3-D Secure, bank redirect) before it can authorise. */
export interface ActionRequired {
  readonly type: 'ActionRequired';
  /** Who holds the authorisation: `stripe`, or `wallet` for a transfer from balance. */
  readonly provider: string;
  /** The provider's id of it (a Stripe PaymentIntent, a wallet reservation). */
  readonly reference: string;
}

/** Funds are held for this payment (card authorisation, wallet reservation). */
export interface Authorized {
  readonly type: 'Authorized';
  readonly amount: bigint;
  readonly provider: string;
  readonly reference: string;
}

/**
 * A bank debit (SEPA Direct Debit, ACH) was accepted by the provider and sent to the payer's
 * bank: the money arrives in days (`Captured`) or the debit fails late (`Failed`). Until then the
 * amount is owed, not received.
 */
export interface DebitSubmitted {
  readonly type: 'DebitSubmitted';
  readonly amount: bigint;
  readonly provider: string;
  readonly reference: string;
}

/** Money moved: at most the authorised amount (a smaller capture releases the rest). */
export interface Captured {
  readonly type: 'Captured';
  readonly amount: bigint;
}

/** The provider refused (decline, failed authentication). Codes only: no provider free text. */
export interface Failed {
  readonly type: 'Failed';
  readonly code: string;
  readonly declineCode?: string;
}

/** Stopped before money moved; an authorisation is released. */
export interface Canceled {
  readonly type: 'Canceled';
  readonly reason: CancellationReason;
}

/** A refund was asked of the provider; its amount is reserved against the captured amount until it settles. */
export interface RefundRequested {
  readonly type: 'RefundRequested';
  readonly refundId: string;
  readonly amount: bigint;
  readonly reason: RefundReason;
}

/** A refund settled. Partial while the refunded total is below the captured amount, full when equal. */
export interface Refunded {
  readonly type: 'Refunded';
  readonly refundId: string;
  readonly amount: bigint;
}

/** A requested refund did not happen; its amount is refundable again. */
export interface RefundFailed {
  readonly type: 'RefundFailed';
  readonly refundId: string;
  readonly reason: string;
}

/** The payer's bank disputes the charge (chargeback); the disputed amount is withdrawn meanwhile. */
export interface DisputeOpened {
  readonly type: 'DisputeOpened';
  readonly disputeId: string;
  readonly amount: bigint;
  readonly reason: string;
}

/** The dispute was decided for the merchant: the money comes back. */
export interface DisputeWon {
  readonly type: 'DisputeWon';
  readonly disputeId: string;
}

/** The dispute was decided for the payer: the disputed amount is gone for good. */
export interface DisputeLost {
  readonly type: 'DisputeLost';
  readonly disputeId: string;
}

export type PaymentEvent =
  | PaymentInitiated
  | ActionRequired
  | Authorized
  | DebitSubmitted
  | Captured
  | Failed
  | Canceled
  | RefundRequested
  | Refunded
  | RefundFailed
  | DisputeOpened
  | DisputeWon
  | DisputeLost;

export type PaymentEventType = PaymentEvent['type'];

export const PAYMENT_EVENT_TYPES = [
  'PaymentInitiated',
  'ActionRequired',
  'Authorized',
  'DebitSubmitted',
  'Captured',
  'Failed',
  'Canceled',
  'RefundRequested',
  'Refunded',
  'RefundFailed',
  'DisputeOpened',
  'DisputeWon',
  'DisputeLost',
] as const satisfies readonly PaymentEventType[];
