import type { Principal } from '@pay/auth';
import type { Counterparty } from '@pay/payments-domain';
import { Payment } from '@pay/payments-domain';
import { mayAccessPayment, mayInitiateInApp, mayRefundPayment } from './payment-access';

const paymentTo = (counterparty: Counterparty, app = 'instagram'): Payment =>
  Payment.start({
    type: 'PaymentInitiated',
    paymentId: 'pay-1',
    requestId: '6d0c3c1e-8a47-4f55-b2d4-7f8a9e0c1b23',
    kind: counterparty.type === 'person' ? 'transfer' : 'purchase',
    payerId: 'ana',
    counterparty,
    app,
    country: 'US',
    amount: 1_000n,
    currency: 'USD',
    captureMethod: 'automatic',
  });

const instagramShop: Principal = { subject: 'instagram-backend', role: 'service', scopes: [], app: 'instagram', merchants: ['m-insta', 'np-insta'] };

describe('who may see and refund a payment', () => {
  it('lets a service at the payments to the merchants and non-profits its token names, and no other', () => {
    expect(mayAccessPayment(instagramShop, paymentTo({ type: 'merchant', id: 'm-insta' }))).toBe(true);
    expect(mayAccessPayment(instagramShop, paymentTo({ type: 'non-profit', id: 'np-insta' }))).toBe(true);
    expect(mayAccessPayment(instagramShop, paymentTo({ type: 'merchant', id: 'm-facebook' }))).toBe(false);
    // A person id that happens to equal a merchant the token names is still a person.
    expect(mayAccessPayment(instagramShop, paymentTo({ type: 'person', id: 'm-insta' }))).toBe(false);
    // A platform service's token names no merchant: it sees none.
    expect(mayAccessPayment({ subject: 'support', role: 'service', scopes: [] }, paymentTo({ type: 'merchant', id: 'm-insta' }))).toBe(false);
  });

  it('lets an operator at every payment and no other role at any', () => {
    const payment = paymentTo({ type: 'merchant', id: 'm-insta' });
    expect(mayAccessPayment({ subject: 'sre', role: 'operator', scopes: [] }, payment)).toBe(true);
    for (const role of ['person', 'analyst', 'advertiser'] as const) {
      expect(mayAccessPayment({ subject: 'ana', role, scopes: [], merchants: ['m-insta'] }, payment)).toBe(false);
    }
  });

  it('lets the support service refund only the payment its verified case names, and no one else beyond who may see it', () => {
    const payment = paymentTo({ type: 'merchant', id: 'm-facebook' });
    const supportService: Principal = { subject: 'support', role: 'service', scopes: ['payments:refund'] };
    expect(mayRefundPayment(supportService, payment, { paymentId: 'pay-1' })).toBe(true);
    // Its token alone, or a case about another payment, refunds nothing.
    expect(mayRefundPayment(supportService, payment)).toBe(false);
    expect(mayRefundPayment(supportService, payment, { paymentId: 'pay-2' })).toBe(false);
    expect(mayRefundPayment(instagramShop, payment)).toBe(false);
    expect(mayRefundPayment(instagramShop, paymentTo({ type: 'merchant', id: 'm-insta' }))).toBe(true);
    // A case does not widen an app's backend, and an agent's own token (role support), or a person named support, is not the support service.
    expect(mayRefundPayment(instagramShop, payment, { paymentId: 'pay-1' })).toBe(false);
    expect(mayRefundPayment({ subject: 'support', role: 'support', scopes: ['payments:refund'] }, payment, { paymentId: 'pay-1' })).toBe(false);
    expect(mayRefundPayment({ subject: 'support', role: 'person', scopes: [] }, payment, { paymentId: 'pay-1' })).toBe(false);
  });

  it("lets an app's backend ask for payments in its own app only", () => {
    expect(mayInitiateInApp(instagramShop, 'instagram')).toBe(true);
    expect(mayInitiateInApp(instagramShop, 'facebook')).toBe(false);
    expect(mayInitiateInApp({ subject: 'platform', role: 'service', scopes: ['payments:initiate'] }, 'instagram')).toBe(false);
    expect(mayInitiateInApp({ subject: 'instagram-backend', role: 'person', scopes: [], app: 'instagram' }, 'instagram')).toBe(false);
  });
});
