import type { Money } from '@pay/contracts';
import { toMinorUnits } from '@pay/contracts';
import type { PspWebhookEvent } from '../../../psp/psp.port';

/** A Stripe webhook saying payment `pay_<key>` (PaymentIntent `pi_<key>`) was captured for `amount`. */
export function capturedWebhook(key: string, amount: Money, extra: { metadata?: Record<string, string>; payload?: unknown } = {}): PspWebhookEvent {
  return {
    provider: 'stripe',
    id: `evt_${key}`,
    type: 'payment_intent.succeeded',
    createdAt: new Date('2026-11-25T10:00:00Z'),
    livemode: false,
    subject: {
      kind: 'payment',
      payment: {
        provider: 'stripe',
        id: `pi_${key}`,
        providerStatus: 'succeeded',
        observation: { stage: 'captured', reference: `pi_${key}`, amount: toMinorUnits(amount) },
        amount,
        captureMethod: 'automatic',
        paymentId: `pay_${key}`,
        metadata: extra.metadata ?? {},
      },
    },
    payload: extra.payload,
  };
}
