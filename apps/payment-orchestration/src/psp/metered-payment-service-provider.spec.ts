import { money } from '@pay/contracts';
import { MeteredPaymentServiceProvider, pspErrorClass } from './metered-payment-service-provider';
import type { PaymentServiceProvider, PspResult, PspPayment } from './psp.port';

describe('PSP error classes', () => {
  it('tells declines (business) from the technical failures', () => {
    expect(pspErrorClass({ outcome: 'declined', code: 'card_declined', declineCode: 'generic_decline' })).toBe('decline');
    expect(pspErrorClass({ outcome: 'unknown', reason: 'Request aborted due to timeout being reached (1000ms)' })).toBe('network');
    expect(pspErrorClass({ outcome: 'retryable', reason: 'Stripe unreachable (ECONNREFUSED)' })).toBe('network');
    expect(pspErrorClass({ outcome: 'retryable', reason: 'boom', statusCode: 503 })).toBe('server_error');
    expect(pspErrorClass({ outcome: 'unknown', reason: 'final for the key', statusCode: 500 })).toBe('server_error');
    expect(pspErrorClass({ outcome: 'retryable', reason: 'slow down', statusCode: 429, retryAfterMs: 1_000 })).toBe('rate_limited');
    expect(pspErrorClass({ outcome: 'rejected', code: 'authentication_failed', reason: 'bad key', statusCode: 401 })).toBe('rejected');
    expect(pspErrorClass({ outcome: 'retryable', reason: 'lock timeout', statusCode: 409 })).toBe('other');
    expect(pspErrorClass({ outcome: 'idempotency_conflict', reason: 'key reused' })).toBe('other');
  });
});

describe('the metered PSP port', () => {
  const payment = { provider: 'test', id: 'pi_1' } as PspPayment;
  const inner = (createPayment: () => Promise<PspResult<PspPayment>>): PaymentServiceProvider =>
    ({ provider: 'test', createPayment, verifyWebhook: () => Promise.resolve({ id: 'evt_1' }) }) as unknown as PaymentServiceProvider;
  const request = {
    idempotencyKey: 'p1:authorize',
    paymentId: 'p1',
    amount: money(100n, 'USD'),
    paymentMethod: 'pm_1',
    captureMethod: 'automatic',
    offSession: true,
  } as const;

  it('answers what the adapter answers, and names the same provider', async () => {
    const metered = new MeteredPaymentServiceProvider(inner(async () => ({ outcome: 'succeeded', value: payment })));
    expect(metered.provider).toBe('test');
    expect(await metered.createPayment(request)).toEqual({ outcome: 'succeeded', value: payment });
    const declined = new MeteredPaymentServiceProvider(inner(async () => ({ outcome: 'declined', code: 'card_declined' })));
    expect(await declined.createPayment(request)).toEqual({ outcome: 'declined', code: 'card_declined' });
    await expect(metered.verifyWebhook(Buffer.from('{}'), { 'stripe-signature': 'sig' })).resolves.toEqual({ id: 'evt_1' });
  });

  it('lets an adapter bug through', async () => {
    const broken = new MeteredPaymentServiceProvider(
      inner(async () => {
        throw new TypeError('bug');
      }),
    );
    await expect(broken.createPayment(request)).rejects.toThrow('bug');
  });
});
