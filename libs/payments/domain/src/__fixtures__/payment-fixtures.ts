import type { PaymentEvent, PaymentInitiated } from '../payment-events';
import { paymentInitiated } from '../testing';

export const PAYMENT_ID = 'pay_1';
export const PI = 'pi_123';

export function initiated(overrides: Partial<PaymentInitiated> = {}): PaymentInitiated {
  return paymentInitiated(PAYMENT_ID, { requestId: '5d0c3c1e-8a47-4f55-b2d4-7f8a9e0c1b23', paymentMethodId: 'pm-7', ...overrides });
}

/** initiated -> authorized -> captured for the full 1000. */
export function capturedHistory(amount = 1000n): PaymentEvent[] {
  return [initiated({ amount }), { type: 'Authorized', amount, provider: 'stripe', reference: PI }, { type: 'Captured', amount }];
}
