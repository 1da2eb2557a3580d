/** Where an event sits in a payment's story, as an agent reads it. */
export type TimelineStage = 'intake' | 'checks' | 'psp' | 'refund' | 'dispute' | 'ledger';

const STAGES: Readonly<Record<string, TimelineStage>> = {
  'payments.payment.initiated': 'intake',
  'payments.payment.rejected': 'checks',
  'payments.payment.action-required': 'checks',
  'payments.payment.authorized': 'psp',
  'payments.payment.captured': 'psp',
  'payments.payment.failed': 'psp',
  'payments.payment.canceled': 'psp',
  'payments.payment.refund-requested': 'refund',
  'payments.payment.refunded': 'refund',
  'payments.payment.refund-failed': 'refund',
  'payments.payment.dispute-opened': 'dispute',
  'payments.payment.dispute-won': 'dispute',
  'payments.payment.dispute-lost': 'dispute',
  'ledger.transaction.recorded': 'ledger',
};

export function timelineStage(type: string): TimelineStage | undefined {
  return STAGES[type];
}

/** What support knows of a payment's money, in minor units of its currency. */
export interface PaymentMoney {
  readonly captured: bigint;
  /** Every refund asked for (settled, pending or failed). */
  readonly refundRequested: bigint;
  /** Refunds that failed: refundable again. */
  readonly refundFailed: bigint;
}

/** What an agent may still refund: captured, less refunds asked for that did not fail. */
export function refundableAmount(money: PaymentMoney): bigint {
  const left = money.captured - money.refundRequested + money.refundFailed;
  return left > 0n ? left : 0n;
}
