/** A payment as the wallet knows it from payments.events.v1 (`payments_in_progress`). */
export interface KnownPayment {
  readonly paymentId: string;
  /** Null when a later event arrived first (it does not name the payer): such a payment releases nothing. */
  readonly payerId: string | null;
  readonly paymentMethodId: string | null;
  readonly app: string | null;
  /** `awaiting_charge` until the payment is authorised, charged, processing, failed or cancelled. */
  readonly stage: 'awaiting_charge' | 'past_charge';
}

/** What payment-orchestration asks to charge: a payment, its payer, the method and the app. */
export interface ReleaseAsk {
  readonly paymentId: string;
  readonly personId: string;
  readonly methodId: string;
  readonly app: string;
}

/**
 * Why a release is refused, or undefined when the payment needs this instrument now.
 * - `PAYMENT_NOT_KNOWN_YET`: the wallet has not seen the payment (its events lag behind the first
 *   charge attempt, or it does not exist): ask again later, nothing is released meanwhile;
 * - `PAYMENT_NOT_FOUND`: a payment of another payer, method or app: as if there were none;
 * - `PAYMENT_NOT_AWAITING_CHARGE`: the payment was charged, failed or was cancelled already.
 */
export type ReleaseRefusal = 'PAYMENT_NOT_KNOWN_YET' | 'PAYMENT_NOT_FOUND' | 'PAYMENT_NOT_AWAITING_CHARGE';

export function instrumentReleaseRefusal(payment: KnownPayment | undefined, ask: ReleaseAsk): ReleaseRefusal | undefined {
  if (!payment) return 'PAYMENT_NOT_KNOWN_YET';
  if (payment.stage !== 'awaiting_charge') return 'PAYMENT_NOT_AWAITING_CHARGE';
  if (payment.payerId !== ask.personId || payment.paymentMethodId !== ask.methodId || payment.app !== ask.app) return 'PAYMENT_NOT_FOUND';
  return undefined;
}
