import type { ApiContext } from '../api-context';
import { invalidRequest, notFound } from '../http/stripe-error';
import { newId, nowSeconds } from '../ids';
import type { DisputeObject } from '../simulator-state';

/** Control API: the payer's bank disputes a captured charge (by default for what is left of it). */
export function openDispute(context: ApiContext, paymentIntentId: string, options: { amount?: number; reason?: string } = {}): DisputeObject {
  const intent = context.state.paymentIntents.get(paymentIntentId);
  if (!intent) throw notFound('payment_intent', paymentIntentId);
  const charge = intent.latest_charge ? context.state.charges.get(intent.latest_charge) : undefined;
  if (!charge || !charge.captured) throw invalidRequest(`PaymentIntent ${paymentIntentId} has no captured charge to dispute`);
  if (charge.disputed) throw invalidRequest(`Charge ${charge.id} is already disputed`);
  const dispute: DisputeObject = {
    id: newId('dp'),
    object: 'dispute',
    amount: options.amount ?? charge.amount_captured - charge.amount_refunded,
    charge: charge.id,
    currency: charge.currency,
    payment_intent: intent.id,
    reason: options.reason ?? 'fraudulent',
    status: 'needs_response',
    created: nowSeconds(),
    livemode: false,
  };
  charge.disputed = true;
  context.state.disputes.set(dispute.id, dispute);
  context.emit('charge.dispute.created', dispute);
  return dispute;
}

/** Control API: the card network decides. */
export function closeDispute(context: ApiContext, id: string, status: 'won' | 'lost'): DisputeObject {
  const dispute = context.state.disputes.get(id);
  if (!dispute) throw notFound('dispute', id);
  if (dispute.status === 'won' || dispute.status === 'lost') throw invalidRequest(`Dispute ${id} is already ${dispute.status}`);
  dispute.status = status;
  context.emit('charge.dispute.closed', dispute);
  return dispute;
}
