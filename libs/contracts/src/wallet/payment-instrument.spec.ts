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
