import { money } from '@pay/contracts';
import type Stripe from 'stripe';
import type { PspPayment, PspRefund, PspWebhookSubject } from '../psp.port';
import { fromStripeAmount } from './stripe-amounts';
import { observeStripeDispute, observeStripePaymentIntent, observeStripeRefund, STRIPE_PROVIDER } from './stripe-status';

/** Metadata keys we set on Stripe objects to find our payment and refund from theirs. */
export const METADATA_PAYMENT_ID = 'payment_id';
export const METADATA_REFUND_ID = 'refund_id';

const idOf = (value: string | { id: string } | null | undefined): string | undefined => (typeof value === 'string' ? value : value?.id);

export function toPspPayment(intent: Stripe.PaymentIntent): PspPayment {
  const metadata = intent.metadata ?? {};
  const error = intent.last_payment_error;
  return {
    provider: STRIPE_PROVIDER,
    id: intent.id,
    providerStatus: intent.status,
    observation: observeStripePaymentIntent({
      id: intent.id,
      status: intent.status,
      amount: fromStripeAmount(intent.amount),
      amountCapturable: fromStripeAmount(intent.amount_capturable),
      amountReceived: fromStripeAmount(intent.amount_received),
      lastPaymentError: error ? { code: error.code ?? null, declineCode: error.decline_code ?? null } : null,
      cancellationReason: intent.cancellation_reason,
      paymentMethodTypes: intent.payment_method_types,
    }),
    amount: money(fromStripeAmount(intent.amount), intent.currency.toUpperCase()),
    captureMethod: intent.capture_method === 'manual' ? 'manual' : 'automatic',
    ...(metadata[METADATA_PAYMENT_ID] ? { paymentId: metadata[METADATA_PAYMENT_ID] } : {}),
    metadata,
  };
}

export function toPspRefund(refund: Stripe.Refund): PspRefund {
  const metadata = refund.metadata ?? {};
  const pspPaymentId = idOf(refund.payment_intent);
  return {
    provider: STRIPE_PROVIDER,
    id: refund.id,
    ...(pspPaymentId ? { pspPaymentId } : {}),
    ...(metadata[METADATA_PAYMENT_ID] ? { paymentId: metadata[METADATA_PAYMENT_ID] } : {}),
    providerStatus: refund.status ?? 'pending',
    observation: observeStripeRefund({
      // Our id when we asked for it; Stripe's for a refund made in its dashboard.
      refundId: metadata[METADATA_REFUND_ID] ?? refund.id,
      status: refund.status,
      amount: fromStripeAmount(refund.amount),
      failureReason: refund.failure_reason ?? null,
    }),
    currency: refund.currency.toUpperCase(),
  };
}

/** Reads what a webhook is about from its `data.object`. */
export function toWebhookSubject(object: { object?: string; id?: string }): PspWebhookSubject {
  switch (object.object) {
    case 'payment_intent':
      return { kind: 'payment', payment: toPspPayment(object as Stripe.PaymentIntent) };
    case 'refund':
      return { kind: 'refund', refund: toPspRefund(object as Stripe.Refund) };
    case 'dispute': {
      const dispute = object as Stripe.Dispute;
      const pspPaymentId = idOf(dispute.payment_intent);
      return {
        kind: 'dispute',
        ...(pspPaymentId ? { pspPaymentId } : {}),
        observation: observeStripeDispute({ id: dispute.id, status: dispute.status, amount: fromStripeAmount(dispute.amount), reason: dispute.reason }),
      };
    }
    default:
      return { kind: 'other', objectType: object.object ?? 'unknown', ...(object.id ? { objectId: object.id } : {}) };
  }
}
