import { randomBytes } from 'node:crypto';
import type { ApiAnswer, ApiContext } from '../api-context';
import { ok } from '../api-context';
import { findCustomer } from '../customers/customer-routes';
import type { FormObject, FormValue } from '../http/form-body';
import { optionalString } from '../http/params';
import { invalidRequest, missingParam, notFound } from '../http/stripe-error';
import { newId, nowSeconds } from '../ids';
import { snapshot } from '../simulator-state';

/**
 * Stripe Financial Connections, the part that instantly verifies a US bank account: the merchant
 * creates a Session for a Customer (`permissions[]=payment_method`); the person links an account
 * at their bank in Stripe's flow (Stripe.js's modal; here the simulator's element, a framed page of
 * its origin); the Session then lists the linked Account (`fca_…`), which a SetupIntent turns into a
 * verified `us_bank_account` PaymentMethod (`payment_method_data[us_bank_account][financial_connections_account]`).
 */
export interface FinancialConnectionsSessionObject {
  id: string;
  object: 'financial_connections.session';
  account_holder: { type: 'customer'; customer: string };
  accounts: { object: 'list'; data: FinancialConnectionsAccountObject[]; has_more: false; url: string };
  client_secret: string;
  filters: { countries: string[] };
  permissions: string[];
  livemode: false;
}

export interface FinancialConnectionsAccountObject {
  id: string;
  object: 'financial_connections.account';
  account_holder: { type: 'customer'; customer: string };
  institution_name: string;
  display_name: string;
  last4: string;
  category: 'cash';
  subcategory: 'checking' | 'savings';
  /** `disconnected` once the business (or the person, at Stripe) disconnects it: no more data; its PaymentMethods still debit. */
  status: 'active' | 'disconnected';
  permissions: string[];
  supported_payment_method_types: ['us_bank_account'];
  created: number;
  livemode: false;
}

/**
 * The test bank's accounts the element offers, as Stripe's test institutions do: each debits like a
 * test PaymentMethod (the last one's debits fail: insufficient funds). Numbers are Stripe's test
 * account numbers; the Account shows only the last four.
 */
export const TEST_BANK_ACCOUNTS = {
  checking: { display_name: 'Checking', subcategory: 'checking', routingNumber: '110000000', accountNumber: '000123456789', behavesLike: 'pm_usBankAccount' },
  savings: { display_name: 'Savings', subcategory: 'savings', routingNumber: '110000000', accountNumber: '000111111116', behavesLike: 'pm_usBankAccount' },
  insufficient_funds: {
    display_name: 'Checking (insufficient funds)',
    subcategory: 'checking',
    routingNumber: '110000000',
    accountNumber: '000222222227',
    behavesLike: 'pm_usBankAccount_fails',
  },
} as const;
export type TestBankAccount = keyof typeof TEST_BANK_ACCOUNTS;
export const TEST_INSTITUTION = 'StripeBank (simulator)';

const list = (value: FormValue | undefined): string[] =>
  value === undefined
    ? []
    : Array.isArray(value)
      ? value.filter((v): v is string => typeof v === 'string')
      : typeof value === 'object' && value !== null
        ? Object.values(value).filter((v): v is string => typeof v === 'string')
        : [value];

function findSession(context: ApiContext, id: string): FinancialConnectionsSessionObject {
  const session = context.state.financialConnectionsSessions.get(id);
  if (!session) throw notFound('financial_connections.session', id, 'session');
  return session;
}

/**
 * `POST /v1/financial_connections/sessions` (secret key): `account_holder[type]=customer`,
 * `[customer]`, `permissions[]` (with `payment_method`), `filters[countries][]`.
 */
export function createFinancialConnectionsSession(context: ApiContext, params: FormObject): ApiAnswer {
  const holder = params.account_holder;
  const holderFields = typeof holder === 'object' && holder !== null && !Array.isArray(holder) ? holder : undefined;
  if (!holderFields) throw missingParam('account_holder');
  if (optionalString(holderFields, 'type') !== 'customer')
    throw invalidRequest('This simulator takes account_holder[type]=customer.', { param: 'account_holder[type]' });
  const customer = optionalString(holderFields, 'customer');
  if (customer === undefined) throw missingParam('account_holder[customer]');
  findCustomer(context, customer, 'account_holder[customer]');
  const permissions = list(params.permissions);
  if (permissions.length === 0) throw missingParam('permissions');
  const filters = params.filters;
  const countries = list(typeof filters === 'object' && filters !== null && !Array.isArray(filters) ? filters.countries : undefined);
  const id = newId('fcsess');
  const session: FinancialConnectionsSessionObject = {
    id,
    object: 'financial_connections.session',
    account_holder: { type: 'customer', customer },
    accounts: { object: 'list', data: [], has_more: false, url: `/v1/financial_connections/accounts` },
    client_secret: `${id}_secret_${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x')}`,
    filters: { countries: countries.length > 0 ? countries : ['US'] },
    permissions,
    livemode: false,
  };
  context.state.financialConnectionsSessions.set(id, session);
  return ok(snapshot(session));
}

/** `GET /v1/financial_connections/sessions/:id` (secret key): with the accounts linked in it. */
export function retrieveFinancialConnectionsSession(context: ApiContext, id: string): ApiAnswer {
  return ok(snapshot(findSession(context, id)));
}

/** `GET /v1/financial_connections/accounts/:id` (secret key). */
export function retrieveFinancialConnectionsAccount(context: ApiContext, id: string): ApiAnswer {
  const account = context.state.financialConnectionsAccounts.get(id);
  if (!account) throw notFound('financial_connections.account', id, 'account');
  return ok(snapshot(account));
}

/**
 * `POST /v1/financial_connections/accounts/:id/disconnect` (secret key): the account's data can no
 * longer be refreshed (status `disconnected`, `financial_connections.account.disconnected`). As on
 * Stripe, the PaymentMethods made from it stay usable: disconnecting removes data access only.
 */
export function disconnectFinancialConnectionsAccount(context: ApiContext, id: string): ApiAnswer {
  const account = context.state.financialConnectionsAccounts.get(id);
  if (!account) throw notFound('financial_connections.account', id, 'account');
  if (account.status !== 'disconnected') {
    account.status = 'disconnected';
    context.state.financialConnectionsAccounts.set(id, account);
    context.emit('financial_connections.account.disconnected', account);
  }
  return ok(snapshot(account));
}

/**
 * What the element does in the person's browser when they pick an account at the test bank
 * (Stripe.js's own call, publishable key and the session's client secret):
 * `POST /v1/financial_connections/sessions/:id/link_account` with `account` (a TEST_BANK_ACCOUNTS key).
 * The Account is added to the Session, once: a session links one account.
 */
export function linkFinancialConnectionsAccount(context: ApiContext, id: string, params: FormObject): ApiAnswer {
  const secret = optionalString(params, 'client_secret');
  if (secret === undefined) throw missingParam('client_secret');
  const session = context.state.financialConnectionsSessions.get(id);
  if (!session || session.client_secret !== secret) throw notFound('financial_connections.session', id, 'session');
  if (session.accounts.data.length > 0)
    throw invalidRequest('This session has linked its account already: create a new session to link another.', { code: 'session_already_completed' });
  const choice = optionalString(params, 'account');
  if (choice === undefined || !Object.hasOwn(TEST_BANK_ACCOUNTS, choice))
    throw invalidRequest(`account must be one of ${Object.keys(TEST_BANK_ACCOUNTS).join(', ')}.`, { param: 'account' });
  const test = TEST_BANK_ACCOUNTS[choice as TestBankAccount];
  const account: FinancialConnectionsAccountObject = {
    id: newId('fca'),
    object: 'financial_connections.account',
    account_holder: session.account_holder,
    institution_name: TEST_INSTITUTION,
    display_name: test.display_name,
    last4: test.accountNumber.slice(-4),
    category: 'cash',
    subcategory: test.subcategory,
    status: 'active',
    permissions: session.permissions,
    supported_payment_method_types: ['us_bank_account'],
    created: nowSeconds(),
    livemode: false,
  };
  context.state.financialConnectionsAccounts.set(account.id, account);
  context.state.financialConnectionsAccountNumbers.set(account.id, choice);
  session.accounts.data.push(account);
  context.state.financialConnectionsSessions.set(session.id, session);
  // The browser learns the session and the account's display, as Stripe.js's promise resolves.
  return ok({
    id: session.id,
    accounts: [{ id: account.id, institution_name: account.institution_name, display_name: account.display_name, last4: account.last4 }],
  });
}

/**
 * The linked Account a SetupIntent names, held to Stripe's rules: it exists, it was linked for
 * the SetupIntent's customer, and it allows `payment_method`. Answers its test bank account.
 */
export function connectedAccountFor(context: ApiContext, accountId: string, customer: string | null): (typeof TEST_BANK_ACCOUNTS)[TestBankAccount] {
  const account = context.state.financialConnectionsAccounts.get(accountId);
  const choice = context.state.financialConnectionsAccountNumbers.get(accountId);
  if (!account || choice === undefined)
    throw notFound('financial_connections.account', accountId, 'payment_method_data[us_bank_account][financial_connections_account]');
  if (account.account_holder.customer !== customer)
    throw invalidRequest("The Financial Connections account was linked for another customer than this SetupIntent's.", {
      code: 'resource_missing',
      param: 'payment_method_data[us_bank_account][financial_connections_account]',
    });
  if (!account.permissions.includes('payment_method'))
    throw invalidRequest('The Financial Connections account was linked without the payment_method permission.', {
      param: 'payment_method_data[us_bank_account][financial_connections_account]',
    });
  return TEST_BANK_ACCOUNTS[choice as TestBankAccount];
}
