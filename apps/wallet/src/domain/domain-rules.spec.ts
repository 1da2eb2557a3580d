import { defaultAdMeasurementConsent } from './consent';
import { maskEmail, maskPhone, normalizeEmail, normalizePhone } from './contact';
import { assertValidIban, isValidIban, normalizeIban } from './iban';
import { changeApps } from './pay-apps';
import { assertValidRoutingNumber, isValidRoutingNumber } from './us-bank-account';
import {
  assertCardNotExpired,
  assertRoomForAnotherMethod,
  becomesPreferred,
  chargeCredentials,
  defaultLabel,
  isSameBankAccount,
  MAX_ACTIVE_METHODS,
  needsResaving,
  normalizeLabel,
} from './payment-method-rules';

describe('ABA routing number', () => {
  it("accepts a routing number whose check digit fits (Stripe's test 110000000 among them), refuses a typo", () => {
    expect(isValidRoutingNumber('110000000')).toBe(true);
    expect(isValidRoutingNumber('021000021')).toBe(true);
    expect(isValidRoutingNumber('021000022')).toBe(false);
    expect(isValidRoutingNumber('11000000')).toBe(false);
    expect(() => assertValidRoutingNumber('123456789')).toThrow(expect.objectContaining({ code: 'ROUTING_NUMBER_INVALID' }) as Error);
  });
});

describe('IBAN', () => {
  it('accepts valid IBANs written with spaces, refuses a typo', () => {
    expect(isValidIban(normalizeIban('DE89 3704 0044 0532 0130 00'))).toBe(true);
    expect(isValidIban(normalizeIban('gb82 west 1234 5698 7654 32'))).toBe(true);
    expect(isValidIban('DE89370400440532013001')).toBe(false);
    expect(isValidIban('DE8937040044')).toBe(false);
    expect(() => assertValidIban('XX00')).toThrow(expect.objectContaining({ code: 'IBAN_INVALID' }) as Error);
  });
});

describe('payment methods', () => {
  const now = new Date('2026-03-15T00:00:00Z');

  it('refuses a card whose expiry month is over, not one that expires this month', () => {
    expect(() => assertCardNotExpired(3, 2026, now)).not.toThrow();
    expect(() => assertCardNotExpired(2, 2026, now)).toThrow(expect.objectContaining({ code: 'CARD_EXPIRED' }) as Error);
    expect(() => assertCardNotExpired(12, 2025, now)).toThrow(/02\/2026|12\/2025/);
  });

  it('caps a wallet at 20 methods', () => {
    expect(() => assertRoomForAnotherMethod(MAX_ACTIVE_METHODS - 1)).not.toThrow();
    expect(() => assertRoomForAnotherMethod(MAX_ACTIVE_METHODS)).toThrow(expect.objectContaining({ code: 'TOO_MANY_PAYMENT_METHODS' }) as Error);
  });

  it('trims labels and refuses empty, long or control characters', () => {
    expect(normalizeLabel('  Work   card ')).toBe('Work card');
    expect(() => normalizeLabel('   ')).toThrow(/1 to 40/);
    expect(() => normalizeLabel('x'.repeat(41))).toThrow(/1 to 40/);
    expect(() => normalizeLabel('a\u0007b')).toThrow(/printable/);
  });

  it('names methods without a label by what they are', () => {
    expect(defaultLabel('card', { brand: 'visa', last4: '4242' })).toBe('Visa •••• 4242');
    expect(defaultLabel('bank_account', { last4: '3000' })).toBe('Bank account •••• 3000');
    expect(defaultLabel('paypal', {})).toBe('PayPal');
  });

  it('makes the first method preferred', () => {
    expect(becomesPreferred(null)).toBe(true);
    expect(becomesPreferred('7f1d3c1e-8a47-4f55-b2d4-7f8a9e0c1b23')).toBe(false);
  });
});

describe('a bank account its owner must save again', () => {
  const mandate = { mandateTextVersion: 'v1', mandateIpAddress: '203.0.113.7', mandateUserAgent: 'PayTest/1.0', mandateAcceptedAt: '2026-12-01T10:00:00.000Z' };
  it('is an IBAN without its PaymentMethod at the PSP, or any account without a mandate; never one the PSP holds, a card or PayPal', () => {
    const iban = { iban: 'DE89370400440532013000', holderName: 'Ana' };
    expect(needsResaving('bank_account', { ...iban, ...mandate })).toBe(true);
    expect(needsResaving('bank_account', iban)).toBe(true);
    expect(needsResaving('bank_account', { routingNumber: '110000000', accountNumber: '000123456789', holderName: 'Ana' })).toBe(true);
    expect(needsResaving('bank_account', { ...iban, ...mandate, pspToken: 'pm_1QdE2xLkdIwHu7ix', customer: 'cus_NffrFeUfNV2Hib' })).toBe(false);
    expect(needsResaving('bank_account', { routingNumber: '110000000', accountNumber: '000123456789', holderName: 'Ana', ...mandate })).toBe(false);
    expect(needsResaving('card', { pspToken: 'pm_1QdE2xLkdIwHu7ix' })).toBe(false);
    expect(needsResaving('paypal', { payerId: 'P123', email: 'a@example.com' })).toBe(false);
  });
});

describe('charge credentials (what orchestration reads to charge a method)', () => {
  it('gives a Stripe customer as customer + pspToken, the names orchestration charges with', () => {
    expect(chargeCredentials('stripe_customer', { customerId: 'cus_NffrFeUfNV2Hib', paymentMethodId: 'pm_1Q0PsIJvEtkwdCNY' })).toEqual({
      customer: 'cus_NffrFeUfNV2Hib',
      pspToken: 'pm_1Q0PsIJvEtkwdCNY',
    });
    expect(chargeCredentials('stripe_customer', { customerId: 'cus_NffrFeUfNV2Hib' })).toEqual({ customer: 'cus_NffrFeUfNV2Hib' });
  });

  it('releases a saved bank account as the PaymentInstrument contract names it, for a SEPA mandate or an ACH debit', () => {
    const us = { routingNumber: '110000000', accountNumber: '000123456789', accountType: 'checking', holderName: 'Ana Maria Silva' };
    expect(chargeCredentials('bank_account', us)).toEqual(us);
    expect(chargeCredentials('bank_account', { iban: 'DE89370400440532013000', holderName: 'Ana' })).toEqual({
      iban: 'DE89370400440532013000',
      holderName: 'Ana',
    });
    // The mandate's acceptance is kept flat in the vault and released whole.
    const sealed = {
      iban: 'DE89370400440532013000',
      holderName: 'Ana',
      mandateTextVersion: 'v1',
      mandateIpAddress: '203.0.113.7',
      mandateUserAgent: 'PayTest/1.0',
      mandateAcceptedAt: '2026-12-01T10:00:00.000Z',
      mandateApp: 'facebook',
    };
    expect(chargeCredentials('bank_account', sealed)).toEqual({
      iban: 'DE89370400440532013000',
      holderName: 'Ana',
      mandate: { textVersion: 'v1', ipAddress: '203.0.113.7', userAgent: 'PayTest/1.0', acceptedAt: '2026-12-01T10:00:00.000Z', app: 'facebook' },
    });
  });

  it('passes the other kinds through, never a PayPal e-mail', () => {
    expect(chargeCredentials('card', { pspToken: 'pm_card_visa' })).toEqual({ pspToken: 'pm_card_visa' });
    expect(chargeCredentials('paypal', { payerId: 'QYR5Z8XDVJNXQ', email: 'ana@example.com', vaultToken: '8kk8451t' })).toEqual({
      payerId: 'QYR5Z8XDVJNXQ',
      vaultToken: '8kk8451t',
    });
  });
});

describe('consent defaults', () => {
  it('is off everywhere unless a country is configured to start with it on', () => {
    for (const country of ['DE', 'gb', 'US', 'BR', 'JP']) expect(defaultAdMeasurementConsent(country, new Set())).toBe(false);
    expect(defaultAdMeasurementConsent('us', new Set(['US']))).toBe(true);
    expect(defaultAdMeasurementConsent('DE', new Set(['US']))).toBe(false);
  });
});

describe('Pay per app', () => {
  it('enables live apps, disables any app, and reports the whole set', () => {
    expect(changeApps(['facebook'], ['messenger', 'facebook'], ['facebook', 'messenger'])).toEqual({
      apps: ['facebook', 'messenger'],
      enabled: ['messenger'],
      disabled: [],
    });
    expect(changeApps(['facebook', 'whatsapp'], [], ['facebook'])).toEqual({ apps: [], enabled: [], disabled: ['facebook', 'whatsapp'] });
  });

  it('refuses to enable an app where Pay is not live', () => {
    expect(() => changeApps([], ['whatsapp'], ['facebook'])).toThrow(expect.objectContaining({ code: 'PAY_NOT_AVAILABLE_IN_APP' }) as Error);
  });
});

describe('contact details', () => {
  it('normalizes and masks e-mail and phone', () => {
    expect(normalizeEmail(' Ana.Maria@Example.COM ')).toBe('Ana.Maria@example.com');
    expect(maskEmail('Ana.Maria@example.com')).toBe('A•••@example.com');
    expect(normalizePhone('+49 151 1234-5678')).toBe('+4915112345678');
    expect(maskPhone('+4915112345678')).toBe('+49•••••••••78');
    expect(() => normalizeEmail('not-an-address')).toThrow(expect.objectContaining({ code: 'EMAIL_INVALID' }) as Error);
    expect(() => normalizePhone('0151 1234')).toThrow(expect.objectContaining({ code: 'PHONE_INVALID' }) as Error);
  });
});

describe('the same bank account saved again', () => {
  it('is the same IBAN, the same routing and account numbers, or (linked at its bank) the same routing number and last four', () => {
    expect(isSameBankAccount({ iban: 'DE89370400440532013000', last4: '3000' }, { iban: 'DE89370400440532013000', last4: '3000' })).toBe(true);
    expect(isSameBankAccount({ iban: 'DE89370400440532013000', last4: '3000' }, { iban: 'DE62370400440532013001', last4: '3001' })).toBe(false);
    const numbers = { routingNumber: '110000000', accountNumber: '000111111113', last4: '1113' };
    expect(isSameBankAccount(numbers, { ...numbers })).toBe(true);
    expect(isSameBankAccount(numbers, { ...numbers, routingNumber: '021000021' })).toBe(false);
    expect(isSameBankAccount(numbers, { routingNumber: '110000000', accountNumber: '000222221113', last4: '1113' })).toBe(false);
    // Linked at the bank: no account number, only what the bank told.
    expect(isSameBankAccount({ routingNumber: '110000000', last4: '6789' }, { routingNumber: '110000000', accountNumber: '000123456789', last4: '6789' })).toBe(
      true,
    );
    expect(isSameBankAccount({ routingNumber: '110000000', last4: '6789' }, { routingNumber: '110000000', last4: '1113' })).toBe(false);
    // An IBAN is never a US account, whatever their last four.
    expect(isSameBankAccount({ iban: 'DE89370400440532013000', last4: '3000' }, { routingNumber: '110000000', last4: '3000' })).toBe(false);
    expect(isSameBankAccount({ last4: '3000' }, { last4: '3000' })).toBe(false);
  });
});
