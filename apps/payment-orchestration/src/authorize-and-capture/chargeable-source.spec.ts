import { bankAccountRefusal, chargeableSource } from './authorize-and-capture';

const methodId = '3f1c2a9e-6a4b-4c1e-9f51-2b7d8e0a1c44';

describe('what the provider charges for a saved method', () => {
  it('debits a saved IBAN by SEPA Direct Debit and a US account by ACH, in the holder’s name, under the accepted mandate', () => {
    const mandate = { textVersion: 'v1', ipAddress: '203.0.113.7', userAgent: 'PayTest/1.0', acceptedAt: '2026-12-01T10:00:00.000Z' };
    const accepted = { acceptedAt: new Date('2026-12-01T10:00:00.000Z'), ipAddress: '203.0.113.7', userAgent: 'PayTest/1.0' };
    expect(
      chargeableSource({ methodId, kind: 'bank_account', credentials: { iban: 'DE89370400440532013000', holderName: 'Ana', bic: 'COBADEFFXXX', mandate } }),
    ).toEqual({
      paymentMethod: '',
      bankAccount: { scheme: 'sepa_debit', iban: 'DE89370400440532013000', holderName: 'Ana', mandate: accepted },
    });
    expect(
      chargeableSource({
        methodId,
        kind: 'bank_account',
        credentials: { routingNumber: '110000000', accountNumber: '000123456789', accountType: 'savings', holderName: 'Ana', mandate },
      }),
    ).toEqual({
      paymentMethod: '',
      bankAccount: {
        scheme: 'us_bank_account',
        routingNumber: '110000000',
        accountNumber: '000123456789',
        accountType: 'savings',
        holderName: 'Ana',
        mandate: accepted,
      },
    });
  });

  it('makes no debit of a bank account without an accepted mandate', () => {
    expect(chargeableSource({ methodId, kind: 'bank_account', credentials: { iban: 'DE89370400440532013000', holderName: 'Ana' } })).toBeUndefined();
    expect(
      chargeableSource({ methodId, kind: 'bank_account', credentials: { routingNumber: '110000000', accountNumber: '000123456789', holderName: 'Ana' } }),
    ).toBeUndefined();
  });

  it('debits a verified US account by the PaymentMethod the provider holds, with its customer, by ACH alone', () => {
    expect(
      chargeableSource({
        methodId,
        kind: 'bank_account',
        credentials: {
          routingNumber: '110000000',
          accountNumber: '000123456789',
          accountType: 'checking',
          holderName: 'Ana',
          pspToken: 'pm_1QdE2xLkdIwHu7ix',
          customer: 'cus_NffrFeUfNV2Hib',
        },
      }),
    ).toEqual({ paymentMethod: 'pm_1QdE2xLkdIwHu7ix', customer: 'cus_NffrFeUfNV2Hib', savedDebitScheme: 'us_bank_account' });
    expect(chargeableSource({ methodId, kind: 'card', credentials: { pspToken: 'pm_1QdE2xLkdIwHu7ix', customer: 'cus_NffrFeUfNV2Hib' } })).toEqual({
      paymentMethod: 'pm_1QdE2xLkdIwHu7ix',
      customer: 'cus_NffrFeUfNV2Hib',
    });
  });

  it('debits an IBAN saved at the provider by its PaymentMethod with its customer, by SEPA Direct Debit alone, never the IBAN again', () => {
    const mandate = { textVersion: 'v1', ipAddress: '203.0.113.7', userAgent: 'PayTest/1.0', acceptedAt: '2026-12-01T10:00:00.000Z' };
    expect(
      chargeableSource({
        methodId,
        kind: 'bank_account',
        credentials: { iban: 'DE89370400440532013000', holderName: 'Ana', mandate, pspToken: 'pm_1QdE2xLkdIwHu7ix', customer: 'cus_NffrFeUfNV2Hib' },
      }),
    ).toEqual({ paymentMethod: 'pm_1QdE2xLkdIwHu7ix', customer: 'cus_NffrFeUfNV2Hib', savedDebitScheme: 'sepa_debit' });
  });

  it("hands the provider the payer's recorded mandate acceptance with the account", () => {
    const mandate = { textVersion: 'v1', ipAddress: '203.0.113.7', userAgent: 'PayTest/1.0', acceptedAt: '2026-12-01T10:00:00.000Z' };
    expect(
      chargeableSource({ methodId, kind: 'bank_account', credentials: { iban: 'DE89370400440532013000', holderName: 'Ana', mandate } })?.bankAccount,
    ).toEqual({
      scheme: 'sepa_debit',
      iban: 'DE89370400440532013000',
      holderName: 'Ana',
      mandate: { acceptedAt: new Date('2026-12-01T10:00:00.000Z'), ipAddress: '203.0.113.7', userAgent: 'PayTest/1.0' },
    });
  });

  it('charges a card by its token, PayPal by its vault id, and nothing it cannot name', () => {
    expect(chargeableSource({ methodId, kind: 'card', credentials: { pspToken: 'pm_card_visa' } })).toEqual({ paymentMethod: 'pm_card_visa' });
    expect(chargeableSource({ methodId, kind: 'paypal', credentials: { vaultToken: 'vault_abc123' } })).toEqual({ paymentMethod: 'vault_abc123' });
    expect(chargeableSource({ methodId, kind: 'paypal', credentials: { payerId: 'QYR5Z8XDVJNXQ' } })).toBeUndefined();
    expect(chargeableSource({ methodId, kind: 'bank_account', credentials: { iban: 'DE89370400440532013000' } })).toBeUndefined();
    expect(chargeableSource({ methodId, kind: 'bank_account', credentials: { routingNumber: '110000000', holderName: 'Ana' } })).toBeUndefined();
  });

  it('refuses before the PSP an IBAN kept without its PaymentMethod (no holder e-mail) and an account without a mandate, naming why', () => {
    const mandate = { textVersion: 'v1', ipAddress: '203.0.113.7', userAgent: 'PayTest/1.0', acceptedAt: '2026-12-01T10:00:00.000Z' };
    const iban = { iban: 'DE89370400440532013000', holderName: 'Ana' };
    expect(bankAccountRefusal({ methodId, kind: 'bank_account', credentials: { ...iban, mandate } })).toBe('bank_account_needs_resaving');
    expect(bankAccountRefusal({ methodId, kind: 'bank_account', credentials: iban })).toBe('bank_mandate_missing');
    expect(
      bankAccountRefusal({
        methodId,
        kind: 'bank_account',
        credentials: { ...iban, mandate, pspToken: 'pm_1QdE2xLkdIwHu7ix', customer: 'cus_NffrFeUfNV2Hib' },
      }),
    ).toBeUndefined();
    // A US account given by its numbers needs no e-mail: debited as itself under its mandate.
    expect(
      bankAccountRefusal({
        methodId,
        kind: 'bank_account',
        credentials: { routingNumber: '110000000', accountNumber: '000123456789', holderName: 'Ana', mandate },
      }),
    ).toBeUndefined();
    expect(bankAccountRefusal({ methodId, kind: 'card', credentials: { pspToken: 'pm_1QdE2xLkdIwHu7ix' } })).toBeUndefined();
  });
});
