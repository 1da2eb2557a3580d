import { createHash } from 'node:crypto';
import type { ApiContext } from '../api-context';
import type { FormObject, FormValue } from '../http/form-body';
import { optionalString } from '../http/params';
import { invalidRequest, missingParam } from '../http/stripe-error';
import { newId, nowSeconds } from '../ids';
import type { PaymentMethodObject } from '../payment-methods/payment-method-routes';
import { connectedAccountFor } from '../financial-connections/financial-connections';
import { bankAccountBehaviour } from '../payment-methods/test-payment-methods';
import type { MandateObject } from '../simulator-state';
import type { SetupIntentObject } from './setup-intent-routes';

/** Stripe's test values: the descriptor code of the first micro-deposit, or the two amounts in cents. Anything else is a mismatch. */
export const TEST_DESCRIPTOR_CODE = 'SM11AA';
export const TEST_MICRODEPOSIT_AMOUNTS: readonly [number, number] = [32, 45];
/** Failed verifications after which the account can no longer be verified (a new setup is needed). */
export const MAX_VERIFICATION_ATTEMPTS = 10;
/** When the micro-deposits are said to arrive: two days on. */
const ARRIVAL_SECONDS = 2 * 24 * 60 * 60;

/** A US bank account's verification by micro-deposits, by its PaymentMethod: only a `verified` one may be debited. */
export interface BankAccountVerification {
  setupIntent: string;
  status: 'pending' | 'verified' | 'failed';
  failedAttempts: number;
  /** How it was verified: by micro-deposits (the default), or instantly, linked through Financial Connections. */
  method?: 'microdeposits' | 'instant';
}

const hash = (value: FormValue | undefined): FormObject | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
const text = (value: FormValue | undefined): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * A US account linked at its bank through Financial Connections (`fca_…`, for this SetupIntent's
 * customer): verified by the link itself, so the SetupIntent `succeeded` at once, its PaymentMethod
 * attached to the customer and the mandate recorded; no micro-deposits.
 */
function setUpConnectedAccount(context: ApiContext, intent: SetupIntentObject, params: FormObject, accountId: string, name: string): void {
  const bank = connectedAccountFor(context, accountId, intent.customer);
  const id = saveBankPaymentMethod(context, intent, mandateAcceptanceOf(params), { name }, bank.behavesLike, {
    type: 'us_bank_account',
    us_bank_account: {
      last4: bank.accountNumber.slice(-4),
      routing_number: bank.routingNumber,
      account_type: bank.subcategory,
      account_holder_type: 'individual',
      fingerprint: fingerprint(`ach-fingerprint:${bank.routingNumber}:${bank.accountNumber}`),
      financial_connections_account: accountId,
    },
  });
  context.state.bankAccountVerifications.set(id, { setupIntent: intent.id, status: 'verified', failedAttempts: 0, method: 'instant' });
  succeed(context, intent);
}

/**
 * The bank account's PaymentMethod, attached to the SetupIntent's customer, and the mandate it was
 * accepted under: both recorded and named on the SetupIntent, which the caller moves on. Its id.
 */
function saveBankPaymentMethod(
  context: ApiContext,
  intent: SetupIntentObject,
  acceptance: MandateObject['customer_acceptance'],
  billing: PaymentMethodObject['billing_details'],
  behavesLike: string,
  account: (Pick<PaymentMethodObject, 'sepa_debit'> & { type: 'sepa_debit' }) | (Pick<PaymentMethodObject, 'us_bank_account'> & { type: 'us_bank_account' }),
): string {
  const id = newId('pm');
  context.state.paymentMethods.set(id, {
    id,
    object: 'payment_method',
    ...account,
    billing_details: billing,
    customer: intent.customer,
    metadata: {},
    created: nowSeconds(),
    livemode: false,
  });
  context.state.aliases.set(id, behavesLike);
  intent.payment_method = id;
  intent.mandate = recordMandate(context, id, account.type, acceptance).id;
  return id;
}

/** The SetupIntent set up: its PaymentMethod may be debited. */
function succeed(context: ApiContext, intent: SetupIntentObject): void {
  intent.status = 'succeeded';
  intent.next_action = null;
  intent.last_setup_error = null;
  context.emit('setup_intent.succeeded', intent);
}

const fingerprint = (material: string): string => createHash('sha256').update(material).digest('base64url').slice(0, 16);

/** The payer's acceptance of the debit mandate (`mandate_data[customer_acceptance]`), required to set a bank account up. */
function mandateAcceptanceOf(params: FormObject): MandateObject['customer_acceptance'] {
  const acceptance = hash(hash(params.mandate_data)?.customer_acceptance);
  if (acceptance?.type !== 'online' && acceptance?.type !== 'offline') throw missingParam('mandate_data[customer_acceptance][type]');
  const online = hash(acceptance.online);
  if (acceptance.type === 'offline') return { type: 'offline', accepted_at: null, offline: {} };
  for (const field of ['ip_address', 'user_agent'] as const)
    if (!text(online?.[field])) throw missingParam(`mandate_data[customer_acceptance][online][${field}]`);
  const acceptedAt = text(acceptance.accepted_at);
  return {
    type: 'online',
    accepted_at: acceptedAt && /^\d{1,12}$/.test(acceptedAt) ? Number(acceptedAt) : nowSeconds(),
    online: { ip_address: text(online?.ip_address) ?? '', user_agent: text(online?.user_agent) ?? '' },
  };
}

function recordMandate(
  context: ApiContext,
  paymentMethod: string,
  type: 'sepa_debit' | 'us_bank_account',
  acceptance: MandateObject['customer_acceptance'],
): MandateObject {
  const id = newId('mandate');
  const mandate: MandateObject = {
    id,
    object: 'mandate',
    customer_acceptance: acceptance,
    payment_method: paymentMethod,
    payment_method_details:
      type === 'sepa_debit' ? { type, sepa_debit: { reference: id.slice(-16).toUpperCase(), url: `https://payments.stripe.com/mandate/${id}` } } : { type },
    status: 'active',
    type: 'multi_use',
    livemode: false,
  };
  context.state.mandates.set(id, mandate);
  return mandate;
}

/** What Stripe accepts as an e-mail address: one `@`, no spaces, a dotted domain, at most 254 characters (RFC 5321). */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Stripe requires the holder's name and e-mail address on a `sepa_debit` PaymentMethod (the SEPA
 * rulebook's pre-notification goes to it) and answers one without, or with a malformed one, with
 * `email_invalid` on `billing_details[email]`.
 */
function sepaHolderEmail(data: FormObject): string {
  const email = text(hash(data.billing_details)?.email);
  if (email === undefined || email.length > 254 || !EMAIL.test(email))
    throw invalidRequest(
      email === undefined
        ? "SEPA Direct Debit requires the account holder's email address: pass billing_details[email]."
        : 'Invalid email address: billing_details[email].',
      { code: 'email_invalid', param: 'payment_method_data[billing_details][email]' },
    );
  return email;
}

/** Confirms a bank account SetupIntent (secret key): an IBAN (`sepa_debit`) or a US account (`us_bank_account`), by its type. */
export function setUpBankAccount(context: ApiContext, intent: SetupIntentObject, params: FormObject): void {
  if (intent.payment_method_types[0] === 'sepa_debit') setUpSepaDebit(context, intent, params);
  else setUpUsBankAccount(context, intent, params);
}

/**
 * Confirms a SetupIntent for `sepa_debit` given by its IBAN (`payment_method_data`), as Stripe
 * does: the PaymentMethod is made (attached to the SetupIntent's customer, without the IBAN: last
 * four, country, bank code, fingerprint), the mandate recorded, and the SetupIntent `succeeded` at
 * once (SEPA has no verification step). The PaymentMethod is then debited with its customer, as
 * often as needed, under that mandate.
 */
function setUpSepaDebit(context: ApiContext, intent: SetupIntentObject, params: FormObject): void {
  const data = hash(params.payment_method_data);
  if (!data) throw missingParam('payment_method_data');
  if (text(data.type) !== 'sepa_debit')
    throw invalidRequest('payment_method_data[type] must be sepa_debit for this SetupIntent.', { param: 'payment_method_data[type]' });
  const name = text(hash(data.billing_details)?.name);
  if (!name) throw missingParam('payment_method_data[billing_details][name]');
  const email = sepaHolderEmail(data);
  const iban = (text(hash(data.sepa_debit)?.iban) ?? '').replace(/\s/g, '').toUpperCase();
  const found = bankAccountBehaviour('sepa_debit', { iban });
  if ('invalid' in found) throw invalidRequest(found.invalid, { code: 'invalid_bank_account', param: found.param });
  saveBankPaymentMethod(context, intent, mandateAcceptanceOf(params), { name, email }, found.behavesLike, {
    type: 'sepa_debit',
    sepa_debit: {
      last4: iban.slice(-4),
      country: iban.slice(0, 2),
      bank_code: iban.slice(4, 12),
      branch_code: '',
      fingerprint: fingerprint(`sepa-fingerprint:${iban}`),
      generated_from: { charge: null, setup_attempt: null },
    },
  });
  succeed(context, intent);
}

/**
 * Confirms a SetupIntent for `us_bank_account` given by its numbers (`payment_method_data`), as
 * Stripe does without Financial Connections: the PaymentMethod is made (attached to the
 * SetupIntent's customer), the mandate recorded, and micro-deposits sent; the SetupIntent waits in
 * `requires_action` (`next_action.verify_with_microdeposits`) until they are verified.
 */
function setUpUsBankAccount(context: ApiContext, intent: SetupIntentObject, params: FormObject): void {
  const data = hash(params.payment_method_data);
  if (!data) throw missingParam('payment_method_data');
  if (text(data.type) !== 'us_bank_account')
    throw invalidRequest('payment_method_data[type] must be us_bank_account for this SetupIntent.', { param: 'payment_method_data[type]' });
  const details = hash(data.us_bank_account) ?? {};
  const name = text(hash(data.billing_details)?.name);
  if (!name) throw missingParam('payment_method_data[billing_details][name]');
  const method = optionalString(hash(hash(params.payment_method_options)?.us_bank_account) ?? {}, 'verification_method') ?? 'automatic';
  const connected = text(details.financial_connections_account);
  if (connected !== undefined) return setUpConnectedAccount(context, intent, params, connected, name);
  const routingNumber = text(details.routing_number);
  const accountNumber = text(details.account_number);
  const found = bankAccountBehaviour('us_bank_account', { routingNumber, accountNumber });
  if ('invalid' in found) throw invalidRequest(found.invalid, { code: 'invalid_bank_account', param: found.param });
  const acceptance = mandateAcceptanceOf(params);
  if (method === 'instant')
    throw invalidRequest(
      'Instant verification needs an account linked through Financial Connections (payment_method_data[us_bank_account][financial_connections_account]), not its numbers.',
      { param: 'payment_method_options[us_bank_account][verification_method]' },
    );

  const id = saveBankPaymentMethod(context, intent, acceptance, { name }, found.behavesLike, {
    type: 'us_bank_account',
    us_bank_account: {
      last4: accountNumber!.slice(-4),
      routing_number: routingNumber!,
      account_type: text(details.account_type) === 'savings' ? 'savings' : 'checking',
      account_holder_type: 'individual',
      fingerprint: fingerprint(`ach-fingerprint:${routingNumber}:${accountNumber}`),
    },
  });
  context.state.bankAccountVerifications.set(id, { setupIntent: intent.id, status: 'pending', failedAttempts: 0 });
  intent.status = 'requires_action';
  intent.next_action = {
    type: 'verify_with_microdeposits',
    verify_with_microdeposits: {
      arrival_date: Math.floor(context.clock.now() / 1000) + ARRIVAL_SECONDS,
      hosted_verification_url: `https://payments.stripe.com/microdeposit/${intent.id}`,
      microdeposit_type: 'descriptor_code',
    },
  };
  context.emit('setup_intent.requires_action', intent);
}

function verificationError(code: string, message: string): ReturnType<typeof invalidRequest> {
  return invalidRequest(message, { code });
}

/**
 * `POST /v1/setup_intents/:id/verify_microdeposits` with `descriptor_code` or `amounts[]` (two
 * integers, cents): Stripe's test values verify (SM11AA; 32 and 45); anything else is a mismatch,
 * and the tenth mismatch ends the verification (the SetupIntent back to requires_payment_method).
 */
export function verifyMicrodeposits(context: ApiContext, intent: SetupIntentObject, params: FormObject): void {
  const verification = intent.payment_method ? context.state.bankAccountVerifications.get(intent.payment_method) : undefined;
  if (intent.status !== 'requires_action' || intent.next_action?.type !== 'verify_with_microdeposits' || !verification) {
    throw invalidRequest(`This SetupIntent's status is ${intent.status}: only one waiting for micro-deposits can be verified.`, {
      code: 'setup_intent_unexpected_state',
    });
  }
  const code = optionalString(params, 'descriptor_code');
  const amounts = params.amounts;
  const list = amounts === undefined ? undefined : Array.isArray(amounts) ? amounts : typeof amounts === 'object' ? Object.values(amounts) : [amounts];
  if ((code === undefined) === (list === undefined))
    throw invalidRequest('Provide exactly one of descriptor_code or amounts.', { code: 'parameter_missing', param: 'descriptor_code' });
  if (list !== undefined && (list.length !== 2 || !list.every((value) => typeof value === 'string' && /^\d{1,3}$/.test(value))))
    throw invalidRequest('amounts must be two positive integers, in cents.', { code: 'parameter_invalid_integer', param: 'amounts' });
  const matches = code !== undefined ? code === TEST_DESCRIPTOR_CODE : list!.map(Number).every((value, i) => value === TEST_MICRODEPOSIT_AMOUNTS[i]);
  if (!matches) {
    verification.failedAttempts += 1;
    if (verification.failedAttempts >= MAX_VERIFICATION_ATTEMPTS) {
      verification.status = 'failed';
      intent.status = 'requires_payment_method';
      intent.next_action = null;
      intent.last_setup_error = {
        type: 'invalid_request_error',
        code: 'payment_method_microdeposit_verification_attempts_exceeded',
        message: 'You have exceeded the number of allowed verification attempts.',
      };
      context.emit('setup_intent.setup_failed', intent);
      throw verificationError('payment_method_microdeposit_verification_attempts_exceeded', 'You have exceeded the number of allowed verification attempts.');
    }
    throw code !== undefined
      ? verificationError(
          'payment_method_microdeposit_verification_descriptor_code_mismatch',
          'The verification code provided does not match the code in the micro-deposit descriptor.',
        )
      : verificationError(
          'payment_method_microdeposit_verification_amounts_mismatch',
          'The amounts provided do not match the amounts that were sent to the bank account.',
        );
  }
  verification.status = 'verified';
  succeed(context, intent);
}

/** A US bank account PaymentMethod that micro-deposits have not verified is not debited (Stripe refuses it). */
export function assertVerifiedIfBankAccount(context: ApiContext, paymentMethod: string): void {
  const verification = context.state.bankAccountVerifications.get(paymentMethod);
  if (verification && verification.status !== 'verified') {
    throw invalidRequest(`The PaymentMethod ${paymentMethod}'s bank account has not been verified: verify it with micro-deposits first.`, {
      code: 'payment_method_unactivated',
      param: 'payment_method',
    });
  }
}
