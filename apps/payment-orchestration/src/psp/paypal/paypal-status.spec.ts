import { fromPayPalValue, PayPalAmountError, toPayPalValue } from './paypal-amounts';
import { observePayPalDispute, observePayPalOrder, observePayPalRefund, payPalCode } from './paypal-status';

describe("PayPal's statuses in the payments domain's words", () => {
  const order = (status: string, capture?: { status: string; amount: bigint; reason?: string }) =>
    observePayPalOrder({ orderId: 'O-1', status, ...(capture ? { capture } : {}) });

  it('reads a captured order for its capture amount, whatever refunds followed', () => {
    for (const status of ['COMPLETED', 'PARTIALLY_REFUNDED', 'REFUNDED'])
      expect(order('COMPLETED', { status, amount: 1250n })).toEqual({ stage: 'captured', reference: 'O-1', amount: 1250n });
  });

  it('a pending capture is pending, a declined one failed with its reason; never captured', () => {
    expect(order('COMPLETED', { status: 'PENDING', amount: 1250n, reason: 'PENDING_REVIEW' })).toEqual({ stage: 'pending', reference: 'O-1' });
    expect(order('COMPLETED', { status: 'DECLINED', amount: 1250n })).toEqual({ stage: 'failed', reference: 'O-1', code: 'capture_declined' });
    expect(order('COMPLETED', { status: 'FAILED', amount: 1250n, reason: 'BUYER_COMPLAINT' })).toEqual({
      stage: 'failed',
      reference: 'O-1',
      code: 'capture_declined',
      declineCode: 'buyer_complaint',
    });
  });

  it('an order without a capture: pending, requires action, canceled; an unknown status is only reported', () => {
    expect(order('APPROVED')).toEqual({ stage: 'pending', reference: 'O-1' });
    expect(order('CREATED')).toEqual({ stage: 'pending', reference: 'O-1' });
    expect(order('PAYER_ACTION_REQUIRED')).toEqual({ stage: 'requires_action', reference: 'O-1' });
    expect(order('VOIDED')).toEqual({ stage: 'canceled', reference: 'O-1', reason: 'psp' });
    expect(order('SOMETHING_NEW')).toEqual({ stage: 'unrecognized', reference: 'O-1', providerStatus: 'SOMETHING_NEW' });
    expect(order('COMPLETED', { status: 'ODD', amount: 1n })).toEqual({ stage: 'unrecognized', reference: 'O-1', providerStatus: 'capture ODD' });
  });

  it('an authorised order (intent AUTHORIZE, manual capture): authorized for its amount until captured, canceled once voided or expired', () => {
    const authorized = (status: string, capture?: { status: string; amount: bigint }) =>
      observePayPalOrder({ orderId: 'O-1', status: 'COMPLETED', authorization: { status, amount: 4000n }, ...(capture ? { capture } : {}) });
    expect(authorized('CREATED')).toEqual({ stage: 'authorized', reference: 'O-1', amount: 4000n });
    expect(authorized('PENDING')).toEqual({ stage: 'authorized', reference: 'O-1', amount: 4000n });
    // Its capture decides once there is one: captured for the captured part.
    expect(authorized('PARTIALLY_CAPTURED', { status: 'COMPLETED', amount: 2500n })).toEqual({ stage: 'captured', reference: 'O-1', amount: 2500n });
    expect(authorized('VOIDED')).toEqual({ stage: 'canceled', reference: 'O-1', reason: 'requested' });
    expect(authorized('EXPIRED')).toEqual({ stage: 'canceled', reference: 'O-1', reason: 'authorization_expired' });
    expect(authorized('ODD')).toEqual({ stage: 'unrecognized', reference: 'O-1', providerStatus: 'authorization ODD' });
  });

  it('reads disputes like chargebacks: open until resolved, lost for the buyer, won for the seller', () => {
    const dispute = (status: string, outcome?: string) =>
      observePayPalDispute({ disputeId: 'PP-D-1', status, amount: 700n, reason: 'UNAUTHORISED', ...(outcome ? { outcome } : {}) });
    const base = { disputeId: 'PP-D-1', amount: 700n, reason: 'unauthorised' };
    expect(dispute('OPEN')).toEqual({ ...base, status: 'open' });
    expect(dispute('UNDER_REVIEW')).toEqual({ ...base, status: 'open' });
    expect(dispute('RESOLVED', 'RESOLVED_BUYER_FAVOUR')).toEqual({ ...base, status: 'lost' });
    expect(dispute('RESOLVED', 'RESOLVED_SELLER_FAVOUR')).toEqual({ ...base, status: 'won' });
    expect(dispute('RESOLVED', 'CANCELED_BY_BUYER')).toEqual({ ...base, status: 'won' });
    expect(dispute('RESOLVED', 'SOMETHING_NEW')).toEqual({ ...base, status: 'open' });
  });

  it('reads refunds', () => {
    const refund = (status: string, reason?: string) => observePayPalRefund({ refundId: 'r-1', status, amount: 500n, ...(reason ? { reason } : {}) });
    expect(refund('COMPLETED')).toEqual({ refundId: 'r-1', amount: 500n, status: 'succeeded' });
    expect(refund('PENDING')).toEqual({ refundId: 'r-1', amount: 500n, status: 'pending' });
    expect(refund('CANCELLED')).toEqual({ refundId: 'r-1', amount: 500n, status: 'canceled' });
    expect(refund('FAILED', 'ECHECK')).toEqual({ refundId: 'r-1', amount: 500n, status: 'failed', reason: 'echeck' });
  });

  it('turns PayPal issue names into codes, and refuses free text', () => {
    expect(payPalCode('INSTRUMENT_DECLINED', 'x')).toBe('instrument_declined');
    expect(payPalCode('call me at 555', 'fallback')).toBe('fallback');
    expect(payPalCode(undefined, 'fallback')).toBe('fallback');
  });
});

describe('PayPal amounts', () => {
  it('converts minor units to decimal strings and back, by the currency', () => {
    expect(toPayPalValue(1250n, 'EUR')).toBe('12.50');
    expect(toPayPalValue(5n, 'USD')).toBe('0.05');
    expect(toPayPalValue(1500n, 'JPY')).toBe('1500');
    expect(fromPayPalValue('12.5', 'EUR')).toBe(1250n);
    expect(fromPayPalValue('12.50', 'EUR')).toBe(1250n);
    expect(fromPayPalValue('1500', 'JPY')).toBe(1500n);
    expect(fromPayPalValue(undefined, 'EUR')).toBe(0n);
    for (const n of [0n, 1n, 99n, 100n, 123456789n]) expect(fromPayPalValue(toPayPalValue(n, 'GBP'), 'GBP')).toBe(n);
  });

  it('refuses what it cannot carry exactly', () => {
    expect(() => fromPayPalValue('12.345', 'EUR')).toThrow(PayPalAmountError);
    expect(() => fromPayPalValue('15.5', 'JPY')).toThrow(PayPalAmountError);
    expect(() => fromPayPalValue('-1.00', 'EUR')).toThrow(PayPalAmountError);
    expect(() => fromPayPalValue('1e3', 'EUR')).toThrow(PayPalAmountError);
    expect(() => toPayPalValue(-1n, 'EUR')).toThrow(PayPalAmountError);
    expect(() => toPayPalValue(10n ** 15n, 'EUR')).toThrow(PayPalAmountError);
  });
});
