import { money } from '@pay/contracts';
import type { PspWebhookEvent } from '../../psp/psp.port';
import { fromWebhookRecord, toWebhookRecord } from './webhook-record';

describe('the stored form of a webhook', () => {
  const event: PspWebhookEvent = {
    provider: 'stripe',
    id: 'evt_1',
    type: 'payment_intent.succeeded',
    createdAt: new Date('2026-11-25T10:00:00Z'),
    livemode: false,
    subject: {
      kind: 'payment',
      payment: {
        provider: 'stripe',
        id: 'pi_1',
        providerStatus: 'succeeded',
        observation: { stage: 'captured', reference: 'pi_1', amount: 999_999_999_999_999_999n },
        amount: money(999_999_999_999_999_999n, 'USD'),
        captureMethod: 'automatic',
        paymentId: 'pay-1',
        metadata: { payment_id: 'pay-1', note: 'call ana@example.com' },
      },
    },
    payload: { data: { object: { billing_details: { email: 'ana@example.com', phone: '+15551234567' } } } },
  };

  it('keeps what applying needs, exactly (amounts as bigint), and nothing of the provider payload', () => {
    const stored = JSON.parse(toWebhookRecord(event)) as unknown;
    expect(JSON.stringify(stored)).not.toMatch(/example\.com|5551234567|billing/);
    const read = fromWebhookRecord('stripe', stored);
    expect(read.subject).toEqual({ kind: 'payment', payment: { ...(event.subject as { payment: object }).payment, metadata: {} } });
    expect(read).toMatchObject({ provider: 'stripe', id: 'evt_1', type: 'payment_intent.succeeded', createdAt: event.createdAt });
  });
});
