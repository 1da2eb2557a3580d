import type { PaymentState } from '@pay/payments-domain';

/**
 * How a payment's state is kept in `payments.state` (jsonb): its fields as they are, with every
 * amount as a decimal string (JSON has no bigint). Written only by the event store, from states
 * the domain produced, in the transaction of the append that produced them.
 */
const money = (value: bigint): string => value.toString();
const amountOf = (value: unknown): bigint => {
  if (typeof value !== 'string' || !/^-?[0-9]+$/.test(value))
    throw new TypeError(`a kept payment state holds an amount that is not a whole number: ${String(value)}`);
  return BigInt(value);
};

export function encodePaymentState(state: PaymentState): string {
  return JSON.stringify({
    ...state,
    amount: money(state.amount),
    authorizedAmount: money(state.authorizedAmount),
    capturedAmount: money(state.capturedAmount),
    refundedAmount: money(state.refundedAmount),
    refunds: state.refunds.map((refund) => ({ ...refund, amount: money(refund.amount) })),
    ...(state.dispute ? { dispute: { ...state.dispute, amount: money(state.dispute.amount) } } : {}),
  });
}

export function decodePaymentState(kept: Record<string, unknown>): PaymentState {
  const refunds = kept.refunds as Record<string, unknown>[];
  const dispute = kept.dispute as Record<string, unknown> | undefined;
  return {
    ...kept,
    amount: amountOf(kept.amount),
    authorizedAmount: amountOf(kept.authorizedAmount),
    capturedAmount: amountOf(kept.capturedAmount),
    refundedAmount: amountOf(kept.refundedAmount),
    refunds: refunds.map((refund) => ({ ...refund, amount: amountOf(refund.amount) })),
    ...(dispute ? { dispute: { ...dispute, amount: amountOf(dispute.amount) } } : {}),
  } as unknown as PaymentState;
}
