import { paymentLinkMetadata, paymentLinkOf } from './ledger-payment-link';

describe('LedgerPaymentLink', () => {
  it('round-trips through an entry’s metadata beside other keys', () => {
    for (const link of [{ paymentId: 'pay-1' }, { paymentId: 'pay-1', refundId: 'ref-2' }, { paymentId: 'pay-1', disputeId: 'dp_3' }]) {
      expect(paymentLinkOf({ ...paymentLinkMetadata(link), movement: 'capture', flow: 'p2p' })).toEqual(link);
    }
  });

  it('keeps the keys the wallet has always written, so entries recorded before read the same', () => {
    expect(paymentLinkMetadata({ paymentId: 'pay-1', refundId: 'ref-2' })).toEqual({ paymentId: 'pay-1', refundId: 'ref-2' });
    expect(paymentLinkOf({ paymentId: 'pay-1', movement: 'dispute_loss', disputeId: 'dp_3' })).toEqual({ paymentId: 'pay-1', disputeId: 'dp_3' });
  });

  it('finds no payment in an entry without one, or with an empty id', () => {
    expect(paymentLinkOf(undefined)).toBeUndefined();
    expect(paymentLinkOf({ flow: 'test-topup' })).toBeUndefined();
    expect(paymentLinkOf({ paymentId: '', refundId: 'ref-2' })).toBeUndefined();
  });
});
