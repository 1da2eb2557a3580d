import type { PaymentEvent, PaymentInitiated } from '../payment-events';

export const PAYMENT_ID = 'pay_1';
export const PI = 'pi_123';

export function initiated(overrides: Partial<PaymentInitiated> = {}): PaymentInitiated {
  return {
    type: 'PaymentInitiated',
    paymentId: PAYMENT_ID,
    requestId: '5d0c3c1e-8a47-4f55-b2d4-7f8a9e0c1b23',
    kind: 'purchase',
    payerId: 'person-42',
    counterparty: { type: 'merchant', id: 'merchant-7' },
    app: 'instagram',
    country: 'DE',
    amount: 1000n,
    currency: 'EUR',
    captureMethod: 'manual',
    paymentMethodId: 'pm-7',
    ...overrides,
  };
}

/** initiated -> authorized -> captured for the full 1000. */
export function capturedHistory(amount = 1000n): PaymentEvent[] {
  return [initiated({ amount }), { type: 'Authorized', amount, provider: 'stripe', reference: PI }, { type: 'Captured', amount }];
}
