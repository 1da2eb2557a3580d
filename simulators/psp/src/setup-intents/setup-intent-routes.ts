import { createHash, randomBytes } from 'node:crypto';
import type { ApiAnswer, ApiContext } from '../api-context';
import { findCustomer } from '../customers/customer-routes';
import { setUpBankAccount, verifyMicrodeposits } from './bank-account-setup';
import { optionalBoolean } from '../http/params';
import { ok } from '../api-context';
import type { FormObject, FormValue } from '../http/form-body';
import { metadataOf, oneOf, optionalString } from '../http/params';
import { invalidRequest, missingParam, notFound, StripeApiError } from '../http/stripe-error';
import { newId, nowSeconds } from '../ids';
import type { PaymentMethodObject } from '../payment-methods/payment-method-routes';
import { findPaymentMethod } from '../payment-methods/test-payment-methods';
import { snapshot } from '../simulator-state';
import { brandOf, passesLuhn, TEST_CARD_NUMBERS } from './test-card-numbers';

/** A SetupIntent as Stripe returns it: saving a card for later payments, without charging it. */
export interface SetupIntentObject {
  id: string;
  object: 'setup_intent';
  client_secret: string;
  status: 'requires_payment_method' | 'requires_confirmation' | 'requires_action' | 'succeeded' | 'canceled';
  usage: 'off_session' | 'on_session';
  payment_method: string | null;
  payment_method_types: ['card'] | [BankAccountSetupType];
  customer: string | null;
  description: string | null;
  metadata: Record<string, string>;
  last_setup_error: { type: 'card_error' | 'invalid_request_error'; code: string; decline_code?: string; message: string } | null;
  /** A US bank account waits for its micro-deposits to be verified; a card for its 3-D Secure challenge. */
  next_action:
    | {
        type: 'verify_with_microdeposits';
        verify_with_microdeposits: { arrival_date: number; hosted_verification_url: string; microdeposit_type: 'descriptor_code' | 'amounts' };
      }
    | { type: 'use_stripe_sdk'; use_stripe_sdk: { type: 'three_d_secure_redirect'; stripe_js: string } }
    | null;
  /** The mandate a bank account was set up under. */
  mandate?: string | null;
  cancellation_reason: string | null;
  created: number;
  livemode: false;
}

const USAGES = ['off_session', 'on_session'] as const;
/** The bank accounts a SetupIntent saves, each alone: an IBAN (SEPA Direct Debit) or a US account (ACH). */
const BANK_ACCOUNT_SETUP_TYPES = ['sepa_debit', 'us_bank_account'] as const;
type BankAccountSetupType = (typeof BANK_ACCOUNT_SETUP_TYPES)[number];
const isBankAccountSetupType = (type: unknown): type is BankAccountSetupType => (BANK_ACCOUNT_SETUP_TYPES as readonly unknown[]).includes(type);

const hash = (value: FormValue | undefined): FormObject | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;

function findSetupIntent(context: ApiContext, id: string): SetupIntentObject {
  const intent = context.state.setupIntents.get(id);
  if (!intent) throw notFound('setup_intent', id, 'intent');
  return intent;
}

/**
 * With a publishable key (Stripe.js in the person's browser) a SetupIntent is reached
 * only with its client secret, as on Stripe; with a secret key, by id.
 */
function reachable(context: ApiContext, id: string, params: FormObject): SetupIntentObject {
  if (!context.publishableKey) return findSetupIntent(context, id);
  const secret = optionalString(params, 'client_secret');
  if (secret === undefined) throw missingParam('client_secret');
  const intent = context.state.setupIntents.get(id);
  if (!intent || intent.client_secret !== secret) throw notFound('setup_intent', id, 'intent');
  return intent;
}

/** What a publishable key sees of a SetupIntent (Stripe hides metadata and the customer from it). */
const forCaller = (context: ApiContext, intent: SetupIntentObject): Partial<SetupIntentObject> => {
  const copy: Partial<SetupIntentObject> = snapshot(intent);
  if (context.publishableKey) {
    delete copy.metadata;
    delete copy.customer;
  }
  return copy;
};

/**
 * `POST /v1/setup_intents` (secret key): `usage`, `payment_method_types[]=card` (or one bank account
 * type, with `payment_method_data` and `mandate_data`, confirmed at once with `confirm=true`),
 * `customer`, `description`, `metadata[...]`.
 */
export function createSetupIntent(context: ApiContext, params: FormObject): ApiAnswer {
  // `allowed_payment_method_types[]` (the current API version's name, the SDK's), or the older `payment_method_types[]`.
  const types = params.allowed_payment_method_types ?? params.payment_method_types;
  const list = types === undefined ? ['card'] : Array.isArray(types) ? types : typeof types === 'object' ? Object.values(types) : [types];
  const bankAccount = list.length === 1 && isBankAccountSetupType(list[0]) ? list[0] : undefined;
  if (!bankAccount && list.some((type) => type !== 'card'))
    throw invalidRequest(
      'This simulator sets up cards, or a bank account alone: payment_method_types[] must be card, or one of sepa_debit and us_bank_account.',
      {
        param: 'payment_method_types',
      },
    );
  const customer = optionalString(params, 'customer');
  if (customer !== undefined) findCustomer(context, customer);
  const id = newId('seti');
  const intent: SetupIntentObject = {
    id,
    object: 'setup_intent',
    client_secret: `${id}_secret_${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x')}`,
    status: 'requires_payment_method',
    usage: oneOf(params, 'usage', USAGES) ?? 'off_session',
    payment_method: null,
    payment_method_types: bankAccount ? [bankAccount] : ['card'],
    customer: customer ?? null,
    description: optionalString(params, 'description') ?? null,
    metadata: metadataOf(params),
    last_setup_error: null,
    next_action: null,
    cancellation_reason: null,
    created: nowSeconds(),
    livemode: false,
  };
  context.state.setupIntents.set(id, intent);
  context.emit('setup_intent.created', intent);
  if (bankAccount && optionalBoolean(params, 'confirm')) setUpBankAccount(context, intent, params);
  return ok(snapshot(intent));
}

/** `GET /v1/setup_intents/:id`: by id with a secret key, with `client_secret` with a publishable one. */
export function retrieveSetupIntent(context: ApiContext, id: string, params: FormObject): ApiAnswer {
  return ok(forCaller(context, reachable(context, id, params)));
}

/**
 * `POST /v1/setup_intents/:id/confirm`. From Stripe.js's card frame (publishable key and client
 * secret): `payment_method_data[type]=card` with `[card][number]`, `[exp_month]`, `[exp_year]`,
 * `[cvc]`, which becomes a PaymentMethod; or with a secret key, `payment_method=pm_...`. A card
 * refused at setup leaves the SetupIntent in `requires_payment_method` with `last_setup_error`,
 * answered as Stripe answers it (402 card_error with the SetupIntent in `setup_intent`).
 */
export function confirmSetupIntent(context: ApiContext, id: string, params: FormObject): ApiAnswer {
  const intent = reachable(context, id, params);
  if (intent.status !== 'requires_payment_method' && intent.status !== 'requires_confirmation') {
    throw invalidRequest(`You cannot confirm this SetupIntent because it has a status of ${intent.status}.`, {
      code: 'setup_intent_unexpected_state',
      setup_intent: forCaller(context, intent),
    });
  }
  if (isBankAccountSetupType(intent.payment_method_types[0])) {
    if (context.publishableKey) throw invalidRequest('This simulator confirms bank account setups with a secret key.', { param: 'key' });
    setUpBankAccount(context, intent, params);
    return ok(snapshot(intent));
  }
  const data = hash(params.payment_method_data);
  let methodId: string;
  let authenticates = false;
  if (data) {
    ({ id: methodId, authenticates } = cardMethodOf(context, intent, data));
  } else {
    const given = optionalString(params, 'payment_method');
    if (given === undefined) throw missingParam('payment_method_data');
    if (context.publishableKey && !given.startsWith('pm_card_'))
      throw invalidRequest('A publishable key confirms with payment_method_data (the card element) or a test token.', { param: 'payment_method' });
    if (!context.state.paymentMethods.has(given) && !findPaymentMethod(given, context.state.aliases)) throw notFound('PaymentMethod', given, 'payment_method');
    const saved = context.state.paymentMethods.get(given);
    // A SetupIntent with a customer attaches the method to it (one attached elsewhere or used up is refused, as on Stripe).
    if (saved && intent.customer !== null && saved.customer !== intent.customer) {
      if (saved.customer !== null || context.state.consumedPaymentMethods.has(given))
        throw invalidRequest('The payment method you provided has already been attached to a customer or used.', { code: 'payment_method_unexpected_state' });
      saved.customer = intent.customer;
    }
    methodId = given;
  }
  intent.payment_method = methodId;
  intent.last_setup_error = null;
  if (authenticates) {
    // The issuer asks for 3-D Secure: Stripe.js shows the challenge; the control API completes it here.
    intent.status = 'requires_action';
    intent.next_action = {
      type: 'use_stripe_sdk',
      use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: `https://hooks.stripe.com/3d_secure_2/hosted?setup_intent=${intent.id}` },
    };
    context.emit('setup_intent.requires_action', intent);
    return ok(forCaller(context, intent));
  }
  intent.status = 'succeeded';
  context.emit('setup_intent.succeeded', intent);
  return ok(forCaller(context, intent));
}

/**
 * `POST /v1/3ds2/challenge_complete` (publishable key, `setup_intent`, `client_secret`, `outcome`):
 * what the Stripe.js stand-in's card frame sends when the person answers the test challenge it
 * shows (*Complete* or *Fail*, as Stripe's test-mode challenge page offers), in place of the
 * challenge Stripe.js runs with the issuer. Completes it as the control API does.
 */
export function completeSetupChallenge(context: ApiContext, params: FormObject): ApiAnswer {
  const id = optionalString(params, 'setup_intent');
  if (id === undefined) throw missingParam('setup_intent');
  const outcome = oneOf(params, 'outcome', ['succeeded', 'failed'] as const);
  if (outcome === undefined) throw missingParam('outcome');
  const intent = reachable(context, id, params);
  if (intent.status !== 'requires_action' || intent.next_action?.type !== 'use_stripe_sdk')
    throw invalidRequest(`This SetupIntent has no 3-D Secure challenge to complete: it has a status of ${intent.status}.`, {
      code: 'setup_intent_unexpected_state',
    });
  return ok(forCaller(context, completeSetupIntent(context, id, outcome)));
}

/**
 * Control API: the person completes (or fails) the 3-D Secure challenge of a card's SetupIntent in
 * `requires_action`. Completed: `succeeded`, the card saved for off-session payments. Failed: back to
 * `requires_payment_method` without the card, `last_setup_error.code` `setup_intent_authentication_failure`, as on Stripe.
 */
export function completeSetupIntent(context: ApiContext, id: string, outcome: 'succeeded' | 'failed'): SetupIntentObject {
  const intent = findSetupIntent(context, id);
  if (intent.status !== 'requires_action' || intent.next_action?.type !== 'use_stripe_sdk')
    throw invalidRequest(`SetupIntent ${id} is ${intent.status}: only a card's 3-D Secure challenge (requires_action) can be completed`);
  intent.next_action = null;
  if (outcome === 'succeeded') {
    intent.status = 'succeeded';
    context.emit('setup_intent.succeeded', intent);
    return intent;
  }
  intent.status = 'requires_payment_method';
  intent.payment_method = null;
  intent.last_setup_error = {
    type: 'invalid_request_error',
    code: 'setup_intent_authentication_failure',
    message: 'The latest attempt to set up the payment method has failed because authentication failed.',
  };
  context.emit('setup_intent.setup_failed', intent);
  return intent;
}

/** The statuses a SetupIntent may be cancelled from (Stripe's list, in its error's words). */
const CANCELABLE_SETUP_STATUSES = ['requires_payment_method', 'requires_confirmation', 'requires_action'] as const;

/**
 * `POST /v1/setup_intents/:id/cancel` (secret key, optional `cancellation_reason`): abandoned for
 * good, as on Stripe: no confirmation or challenge completes it afterwards. One that succeeded or
 * was cancelled already is refused with Stripe's 400 `setup_intent_unexpected_state`, its message
 * and the SetupIntent as it is (a succeeded one keeps its card).
 */
export function cancelSetupIntent(context: ApiContext, id: string, params: FormObject): ApiAnswer {
  const intent = findSetupIntent(context, id);
  const reason = oneOf(params, 'cancellation_reason', ['abandoned', 'duplicate', 'requested_by_customer'] as const);
  if (!(CANCELABLE_SETUP_STATUSES as readonly string[]).includes(intent.status)) {
    throw invalidRequest(
      `You cannot cancel this SetupIntent because it has a status of ${intent.status}. Only a SetupIntent with one of the following statuses may be canceled: ${CANCELABLE_SETUP_STATUSES.join(', ')}.`,
      { code: 'setup_intent_unexpected_state', setup_intent: snapshot(intent) },
    );
  }
  intent.status = 'canceled';
  intent.next_action = null;
  intent.cancellation_reason = reason ?? null;
  context.emit('setup_intent.canceled', intent);
  return ok(snapshot(intent));
}

function cardError(context: ApiContext, intent: SetupIntentObject, code: string, message: string, param: string, declineCode?: string): StripeApiError {
  intent.last_setup_error = { type: 'card_error', code, message, ...(declineCode ? { decline_code: declineCode } : {}) };
  intent.status = 'requires_payment_method';
  context.emit('setup_intent.setup_failed', intent);
  return new StripeApiError(402, 'card_error', message, {
    code,
    param,
    ...(declineCode ? { decline_code: declineCode } : {}),
    setup_intent: forCaller(context, intent),
  });
}

/** The card typed into the element, checked as a card network would, saved as a PaymentMethod without its number. */
function cardMethodOf(context: ApiContext, intent: SetupIntentObject, data: FormObject): { id: string; authenticates: boolean } {
  if (optionalString(data, 'type') !== 'card') throw invalidRequest('payment_method_data[type] must be card.', { param: 'payment_method_data[type]' });
  const card = hash(data.card);
  if (!card) throw missingParam('payment_method_data[card]');
  const number = (optionalString(card, 'number') ?? '').replace(/[\s-]/g, '');
  const expMonth = optionalString(card, 'exp_month') ?? '';
  const expYear = optionalString(card, 'exp_year') ?? '';
  const cvc = optionalString(card, 'cvc') ?? '';
  if (!/^\d{12,19}$/.test(number) || !passesLuhn(number))
    throw cardError(context, intent, 'incorrect_number', 'Your card number is incorrect.', 'payment_method_data[card][number]');
  const month = /^\d{1,2}$/.test(expMonth) ? Number.parseInt(expMonth, 10) : 0;
  if (month < 1 || month > 12)
    throw cardError(context, intent, 'invalid_expiry_month', "Your card's expiration month is invalid.", 'payment_method_data[card][exp_month]');
  const year = /^\d{2}$/.test(expYear) ? 2000 + Number.parseInt(expYear, 10) : /^\d{4}$/.test(expYear) ? Number.parseInt(expYear, 10) : 0;
  const today = new Date();
  if (year < today.getUTCFullYear() || (year === today.getUTCFullYear() && month < today.getUTCMonth() + 1))
    throw cardError(context, intent, 'invalid_expiry_year', "Your card's expiration year is invalid.", 'payment_method_data[card][exp_year]');
  const brand = brandOf(number);
  if (!(brand === 'amex' ? /^\d{4}$/ : /^\d{3}$/).test(cvc))
    throw cardError(context, intent, 'invalid_cvc', "Your card's security code is invalid.", 'payment_method_data[card][cvc]');
  const outcome = TEST_CARD_NUMBERS[number] ?? { kind: 'saved' as const, funding: 'credit' as const };
  if (outcome.kind === 'refused') throw cardError(context, intent, outcome.code, outcome.message, 'payment_method_data[card][number]', outcome.declineCode);

  // Stripe's ids are letters and digits after the prefix; the wallet keeps such ids as card tokens.
  const id = newId('pm');
  const billing = hash(data.billing_details);
  const method: PaymentMethodObject = {
    id,
    object: 'payment_method',
    type: 'card',
    card: {
      brand,
      last4: number.slice(-4),
      exp_month: month,
      exp_year: year,
      country: 'US',
      funding: outcome.funding,
      // The same card gives the same fingerprint (Stripe's, to spot a card saved twice); the number is not kept.
      fingerprint: createHash('sha256').update(`card-fingerprint:${number}`).digest('base64url').slice(0, 16),
    },
    billing_details: { name: (billing && optionalString(billing, 'name')) ?? null },
    customer: intent.customer,
    metadata: {},
    created: nowSeconds(),
    livemode: false,
  };
  context.state.paymentMethods.set(id, method);
  if (outcome.behavesLike) context.state.aliases.set(id, outcome.behavesLike);
  return { id, authenticates: outcome.authenticatesSetup === true };
}

/** `POST /v1/setup_intents/:id` (secret key): `metadata[...]` merged (an empty value unsets a key), `description`. */
export function updateSetupIntent(context: ApiContext, id: string, params: FormObject): ApiAnswer {
  const intent = findSetupIntent(context, id);
  const metadata = params.metadata;
  if (metadata !== undefined && typeof metadata === 'object' && !Array.isArray(metadata)) {
    for (const [key, value] of Object.entries(metadata)) {
      if (value === '') delete intent.metadata[key];
    }
    Object.assign(intent.metadata, metadataOf(params));
  }
  const description = optionalString(params, 'description');
  if (description !== undefined) intent.description = description;
  return ok(intent);
}

/** `POST /v1/setup_intents/:id/verify_microdeposits` (secret key): `descriptor_code`, or `amounts[]`. */
export function verifySetupIntentMicrodeposits(context: ApiContext, id: string, params: FormObject): ApiAnswer {
  const intent = findSetupIntent(context, id);
  verifyMicrodeposits(context, intent, params);
  return ok(snapshot(intent));
}
