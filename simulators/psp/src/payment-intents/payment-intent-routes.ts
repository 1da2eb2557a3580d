import { randomBytes } from 'node:crypto';
import type { ApiAnswer, ApiContext } from '../api-context';
import { assertChargeable, recordUse } from '../customers/customer-routes';
import { assertVerifiedIfBankAccount } from '../setup-intents/bank-account-setup';
import { ok } from '../api-context';
import type { FormObject, FormValue } from '../http/form-body';
import { metadataOf, oneOf, optionalAmount, optionalBoolean, optionalString, requiredAmount, requiredString } from '../http/params';
import { invalidRequest, missingParam, notFound, unexpectedState } from '../http/stripe-error';
import { newId, nowSeconds } from '../ids';
import { bankAccountBehaviour, cardTokenBehaviour, findPaymentMethod } from '../payment-methods/test-payment-methods';
import type { PaymentIntentObject } from '../simulator-state';
import { snapshot } from '../simulator-state';
import { attemptPayment } from './attempt-payment';

const CAPTURE_METHODS = ['automatic', 'automatic_async', 'manual'] as const;
const CANCELLATION_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'] as const;

export function findIntent(context: ApiContext, id: string): PaymentIntentObject {
  const intent = context.state.paymentIntents.get(id);
  if (!intent) throw notFound('payment_intent', id, 'intent');
  return intent;
}

function confirmWith(context: ApiContext, intent: PaymentIntentObject, paymentMethod: string | undefined, offSession: boolean): void {
  const id = paymentMethod ?? intent.payment_method;
  if (!id) {
    throw invalidRequest("You cannot confirm this PaymentIntent because it's missing a payment method.", {
      code: 'payment_intent_unexpected_state',
      param: 'payment_method',
    });
  }
  const method = findPaymentMethod(id, context.state.aliases);
  if (!method) throw notFound('PaymentMethod', id, 'payment_method');
  assertChargeable(context, id, intent.customer);
  assertVerifiedIfBankAccount(context, id);
  assertAllowedType(context, id, intent);
  // Used, whatever the card network answers: an unattached PaymentMethod is not charged twice.
  recordUse(context, id, intent.id);
  attemptPayment(context, intent, id, method, offSession);
}

const PAYMENT_METHOD_TYPES = ['card', 'sepa_debit', 'us_bank_account'] as const;
type PaymentMethodType = (typeof PAYMENT_METHOD_TYPES)[number];
/** The one currency each bank debit type takes, as on Stripe. */
const DEBIT_CURRENCY: Readonly<Record<string, string>> = { sepa_debit: 'eur', us_bank_account: 'usd' };

const hash = (value: FormValue | undefined): FormObject | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;

/**
 * A saved bank account's PaymentMethod is debited only by a PaymentIntent that allows its type, in
 * that debit's currency, as Stripe refuses it (a saved IBAN is not charged as a card, nor in USD).
 */
function assertAllowedType(context: ApiContext, paymentMethod: string, intent: PaymentIntentObject): void {
  const saved = context.state.paymentMethods.get(paymentMethod);
  if (!saved || saved.type === 'card') return;
  if (!(intent.payment_method_types as readonly string[]).includes(saved.type))
    throw invalidRequest(
      `The PaymentMethod provided (${saved.type}) is not allowed for this PaymentIntent. Please attach a PaymentMethod of one of the following types: ${intent.payment_method_types.join(', ')}.`,
      { code: 'payment_intent_invalid_parameter', param: 'payment_method' },
    );
  if (DEBIT_CURRENCY[saved.type] !== intent.currency)
    throw invalidRequest(`The currency provided (${intent.currency}) is invalid for ${saved.type}: it takes ${DEBIT_CURRENCY[saved.type]}.`, {
      code: 'payment_intent_invalid_parameter',
      param: 'currency',
    });
}

/**
 * The types the PaymentIntent takes (`card` when absent): `allowed_payment_method_types[]` (the
 * current API version's name, the SDK's), or `payment_method_types[]` (older versions').
 */
function paymentMethodTypesOf(params: FormObject): PaymentMethodType[] | undefined {
  const name = params.allowed_payment_method_types !== undefined ? 'allowed_payment_method_types' : 'payment_method_types';
  const value = params[name];
  if (value === undefined || value === '') return undefined;
  const list = Array.isArray(value) ? value : typeof value === 'object' ? Object.values(value) : [value];
  return list.map((type, i) => {
    if (typeof type !== 'string' || !(PAYMENT_METHOD_TYPES as readonly string[]).includes(type)) {
      throw invalidRequest(`The payment method type provided: ${JSON.stringify(type)} is invalid. This simulator takes ${PAYMENT_METHOD_TYPES.join(', ')}.`, {
        code: 'payment_intent_invalid_parameter',
        param: `${name}[${i}]`,
      });
    }
    return type as PaymentMethodType;
  });
}

/**
 * A bank account as `payment_method_data[type]=sepa_debit|us_bank_account`: Stripe makes a
 * PaymentMethod of it, which the PaymentIntent must take (`payment_method_types`), in the debit's
 * currency, under a mandate (`mandate_data[customer_acceptance][type]`).
 */
function bankAccountMethod(
  context: ApiContext,
  params: FormObject,
  data: FormObject,
  type: 'sepa_debit' | 'us_bank_account',
  accepts: PaymentIntentDefaults,
): string {
  if (!accepts.types.includes(type)) {
    throw invalidRequest(
      `The PaymentMethod provided (${type}) is not allowed for this PaymentIntent. Please attach a PaymentMethod of one of the following types: ${accepts.types.join(', ')}.`,
      { code: 'payment_intent_invalid_parameter', param: 'payment_method_data[type]' },
    );
  }
  if (accepts.currency !== DEBIT_CURRENCY[type]) {
    throw invalidRequest(
      `The currency provided (${accepts.currency}) is invalid. Payments with ${type} support the following currencies: ${DEBIT_CURRENCY[type]}.`,
      {
        code: 'payment_intent_invalid_parameter',
        param: 'currency',
      },
    );
  }
  const acceptance = hash(hash(params.mandate_data)?.customer_acceptance);
  if (acceptance?.type !== 'offline' && acceptance?.type !== 'online') {
    throw invalidRequest('A mandate is required to confirm a PaymentIntent with this payment method: pass mandate_data[customer_acceptance][type].', {
      code: 'parameter_missing',
      param: 'mandate_data[customer_acceptance][type]',
    });
  }
  const text = (value: FormValue | undefined): string | undefined => (typeof value === 'string' ? value : undefined);
  // An online acceptance names the payer's IP address and user agent, as Stripe requires.
  const online = hash(acceptance.online);
  if (acceptance.type === 'online') {
    for (const field of ['ip_address', 'user_agent'] as const)
      if (!text(online?.[field])) throw missingParam(`mandate_data[customer_acceptance][online][${field}]`);
  }
  const acceptedAt = text(acceptance.accepted_at);
  if (acceptedAt !== undefined && !/^\d{1,12}$/.test(acceptedAt))
    throw invalidRequest('Invalid integer: mandate_data[customer_acceptance][accepted_at]', { param: 'mandate_data[customer_acceptance][accepted_at]' });
  const details = hash(data[type]) ?? {};
  const name = text(hash(data.billing_details)?.name);
  if (!name) throw missingParam('payment_method_data[billing_details][name]');
  const found = bankAccountBehaviour(type, {
    iban: text(details.iban),
    routingNumber: text(details.routing_number),
    accountNumber: text(details.account_number),
  });
  if ('invalid' in found) throw invalidRequest(found.invalid, { code: 'invalid_bank_account', param: found.param });
  const id = newId('pm');
  context.state.aliases.set(id, found.behavesLike);
  const mandate = newId('mandate');
  context.state.mandates.set(mandate, {
    id: mandate,
    object: 'mandate',
    customer_acceptance:
      acceptance.type === 'online'
        ? {
            type: 'online',
            accepted_at: acceptedAt === undefined ? nowSeconds() : Number(acceptedAt),
            online: { ip_address: text(online?.ip_address) ?? '', user_agent: text(online?.user_agent) ?? '' },
          }
        : { type: 'offline', accepted_at: acceptedAt === undefined ? null : Number(acceptedAt), offline: {} },
    payment_method: id,
    payment_method_details: { type },
    status: 'active',
    type: 'multi_use',
    livemode: false,
  });
  return id;
}

/** What a PaymentIntent takes: its payment method types and currency. */
interface PaymentIntentDefaults {
  readonly types: readonly string[];
  readonly currency: string;
}

/**
 * The method a create or confirm names: `payment_method` (a PaymentMethod, card or source id), or
 * `payment_method_data` with a card token (`[type]=card&[card][token]=tok_…`) or a bank account
 * (`[type]=sepa_debit|us_bank_account`), of which Stripe makes a new PaymentMethod; the intent
 * then names that one. A token as `payment_method` is refused by findPaymentMethod, as Stripe
 * refuses it.
 */
function paymentMethodIn(context: ApiContext, params: FormObject, accepts: PaymentIntentDefaults): string | undefined {
  const paymentMethod = optionalString(params, 'payment_method');
  const data = params.payment_method_data;
  if (data === undefined || data === '') return paymentMethod;
  if (paymentMethod !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: payment_method, payment_method_data.', { param: 'payment_method_data' });
  }
  if (typeof data !== 'object' || Array.isArray(data)) throw invalidRequest('Invalid payment_method_data: must be a hash', { param: 'payment_method_data' });
  if (data.type === undefined) throw missingParam('payment_method_data[type]');
  if (data.type === 'sepa_debit' || data.type === 'us_bank_account') return bankAccountMethod(context, params, data, data.type, accepts);
  if (data.type !== 'card') {
    throw invalidRequest(
      `Invalid payment_method_data[type]: this simulator makes PaymentMethods of card tokens and bank accounts only, not ${JSON.stringify(data.type)}`,
      {
        code: 'parameter_invalid_string',
        param: 'payment_method_data[type]',
      },
    );
  }
  const token = typeof data.card === 'object' && !Array.isArray(data.card) ? data.card.token : undefined;
  if (token === undefined || token === '') throw missingParam('payment_method_data[card][token]');
  if (typeof token !== 'string')
    throw invalidRequest('Invalid string: payment_method_data[card][token]', { code: 'parameter_invalid_string', param: 'payment_method_data[card][token]' });
  const behavesLike = cardTokenBehaviour(token);
  if (behavesLike === undefined) throw notFound('token', token, 'payment_method_data[card][token]');
  const id = newId('pm');
  context.state.aliases.set(id, behavesLike);
  return id;
}

/** POST /v1/payment_intents: creates, and with `confirm=true` confirms in the same call. */
export function createPaymentIntent(context: ApiContext, params: FormObject): ApiAnswer {
  const amount = requiredAmount(params, 'amount');
  const currency = requiredString(params, 'currency').toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw invalidRequest(`Invalid currency: ${currency}.`, { code: 'parameter_invalid_string', param: 'currency' });
  const types = paymentMethodTypesOf(params) ?? ['card'];
  const paymentMethod = paymentMethodIn(context, params, { types, currency });
  const confirm = optionalBoolean(params, 'confirm') ?? false;
  const offSession = optionalBoolean(params, 'off_session') ?? false;
  if (offSession && !confirm) throw invalidRequest('off_session can only be used with confirm=true.', { param: 'off_session' });
  const id = newId('pi');
  const intent: PaymentIntentObject = {
    id,
    object: 'payment_intent',
    amount,
    amount_capturable: 0,
    amount_received: 0,
    currency,
    status: paymentMethod ? 'requires_confirmation' : 'requires_payment_method',
    capture_method: oneOf(params, 'capture_method', CAPTURE_METHODS) ?? 'automatic',
    confirmation_method: 'automatic',
    customer: optionalString(params, 'customer') ?? null,
    payment_method: paymentMethod ?? null,
    payment_method_types: [...types],
    description: optionalString(params, 'description') ?? null,
    metadata: metadataOf(params),
    created: nowSeconds(),
    livemode: false,
    client_secret: `${id}_secret_${randomBytes(12).toString('hex')}`,
    latest_charge: null,
    last_payment_error: null,
    next_action: null,
    cancellation_reason: null,
    canceled_at: null,
  };
  if (paymentMethod && !findPaymentMethod(paymentMethod, context.state.aliases)) throw notFound('PaymentMethod', paymentMethod, 'payment_method');
  // Refused before anything is made, as Stripe refuses such a create whole.
  if (paymentMethod) assertChargeable(context, paymentMethod, intent.customer);
  if (paymentMethod) assertVerifiedIfBankAccount(context, paymentMethod);
  if (paymentMethod) assertAllowedType(context, paymentMethod, intent);
  context.state.paymentIntents.set(id, intent);
  context.emit('payment_intent.created', intent);
  if (confirm) confirmWith(context, intent, paymentMethod, offSession);
  return ok(snapshot(intent));
}

/** POST /v1/payment_intents/:id/confirm */
export function confirmPaymentIntent(context: ApiContext, id: string, params: FormObject): ApiAnswer {
  const intent = findIntent(context, id);
  if (intent.status !== 'requires_payment_method' && intent.status !== 'requires_confirmation') {
    throw unexpectedState(`This PaymentIntent's status is ${intent.status}, but it must be requires_payment_method or requires_confirmation to be confirmed.`, {
      payment_intent: snapshot(intent),
    });
  }
  confirmWith(
    context,
    intent,
    paymentMethodIn(context, params, { types: intent.payment_method_types, currency: intent.currency }),
    optionalBoolean(params, 'off_session') ?? false,
  );
  return ok(snapshot(intent));
}

/** GET /v1/mandates/:id. */
export function retrieveMandate(context: ApiContext, id: string): ApiAnswer {
  const mandate = context.state.mandates.get(id);
  if (!mandate) throw notFound('mandate', id);
  return ok(snapshot(mandate));
}

/** POST /v1/payment_intents/:id/capture: takes up to the authorised amount; the rest is released. */
export function capturePaymentIntent(context: ApiContext, id: string, params: FormObject): ApiAnswer {
  const intent = findIntent(context, id);
  if (intent.status !== 'requires_capture') {
    throw unexpectedState(
      `This PaymentIntent could not be captured because it has a status of ${intent.status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`,
      {
        payment_intent: snapshot(intent),
      },
    );
  }
  const amount = optionalAmount(params, 'amount_to_capture') ?? intent.amount_capturable;
  if (amount > intent.amount_capturable) {
    throw invalidRequest(`The amount_to_capture (${amount}) is greater than the amount_capturable (${intent.amount_capturable}).`, {
      code: 'amount_too_large',
      param: 'amount_to_capture',
    });
  }
  const charge = intent.latest_charge ? context.state.charges.get(intent.latest_charge) : undefined;
  if (charge) {
    charge.captured = true;
    charge.amount_captured = amount;
  }
  intent.status = 'succeeded';
  intent.amount_received = amount;
  intent.amount_capturable = 0;
  context.emit('payment_intent.succeeded', intent);
  return ok(snapshot(intent));
}

const CANCELABLE: ReadonlySet<PaymentIntentObject['status']> = new Set([
  'requires_payment_method',
  'requires_capture',
  'requires_confirmation',
  'requires_action',
  'processing',
]);

/** POST /v1/payment_intents/:id/cancel: releases an authorisation; refused once money moved. */
export function cancelPaymentIntent(context: ApiContext, id: string, params: FormObject): ApiAnswer {
  const intent = findIntent(context, id);
  if (!CANCELABLE.has(intent.status)) {
    throw unexpectedState(
      `You cannot cancel this PaymentIntent because it has a status of ${intent.status}. Only a PaymentIntent with one of the following statuses may be canceled: ${[...CANCELABLE].join(', ')}.`,
      {
        payment_intent: snapshot(intent),
      },
    );
  }
  intent.status = 'canceled';
  intent.amount_capturable = 0;
  intent.cancellation_reason = oneOf(params, 'cancellation_reason', CANCELLATION_REASONS) ?? null;
  intent.canceled_at = nowSeconds();
  context.emit('payment_intent.canceled', intent);
  return ok(snapshot(intent));
}

/** GET /v1/payment_intents/:id: the truth, always answered at once (reconciliation relies on it). */
export function retrievePaymentIntent(context: ApiContext, id: string): ApiAnswer {
  return ok(snapshot(findIntent(context, id)));
}
