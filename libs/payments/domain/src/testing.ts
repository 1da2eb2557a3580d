import { randomUUID } from 'node:crypto';
import type { PaymentInitiated } from './payment-events';

/**
 * Test support: a payment's first event, a card purchase of 10.00 EUR by person-42 at merchant-7
 * on instagram in DE, captured manually, under a fresh request id; a test overrides what it is about.
 */
export function paymentInitiated(paymentId: string, overrides: Partial<PaymentInitiated> = {}): PaymentInitiated {
  return {
    type: 'PaymentInitiated',
    paymentId,
    requestId: randomUUID(),
    kind: 'purchase',
    payerId: 'person-42',
    counterparty: { type: 'merchant', id: 'merchant-7' },
    app: 'instagram',
    country: 'DE',
    amount: 1000n,
    currency: 'EUR',
    captureMethod: 'manual',
    ...overrides,
  };
}
