import { money } from '@pay/contracts';
import { capturedWebhook } from './test/payment-webhook';
import { fromWebhookRecord, toWebhookRecord } from './webhook-record';

describe('the stored form of a webhook', () => {
  const event = capturedWebhook('1', money(999_999_999_999_999_999n, 'USD'), {
    metadata: { payment_id: 'pay_1', note: 'call ana@example.com' },
    payload: { data: { object: { billing_details: { email: 'ana@example.com', phone: '+15551234567' } } } },
  });

  it('keeps what applying needs, exactly (amounts as bigint), and nothing of the provider payload', () => {
    const stored = JSON.parse(toWebhookRecord(event)) as unknown;
    expect(JSON.stringify(stored)).not.toMatch(/example\.com|5551234567|billing/);
    const read = fromWebhookRecord('stripe', stored);
    expect(read.subject).toEqual({ kind: 'payment', payment: { ...(event.subject as { payment: object }).payment, metadata: {} } });
    expect(read).toMatchObject({ provider: 'stripe', id: 'evt_1', type: 'payment_intent.succeeded', createdAt: event.createdAt });
  });
});
