import { readPaymentInstrument } from './payment-instrument';

const methodId = '3f1c2a9e-6a4b-4c1e-9f51-2b7d8e0a1c44';

describe('the PaymentInstrument contract (wallet -> orchestration)', () => {
  it('reads each kind of saved method as the wallet releases it', () => {
    expect(readPaymentInstrument({ methodId, kind: 'card', credentials: { pspToken: 'pm_card_visa' } })).toMatchObject({
      kind: 'card',
      credentials: { pspToken: 'pm_card_visa' },
    });
    expect(readPaymentInstrument({ methodId, kind: 'paypal', credentials: { payerId: 'QYR5Z8XDVJNXQ', vaultToken: 'vault_abc123' } }).credentials).toEqual({
      payerId: 'QYR5Z8XDVJNXQ',
      vaultToken: 'vault_abc123',
    });
    const us = { routingNumber: '110000000', accountNumber: '000123456789', accountType: 'checking', holderName: 'Ana Maria Silva' };
    expect(readPaymentInstrument({ methodId, kind: 'bank_account', credentials: us }).credentials).toEqual(us);
    const mandate = { textVersion: 'v1', ipAddress: '2001:db8::7', userAgent: 'PayTest/1.0', app: 'facebook', acceptedAt: '2026-12-01T10:00:00.000Z' };
    expect(readPaymentInstrument({ methodId, kind: 'bank_account', credentials: { ...us, mandate } }).credentials).toEqual({ ...us, mandate });
  });

  it("refuses a mandate acceptance that does not say when, or from which address, without repeating the payer's address", () => {
    const us = { routingNumber: '110000000', accountNumber: '000123456789', holderName: 'Ana Maria Silva' };
    const mandate = { textVersion: 'v1', ipAddress: '203.0.113.7', userAgent: 'PayTest/1.0', acceptedAt: '2026-12-01T10:00:00.000Z' };
    let message = '';
    try {
      readPaymentInstrument({ methodId, kind: 'bank_account', credentials: { ...us, mandate: { ...mandate, ipAddress: '203.0.113.999' } } });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/mandate\.ipAddress/);
    expect(message).not.toContain('203.0.113.999');
    const { acceptedAt: _when, ...undated } = mandate;
    expect(() => readPaymentInstrument({ methodId, kind: 'bank_account', credentials: { ...us, mandate: undated } })).toThrow(/acceptedAt/);
  });

  it('drops fields it does not know (a newer wallet) and refuses a wrong shape, naming the field but never its value', () => {
    expect(readPaymentInstrument({ methodId, kind: 'card', credentials: { pspToken: 'pm_card_visa', email: 'ana@example.com' } }).credentials).toEqual({
      pspToken: 'pm_card_visa',
    });
    expect(() => readPaymentInstrument({ methodId, kind: 'bank_account', credentials: { iban: 'de89 3704 0044 0532 0130 00' } })).toThrow(/credentials\.iban/);
    let message = '';
    try {
      readPaymentInstrument({ methodId, kind: 'bank_account', credentials: { accountNumber: '4242424242424242424242' } });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/accountNumber/);
    expect(message).not.toContain('4242');
    expect(() => readPaymentInstrument({ methodId, kind: 'cheque', credentials: {} })).toThrow(/kind must be one of/);
    expect(() => readPaymentInstrument({ methodId: 'x', kind: 'card' })).toThrow(/methodId.*credentials|credentials.*methodId/s);
    expect(() => readPaymentInstrument([])).toThrow(/JSON object/);
  });
});
