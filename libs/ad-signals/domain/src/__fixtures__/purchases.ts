import type { PurchaseFact } from '../count-purchases';
import type { DimensionValues } from '../dimensions';
import type { PrivacyPolicy } from '../privacy-policy';
import { parseGroupings } from '../dimensions';

export const HOUR = Date.parse('2026-03-02T10:00:00.000Z');

export const dims = (overrides: Partial<DimensionValues> = {}): DimensionValues => ({
  app: 'instagram',
  country: 'DE',
  merchantCategory: '5732',
  paymentMethodType: 'card',
  amountBucket: '1000-4999',
  ...overrides,
});

let counter = 0;

export function purchase(personKey: string, overrides: Partial<PurchaseFact> & { dims?: Partial<DimensionValues> } = {}): PurchaseFact {
  counter += 1;
  const { dims: dimensionOverrides, ...rest } = overrides;
  return {
    paymentKey: `pay-${String(counter).padStart(6, '0')}`,
    personKey,
    merchantId: 'merchant-1',
    occurredAt: HOUR + 60_000,
    dimensions: dims(dimensionOverrides),
    amount: 2500n,
    currency: 'EUR',
    refunded: 0n,
    fullyRefunded: false,
    ...rest,
  };
}

export const people = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);

export const policy = (overrides: Partial<PrivacyPolicy> = {}): PrivacyPolicy => ({
  k: 5,
  maxPurchasesPerPerson: 3,
  groupings: parseGroupings('app;country;merchantCategory;paymentMethodType;amountBucket'),
  ...overrides,
});
