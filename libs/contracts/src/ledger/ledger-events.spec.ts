import 'reflect-metadata';
import { ledgerEventSubject } from './ledger-events';

describe('ledgerEventSubject', () => {
  const base = { transactionId: 'tx-1', metadata: {} as Record<string, string> };

  it('keys an entry by its payment, so a payment’s entries share a partition and keep their order', () => {
    expect(ledgerEventSubject({ ...base, metadata: { paymentId: 'pay-1' } })).toBe('pay-1');
    expect(ledgerEventSubject({ ...base, transactionId: 'refund-9', metadata: { paymentId: 'pay-1' }, reverses: 'tx-0' })).toBe('pay-1');
  });

  it('falls back to the reservation, then the reversed transaction, then the entry’s own transaction', () => {
    expect(ledgerEventSubject({ ...base, reservationId: 'res-1' })).toBe('res-1');
    expect(ledgerEventSubject({ ...base, reverses: 'tx-0' })).toBe('tx-0');
    expect(ledgerEventSubject(base)).toBe('tx-1');
  });

  it('spreads different payments over different keys', () => {
    const keys = new Set(Array.from({ length: 50 }, (_, i) => ledgerEventSubject({ ...base, metadata: { paymentId: `pay-${i}` } })));
    expect(keys.size).toBe(50);
  });
});
