import type { ApiContext } from '../api-context';
import { invalidRequest } from '../http/stripe-error';
import { findPaymentMethod, TEST_PAYMENT_METHODS } from '../payment-methods/test-payment-methods';
import type { PaymentIntentObject } from '../simulator-state';
import { approve, decline } from './attempt-payment';
import { findIntent } from './payment-intent-routes';

/**
 * Control API: finishes what a person or a bank would finish outside the API — a 3-D Secure
 * challenge (requires_action) or a delayed method (processing) — with success or failure. A bank
 * debit fails with `failureCode` when given (the bank's answer, on command), else with its
 * payment method's.
 */
export function completePaymentIntent(context: ApiContext, id: string, outcome: 'succeeded' | 'failed', failureCode?: DebitReturnCode): PaymentIntentObject {
  const intent = findIntent(context, id);
  const paymentMethod = intent.payment_method ?? 'pm_card_visa';
  const method = findPaymentMethod(paymentMethod, context.state.aliases) ?? TEST_PAYMENT_METHODS.pm_card_visa;
  if (intent.status === 'requires_action') {
    if (outcome === 'succeeded') approve(context, intent, paymentMethod);
    else {
      decline(
        context,
        intent,
        paymentMethod,
        method,
        {
          code: 'payment_intent_authentication_failure',
          message: 'The provided PaymentMethod has failed authentication.',
        },
        'no charge',
      );
    }
    return intent;
  }
  if (intent.status === 'processing') {
    const pending = intent.latest_charge ? context.state.charges.get(intent.latest_charge) : undefined;
    const debit = context.state.debits.get(id);
    if (debit) debit.answered = true;
    const behaviour = method.behaviour;
    if (outcome === 'succeeded') approve(context, intent, paymentMethod, pending);
    else if (behaviour.kind === 'debit') {
      // The payer's bank refused the debit after days (no funds, mandate revoked): a late failure.
      const code = failureCode ?? behaviour.failureCode ?? 'insufficient_funds';
      decline(context, intent, paymentMethod, method, { code, message: 'The bank refused the debit.' }, pending ?? 'new charge');
    } else
      decline(
        context,
        intent,
        paymentMethod,
        method,
        { code: 'card_declined', declineCode: 'generic_decline', message: 'Your card was declined.' },
        pending ?? 'new charge',
      );
    return intent;
  }
  throw invalidRequest(`PaymentIntent ${id} is ${intent.status}: only requires_action or processing can be completed`);
}

/** The codes a payer's bank returns a settled debit with (SEPA R-transactions, ACH return codes), in Stripe's words. */
export const DEBIT_RETURN_CODES = [
  'insufficient_funds',
  'debit_not_authorized',
  'account_closed',
  'no_account',
  'invalid_account_number',
  'account_frozen',
  'bank_account_restricted',
] as const;
export type DebitReturnCode = (typeof DEBIT_RETURN_CODES)[number];

/**
 * Control API: the payer's bank returns a bank debit that already succeeded (funds found missing
 * late, an unauthorised debit claimed back): the charge fails and the PaymentIntent goes back to
 * requires_payment_method with `last_payment_error`, with `payment_intent.payment_failed`, as
 * Stripe reports a debit that fails after it succeeded. Only a settled bank debit can be returned.
 */
export function returnDebit(context: ApiContext, id: string, code: DebitReturnCode = 'insufficient_funds'): PaymentIntentObject {
  const intent = findIntent(context, id);
  const paymentMethod = intent.payment_method ?? '';
  const method = findPaymentMethod(paymentMethod, context.state.aliases);
  if (method?.behaviour.kind !== 'debit' || intent.status !== 'succeeded') {
    throw invalidRequest(
      `PaymentIntent ${id} is ${intent.status}${method?.behaviour.kind === 'debit' ? '' : ', not a bank debit'}: only a settled bank debit can be returned`,
    );
  }
  const charge = intent.latest_charge ? context.state.charges.get(intent.latest_charge) : undefined;
  decline(context, intent, paymentMethod, method, { code, message: 'The bank returned the debit.' }, charge ?? 'new charge');
  return intent;
}
