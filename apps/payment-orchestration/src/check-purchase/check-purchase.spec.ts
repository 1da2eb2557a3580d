import { money } from '@pay/contracts';
import { RolloutPolicy } from '@pay/rollout';
import type { PurchaseFacts } from './check-purchase';
import { checkPurchase } from './check-purchase';
import { NonProfitRegistry } from './non-profit-registry';
import { parsePaymentLimits } from './payment-limits';
import { REFUSAL_STATUS } from './purchase-refusal';
import type { PurchaseRequest } from './purchase-request';
import { requestHash } from './purchase-request';

const rules = {
  rollout: new RolloutPolicy([
    { country: 'US', apps: ['instagram', 'facebook'] },
    { country: 'BR', apps: [] },
  ]),
  limits: parsePaymentLimits('USD:50-100000,EUR:50-100000'),
};

const METHOD = '5d0c3c1e-8a47-4f55-b2d4-7f8a9e0c1b23';
const purchase: PurchaseRequest = {
  requestId: '6d0c3c1e-8a47-4f55-b2d4-7f8a9e0c1b23',
  kind: 'purchase',
  payerId: 'ana',
  counterparty: { type: 'merchant', id: 'shop' },
  app: 'instagram',
  country: 'US',
  amount: money(1_000n, 'USD'),
};
const facts: PurchaseFacts = {
  payer: { personId: 'ana', apps: ['instagram'], preferredMethodId: METHOD },
  method: { methodId: METHOD, personId: 'ana', removed: false },
};

const codeOf = (request: Partial<PurchaseRequest>, given: Partial<PurchaseFacts> = {}): string | undefined => {
  const outcome = checkPurchase({ ...purchase, ...request }, { ...facts, ...given }, rules);
  return outcome.accepted ? undefined : outcome.refusal.code;
};

describe('checkPurchase', () => {
  it('accepts a purchase with the preferred method, and says which method to charge', () => {
    expect(checkPurchase(purchase, facts, rules)).toEqual({ accepted: true, paymentMethodId: METHOD });
  });

  it('refuses each problem with its own code, in a fixed order', () => {
    expect(codeOf({ counterparty: { type: 'person', id: 'bob' } })).toBe('COUNTERPARTY_NOT_ALLOWED');
    expect(codeOf({ kind: 'transfer', counterparty: { type: 'person', id: 'ana' }, captureMethod: 'manual' })).toBe('CAPTURE_METHOD_NOT_SUPPORTED');
    expect(codeOf({ kind: 'transfer', counterparty: { type: 'person', id: 'ana' } })).toBe('SELF_TRANSFER');
    expect(codeOf({ country: 'BR' })).toBe('PAY_NOT_AVAILABLE_IN_COUNTRY');
    expect(codeOf({ country: 'FR' })).toBe('PAY_NOT_AVAILABLE_IN_COUNTRY');
    expect(codeOf({ app: 'whatsapp' })).toBe('PAY_NOT_AVAILABLE_IN_APP');
    expect(codeOf({ amount: money(1_000n, 'JPY') })).toBe('CURRENCY_NOT_SUPPORTED');
    expect(codeOf({ amount: money(49n, 'USD') })).toBe('AMOUNT_BELOW_MINIMUM');
    expect(codeOf({ amount: money(100_001n, 'USD') })).toBe('AMOUNT_ABOVE_MAXIMUM');
    expect(codeOf({}, { payer: undefined })).toBe('WALLET_NOT_FOUND');
    expect(codeOf({ app: 'facebook' })).toBe('PAY_NOT_ACTIVE_IN_APP');
    expect(codeOf({ kind: 'donation', counterparty: { type: 'non-profit', id: 'np-x' } }, { nonProfitRegistered: false })).toBe('NON_PROFIT_NOT_REGISTERED');
    expect(codeOf({ kind: 'transfer', counterparty: { type: 'person', id: 'bob' } }, { recipientHasWallet: false })).toBe('RECIPIENT_NOT_FOUND');
    expect(codeOf({ kind: 'transfer', counterparty: { type: 'person', id: 'bob' }, paymentMethodId: METHOD }, { recipientHasWallet: true })).toBe(
      'PAYMENT_METHOD_NOT_ACCEPTED',
    );
    expect(codeOf({}, { payer: { personId: 'ana', apps: ['instagram'] }, method: undefined })).toBe('NO_PREFERRED_METHOD');
    expect(codeOf({ paymentMethodId: METHOD }, { method: undefined })).toBe('PAYMENT_METHOD_NOT_FOUND');
    expect(codeOf({}, { method: { methodId: METHOD, personId: 'someone-else', removed: false } })).toBe('PAYMENT_METHOD_NOT_FOUND');
    expect(codeOf({}, { method: { methodId: METHOD, personId: 'ana', removed: true } })).toBe('PAYMENT_METHOD_REMOVED');
  });

  it('accepts a transfer from balance (no method) and a donation to a registered non-profit', () => {
    expect(
      checkPurchase({ ...purchase, kind: 'transfer', counterparty: { type: 'person', id: 'bob' } }, { ...facts, recipientHasWallet: true }, rules),
    ).toEqual({ accepted: true });
    // A purchase may be held and captured later; only a transfer may not.
    expect(checkPurchase({ ...purchase, captureMethod: 'manual' }, facts, rules)).toEqual({ accepted: true, paymentMethodId: METHOD });
    expect(codeOf({ kind: 'donation', counterparty: { type: 'non-profit', id: 'np-x' } }, { nonProfitRegistered: true })).toBeUndefined();
  });

  it('answers every refusal with a 4xx status', () => {
    for (const status of Object.values(REFUSAL_STATUS)) expect(status >= 400 && status < 500).toBe(true);
  });
});

describe('requestHash', () => {
  it('is the same for the same purchase whatever the proof, and differs for another purchase', () => {
    expect(requestHash({ ...purchase, stepUpProof: 'a' })).toBe(requestHash(purchase));
    expect(requestHash({ ...purchase, amount: money(1_001n, 'USD') })).not.toBe(requestHash(purchase));
    expect(requestHash({ ...purchase, paymentMethodId: METHOD })).not.toBe(requestHash(purchase));
    // Capturing later is another request; saying "automatic" is the default, so the same one (keys in flight keep their hash).
    expect(requestHash({ ...purchase, captureMethod: 'manual' })).not.toBe(requestHash(purchase));
    expect(requestHash({ ...purchase, captureMethod: 'automatic' })).toBe(requestHash(purchase));
  });
});

describe('configuration of the checks', () => {
  it('parses payment limits and refuses malformed ones with the reason', () => {
    expect(parsePaymentLimits('EUR:50-1000, USD:1-2').get('USD')).toEqual({ min: 1n, max: 2n });
    expect(() => parsePaymentLimits('EUR:10.5-100')).toThrow(/CURRENCY:min-max/);
    expect(() => parsePaymentLimits('EUR:100-10')).toThrow(/above the maximum/);
    expect(() => parsePaymentLimits('EUR:1-2,EUR:1-3')).toThrow(/twice/);
    expect(() => parsePaymentLimits('')).toThrow(/at least one/);
  });

  it('reads the non-profit registry, refusing unknown keys and duplicates', () => {
    const registry = NonProfitRegistry.parse('{"nonProfits":[{"id":"np-1","name":"One"}]}');
    expect(registry.isRegistered('np-1')).toBe(true);
    expect(registry.isRegistered('np-2')).toBe(false);
    expect(() => NonProfitRegistry.parse('{"nonprofits":[]}')).toThrow(/not valid/);
    expect(() => NonProfitRegistry.parse('{"nonProfits":[{"id":"a","name":"A"},{"id":"a","name":"B"}]}')).toThrow(/once/);
  });

  it('ships a valid registry', async () => {
    expect((await NonProfitRegistry.load('config/non-profits.json')).size).toBeGreaterThan(0);
  });
});
