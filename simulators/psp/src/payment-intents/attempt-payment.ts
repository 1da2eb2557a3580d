import type { ApiContext } from '../api-context';
import { StripeApiError } from '../http/stripe-error';
import { newId, nowSeconds } from '../ids';
import type { TestPaymentMethod } from '../payment-methods/test-payment-methods';
import type { ChargeObject, LastPaymentError, PaymentIntentObject } from '../simulator-state';
import { snapshot } from '../simulator-state';

function paymentMethodView(id: string, method: TestPaymentMethod): LastPaymentError['payment_method'] {
  return { id, object: 'payment_method', type: 'card', card: { brand: method.brand, last4: method.last4 } };
}

function newCharge(intent: PaymentIntentObject, paymentMethod: string, status: ChargeObject['status'], failureCode: string | null = null): ChargeObject {
  return {
    id: newId('ch'),
    object: 'charge',
    amount: intent.amount,
    amount_captured: 0,
    amount_refunded: 0,
    captured: false,
    refunded: false,
    disputed: false,
    currency: intent.currency,
    payment_intent: intent.id,
    payment_method: paymentMethod,
    status,
    failure_code: failureCode,
    created: nowSeconds(),
    livemode: false,
  };
}

const capturesAutomatically = (intent: PaymentIntentObject): boolean => intent.capture_method !== 'manual';

/** The charge of this attempt: a new one, or the pending one a delayed method opened. */
function settleCharge(
  context: ApiContext,
  intent: PaymentIntentObject,
  paymentMethod: string,
  status: ChargeObject['status'],
  failureCode: string | null,
  pending?: ChargeObject,
): ChargeObject {
  if (pending) {
    pending.status = status;
    pending.failure_code = failureCode;
    return pending;
  }
  const charge = newCharge(intent, paymentMethod, status, failureCode);
  context.state.charges.set(charge.id, charge);
  return charge;
}

/** The card network said yes: hold (manual capture) or take (automatic) the amount. */
export function approve(context: ApiContext, intent: PaymentIntentObject, paymentMethod: string, pending?: ChargeObject): void {
  const charge = settleCharge(context, intent, paymentMethod, 'succeeded', null, pending);
  intent.latest_charge = charge.id;
  intent.last_payment_error = null;
  intent.next_action = null;
  if (capturesAutomatically(intent)) {
    charge.captured = true;
    charge.amount_captured = intent.amount;
    intent.status = 'succeeded';
    intent.amount_received = intent.amount;
    intent.amount_capturable = 0;
    context.emit('payment_intent.succeeded', intent);
  } else {
    intent.status = 'requires_capture';
    intent.amount_capturable = intent.amount;
    context.emit('payment_intent.amount_capturable_updated', intent);
  }
}

/**
 * A declined attempt, as Stripe records it: a failed charge, the PaymentIntent back in
 * requires_payment_method with `last_payment_error`, and a 402 card_error that carries both.
 */
export function decline(
  context: ApiContext,
  intent: PaymentIntentObject,
  paymentMethod: string,
  method: TestPaymentMethod,
  reason: { code: string; declineCode?: string; message: string; adviceCode?: string },
  charged: 'new charge' | 'no charge' | ChargeObject = 'new charge',
): StripeApiError {
  // A failed 3-D Secure challenge never reached the card network: no charge.
  const charge =
    charged === 'no charge' ? undefined : settleCharge(context, intent, paymentMethod, 'failed', reason.code, charged === 'new charge' ? undefined : charged);
  if (charge) intent.latest_charge = charge.id;
  const error: LastPaymentError = {
    type: 'card_error',
    code: reason.code,
    ...(reason.declineCode ? { decline_code: reason.declineCode } : {}),
    ...(reason.adviceCode ? { advice_code: reason.adviceCode } : {}),
    message: reason.message,
    ...(charge ? { charge: charge.id } : {}),
    payment_method: paymentMethodView(paymentMethod, method),
  };
  intent.status = 'requires_payment_method';
  intent.next_action = null;
  intent.last_payment_error = error;
  context.emit('payment_intent.payment_failed', intent);
  const { type: _type, message, ...fields } = error;
  return new StripeApiError(402, 'card_error', message, {
    ...fields,
    doc_url: `https://stripe.com/docs/error-codes/${reason.code.replace(/_/g, '-')}`,
    payment_intent: snapshot(intent),
  });
}

/** Whether a SetupIntent saved this PaymentMethod, its 3-D Secure challenge completed (what lets Stripe charge it off-session). */
function setUpWithAuthentication(context: ApiContext, paymentMethod: string): boolean {
  for (const setup of context.state.setupIntents.values()) if (setup.payment_method === paymentMethod && setup.status === 'succeeded') return true;
  return false;
}

/**
 * Confirms a PaymentIntent with a payment method: what the card does decides the status. Throws
 * the 402 of a decline (after recording it: a decline is a result, replayed for its key).
 */
export function attemptPayment(context: ApiContext, intent: PaymentIntentObject, paymentMethod: string, method: TestPaymentMethod, offSession: boolean): void {
  intent.payment_method = paymentMethod;
  const behaviour = method.behaviour;
  switch (behaviour.kind) {
    case 'approve':
      approve(context, intent, paymentMethod);
      return;
    case 'approve_then_5xx':
      approve(context, intent, paymentMethod);
      context.failFirstAnswer = true;
      return;
    case 'approve_then_hang':
      approve(context, intent, paymentMethod);
      context.hangAnswer = true;
      return;
    case 'decline':
      throw decline(context, intent, paymentMethod, method, behaviour);
    case 'authenticate':
      if (offSession && behaviour.onceSetUp && setUpWithAuthentication(context, paymentMethod)) {
        approve(context, intent, paymentMethod);
        return;
      }
      if (offSession) {
        throw decline(context, intent, paymentMethod, method, {
          code: 'authentication_required',
          declineCode: 'authentication_required',
          message: 'Your card was declined. This transaction requires authentication.',
        });
      }
      intent.status = 'requires_action';
      intent.next_action = { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect' } };
      context.emit('payment_intent.requires_action', intent);
      return;
    case 'debit': {
      const charge = newCharge(intent, paymentMethod, 'pending');
      context.state.charges.set(charge.id, charge);
      intent.latest_charge = charge.id;
      intent.payment_method_types = [behaviour.type];
      intent.status = 'processing';
      context.state.debits.set(intent.id, {
        paymentIntent: intent.id,
        settlesAt: context.clock.now() + context.debitDelayMs,
        outcome: behaviour.outcome,
        answered: false,
      });
      context.emit('payment_intent.processing', intent);
      return;
    }
    case 'processing': {
      const charge = newCharge(intent, paymentMethod, 'pending');
      context.state.charges.set(charge.id, charge);
      intent.latest_charge = charge.id;
      intent.status = 'processing';
      context.emit('payment_intent.processing', intent);
      return;
    }
  }
}
