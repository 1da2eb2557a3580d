import type { ApiAnswer, ApiContext } from '../api-context';
import { ok } from '../api-context';
import type { FormObject } from '../http/form-body';
import { metadataOf, oneOf, optionalAmount, optionalString } from '../http/params';
import { invalidRequest, missingParam, notFound } from '../http/stripe-error';
import { newId, nowSeconds } from '../ids';
import type { ChargeObject, RefundObject } from '../simulator-state';
import { snapshot } from '../simulator-state';

const REFUND_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;

function chargeToRefund(context: ApiContext, params: FormObject): ChargeObject {
  const intentId = optionalString(params, 'payment_intent');
  const chargeId = optionalString(params, 'charge');
  if (!intentId && !chargeId) throw missingParam('payment_intent');
  if (intentId) {
    const intent = context.state.paymentIntents.get(intentId);
    if (!intent) throw notFound('payment_intent', intentId, 'payment_intent');
    const charge = intent.latest_charge ? context.state.charges.get(intent.latest_charge) : undefined;
    if (intent.status !== 'succeeded' || !charge) {
      throw invalidRequest(`This PaymentIntent (${intentId}) does not have a successful charge to refund.`, {
        code: 'charge_not_refundable',
        param: 'payment_intent',
      });
    }
    return charge;
  }
  const charge = context.state.charges.get(chargeId as string);
  if (!charge) throw notFound('charge', chargeId as string, 'charge');
  return charge;
}

/**
 * POST /v1/refunds: refunds all or part of what is left of a captured charge. Card refunds
 * succeed at once here; `failRefund` (control API) fails one later, as banks sometimes do.
 */
export function createRefund(context: ApiContext, params: FormObject): ApiAnswer {
  const charge = chargeToRefund(context, params);
  if (charge.disputed) throw invalidRequest(`Charge ${charge.id} has been charged back; cannot issue a refund.`, { code: 'charge_disputed' });
  const remaining = charge.amount_captured - charge.amount_refunded;
  if (remaining === 0) throw invalidRequest(`Charge ${charge.id} has already been refunded.`, { code: 'charge_already_refunded' });
  const amount = optionalAmount(params, 'amount') ?? remaining;
  if (amount > remaining) {
    throw invalidRequest(`Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`, { code: 'amount_too_large', param: 'amount' });
  }
  const refund: RefundObject = {
    id: newId('re'),
    object: 'refund',
    amount,
    charge: charge.id,
    currency: charge.currency,
    payment_intent: charge.payment_intent,
    reason: oneOf(params, 'reason', REFUND_REASONS) ?? null,
    status: 'succeeded',
    failure_reason: null,
    metadata: metadataOf(params),
    created: nowSeconds(),
  };
  context.state.refunds.set(refund.id, refund);
  charge.amount_refunded += amount;
  charge.refunded = charge.amount_refunded === charge.amount_captured;
  context.emit('refund.created', refund);
  context.emit('charge.refunded', charge);
  return ok(snapshot(refund));
}

export function retrieveRefund(context: ApiContext, id: string): ApiAnswer {
  const refund = context.state.refunds.get(id);
  if (!refund) throw notFound('refund', id);
  return ok(snapshot(refund));
}

/** Control API: a refund that succeeded fails later (closed card account); the money returns to the merchant. */
export function failRefund(context: ApiContext, id: string, reason = 'expired_or_canceled_card'): RefundObject {
  const refund = context.state.refunds.get(id);
  if (!refund) throw notFound('refund', id);
  if (refund.status === 'failed') return refund;
  const charge = context.state.charges.get(refund.charge);
  if (charge) {
    charge.amount_refunded -= refund.amount;
    charge.refunded = false;
  }
  refund.status = 'failed';
  refund.failure_reason = reason;
  context.emit('refund.failed', refund);
  context.emit('refund.updated', refund);
  return refund;
}
