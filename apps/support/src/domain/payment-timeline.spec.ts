import { refundableAmount, timelineStage } from './payment-timeline';

describe('payment timeline', () => {
  it('places each event in its stage, and ignores what is not a payment fact', () => {
    expect(timelineStage('payments.payment.initiated')).toBe('intake');
    expect(timelineStage('payments.payment.rejected')).toBe('checks');
    expect(timelineStage('payments.payment.captured')).toBe('psp');
    expect(timelineStage('payments.payment.refunded')).toBe('refund');
    expect(timelineStage('ledger.transaction.recorded')).toBe('ledger');
    expect(timelineStage('wallet.pin.set')).toBeUndefined();
  });

  it('refunds at most what was captured and not already asked back, failed refunds included again', () => {
    expect(refundableAmount({ captured: 1000n, refundRequested: 0n, refundFailed: 0n })).toBe(1000n);
    expect(refundableAmount({ captured: 1000n, refundRequested: 400n, refundFailed: 0n })).toBe(600n);
    expect(refundableAmount({ captured: 1000n, refundRequested: 700n, refundFailed: 300n })).toBe(600n);
    expect(refundableAmount({ captured: 0n, refundRequested: 0n, refundFailed: 0n })).toBe(0n);
    expect(refundableAmount({ captured: 100n, refundRequested: 300n, refundFailed: 0n })).toBe(0n);
  });
});
