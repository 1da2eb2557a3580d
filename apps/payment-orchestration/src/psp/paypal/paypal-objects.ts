import type { AuthorizationWithAdditionalData, CapturedPayment, Order, PaymentAuthorization, Refund } from '@paypal/paypal-server-sdk';
import { money } from '@pay/contracts';
import type { PspPayment, PspRefund, PspWebhookSubject } from '../psp.port';
import { fromPayPalValue } from './paypal-amounts';
import { observePayPalDispute, observePayPalOrder, observePayPalRefund, PAYPAL_PROVIDER } from './paypal-status';

/** A refund's custom_id: `<paymentId>:<refundId>`, our ids, so that its webhook finds the payment and the refund. */
export function refundCustomId(paymentId: string, refundId: string): string {
  return `${paymentId}:${refundId}`;
}

function ourRefundIds(customId: string | undefined): { paymentId?: string; refundId?: string } {
  const [paymentId, refundId] = customId?.split(':') ?? [];
  return paymentId && refundId ? { paymentId, refundId } : {};
}

function paymentOf(
  orderId: string,
  providerStatus: string,
  capture: CapturedPayment | undefined,
  amount: { currencyCode: string; value: string } | undefined,
  paymentId: string | undefined,
  authorization?: PaymentAuthorization | AuthorizationWithAdditionalData,
): PspPayment {
  const currency = (amount?.currencyCode ?? 'XXX').toUpperCase();
  return {
    provider: PAYPAL_PROVIDER,
    id: orderId,
    providerStatus,
    observation: observePayPalOrder({
      orderId,
      status: providerStatus,
      ...(capture?.status
        ? {
            capture: {
              status: capture.status,
              amount: fromPayPalValue(capture.amount?.value, currency),
              ...(capture.statusDetails?.reason ? { reason: capture.statusDetails.reason } : {}),
            },
          }
        : {}),
      ...(authorization?.status ? { authorization: { status: authorization.status, amount: fromPayPalValue(authorization.amount?.value, currency) } } : {}),
    }),
    amount: money(fromPayPalValue(amount?.value, currency), currency),
    // An order authorised first (intent AUTHORIZE) is captured later: manual capture.
    captureMethod: authorization ? 'manual' : 'automatic',
    ...(paymentId ? { paymentId } : {}),
    metadata: {},
  };
}

/** An order as the SDK reads it (one purchase unit, its capture if any). */
export function orderToPspPayment(order: Order): PspPayment {
  const unit = order.purchaseUnits?.[0];
  const capture = unit?.payments?.captures?.[0];
  const authorization = unit?.payments?.authorizations?.[0];
  return paymentOf(order.id ?? '', order.status ?? 'UNKNOWN', capture, unit?.amount ?? capture?.amount, unit?.customId ?? capture?.customId, authorization);
}

/** An authorisation, as a webhook carries it (PAYMENT.AUTHORIZATION.*): the payment is its order. */
export function authorizationToPspPayment(authorization: PaymentAuthorization): PspPayment | undefined {
  const orderId = authorization.supplementaryData?.relatedIds?.orderId;
  if (!orderId) return undefined;
  return paymentOf(orderId, 'COMPLETED', undefined, authorization.amount, authorization.customId, authorization);
}

/** A capture, as a webhook carries it: the payment is its order (supplementary_data.related_ids.order_id). */
export function captureToPspPayment(capture: CapturedPayment): PspPayment | undefined {
  const orderId = capture.supplementaryData?.relatedIds?.orderId;
  if (!orderId) return undefined;
  return paymentOf(orderId, 'COMPLETED', capture, capture.amount, capture.customId);
}

export function refundToPspRefund(refund: Refund, orderId?: string): PspRefund {
  const currency = (refund.amount?.currencyCode ?? 'XXX').toUpperCase();
  const ours = ourRefundIds(refund.customId);
  return {
    provider: PAYPAL_PROVIDER,
    id: refund.id ?? '',
    ...(orderId ? { pspPaymentId: orderId } : {}),
    ...(ours.paymentId ? { paymentId: ours.paymentId } : {}),
    providerStatus: refund.status ?? 'PENDING',
    observation: observePayPalRefund({
      refundId: ours.refundId ?? refund.id ?? '',
      status: refund.status ?? 'PENDING',
      amount: fromPayPalValue(refund.amount?.value, currency),
      ...(refund.statusDetails?.reason ? { reason: refund.statusDetails.reason } : {}),
    }),
    currency,
  };
}

/** PayPal's JSON is snake case; the SDK's models are the same fields in camel case. */
export function camelCaseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelCaseKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()), camelCaseKeys(item)]));
}

/** What a webhook is about, from its resource_type and resource (PayPal's JSON, read as the SDK's models). */
export function webhookSubjectOf(resourceType: string, resource: unknown): PspWebhookSubject {
  const object = camelCaseKeys(resource) as { id?: unknown };
  const objectId = typeof object.id === 'string' ? object.id : undefined;
  if (resourceType === 'capture') {
    const payment = captureToPspPayment(object as CapturedPayment);
    if (payment) return { kind: 'payment', payment };
  }
  if (resourceType === 'authorization') {
    const payment = authorizationToPspPayment(object as PaymentAuthorization);
    if (payment) return { kind: 'payment', payment };
  }
  if (resourceType === 'dispute') {
    const subject = disputeSubjectOf(resource);
    if (subject) return subject;
  }
  if (resourceType === 'refund' && objectId) return { kind: 'refund', refund: refundToPspRefund(object as Refund) };
  if (resourceType === 'checkout-order' && objectId) return { kind: 'payment', payment: orderToPspPayment(object as Order) };
  return { kind: 'other', objectType: resourceType, ...(objectId ? { objectId } : {}) };
}

/**
 * A dispute webhook's resource (CUSTOMER.DISPUTE.*, Customer Disputes v1: not one of the SDK's
 * models, so read field by field). Its disputed transaction is our capture, whose `custom` is the
 * purchase unit's custom id: our payment id. Undefined when it names no dispute or amount.
 */
function disputeSubjectOf(resource: unknown): PspWebhookSubject | undefined {
  if (typeof resource !== 'object' || resource === null) return undefined;
  const dispute = resource as {
    dispute_id?: unknown;
    status?: unknown;
    reason?: unknown;
    dispute_amount?: { currency_code?: unknown; value?: unknown };
    dispute_outcome?: { outcome_code?: unknown };
    disputed_transactions?: { custom?: unknown }[];
  };
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  const disputeId = text(dispute.dispute_id);
  const currency = text(dispute.dispute_amount?.currency_code);
  const value = text(dispute.dispute_amount?.value);
  if (!disputeId || !currency || !value) return undefined;
  const outcome = text(dispute.dispute_outcome?.outcome_code);
  const reason = text(dispute.reason);
  const paymentId = text(dispute.disputed_transactions?.[0]?.custom);
  return {
    kind: 'dispute',
    ...(paymentId ? { paymentId } : {}),
    observation: observePayPalDispute({
      disputeId,
      status: text(dispute.status) ?? 'OPEN',
      ...(outcome ? { outcome } : {}),
      ...(reason ? { reason } : {}),
      amount: fromPayPalValue(value, currency.toUpperCase()),
    }),
  };
}
