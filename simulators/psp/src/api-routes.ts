import type { ApiAnswer, ApiContext } from './api-context';
import { attachPaymentMethod, createCustomer, detachPaymentMethod, retrieveCustomer } from './customers/customer-routes';
import {
  createFinancialConnectionsSession,
  linkFinancialConnectionsAccount,
  disconnectFinancialConnectionsAccount,
  retrieveFinancialConnectionsAccount,
  retrieveFinancialConnectionsSession,
} from './financial-connections/financial-connections';
import type { FormObject } from './http/form-body';
import { StripeApiError } from './http/stripe-error';
import {
  cancelPaymentIntent,
  capturePaymentIntent,
  confirmPaymentIntent,
  createPaymentIntent,
  retrieveMandate,
  retrievePaymentIntent,
} from './payment-intents/payment-intent-routes';
import { retrievePaymentMethod } from './payment-methods/payment-method-routes';
import { createRefund, retrieveRefund } from './refunds/refund-routes';
import {
  cancelSetupIntent,
  completeSetupChallenge,
  confirmSetupIntent,
  createSetupIntent,
  retrieveSetupIntent,
  updateSetupIntent,
  verifySetupIntentMicrodeposits,
} from './setup-intents/setup-intent-routes';

const ID = '([A-Za-z0-9_]+)';
const routes: {
  method: string;
  pattern: RegExp;
  handle: (context: ApiContext, params: FormObject, ids: string[]) => ApiAnswer;
  /** Reachable with a publishable key (Stripe.js's calls from a browser); the others need a secret key. */
  publishable?: true;
}[] = [
  { method: 'POST', pattern: /^\/v1\/payment_intents$/, handle: (c, p) => createPaymentIntent(c, p) },
  { method: 'GET', pattern: new RegExp(`^/v1/payment_intents/${ID}$`), handle: (c, _p, [id]) => retrievePaymentIntent(c, id) },
  { method: 'POST', pattern: new RegExp(`^/v1/payment_intents/${ID}/confirm$`), handle: (c, p, [id]) => confirmPaymentIntent(c, id, p) },
  { method: 'POST', pattern: new RegExp(`^/v1/payment_intents/${ID}/capture$`), handle: (c, p, [id]) => capturePaymentIntent(c, id, p) },
  { method: 'POST', pattern: new RegExp(`^/v1/payment_intents/${ID}/cancel$`), handle: (c, p, [id]) => cancelPaymentIntent(c, id, p) },
  { method: 'GET', pattern: new RegExp(`^/v1/mandates/${ID}$`), handle: (c, _p, [id]) => retrieveMandate(c, id) },
  { method: 'POST', pattern: /^\/v1\/refunds$/, handle: (c, p) => createRefund(c, p) },
  { method: 'GET', pattern: new RegExp(`^/v1/refunds/${ID}$`), handle: (c, _p, [id]) => retrieveRefund(c, id) },
  { method: 'POST', pattern: /^\/v1\/setup_intents$/, handle: (c, p) => createSetupIntent(c, p) },
  { method: 'GET', pattern: new RegExp(`^/v1/setup_intents/${ID}$`), handle: (c, p, [id]) => retrieveSetupIntent(c, id, p), publishable: true },
  { method: 'POST', pattern: new RegExp(`^/v1/setup_intents/${ID}$`), handle: (c, p, [id]) => updateSetupIntent(c, id, p) },
  { method: 'POST', pattern: new RegExp(`^/v1/setup_intents/${ID}/confirm$`), handle: (c, p, [id]) => confirmSetupIntent(c, id, p), publishable: true },
  { method: 'POST', pattern: new RegExp(`^/v1/setup_intents/${ID}/cancel$`), handle: (c, p, [id]) => cancelSetupIntent(c, id, p) },
  { method: 'POST', pattern: /^\/v1\/3ds2\/challenge_complete$/, handle: (c, p) => completeSetupChallenge(c, p), publishable: true },
  {
    method: 'POST',
    pattern: new RegExp(`^/v1/setup_intents/${ID}/verify_microdeposits$`),
    handle: (c, p, [id]) => verifySetupIntentMicrodeposits(c, id, p),
  },
  { method: 'GET', pattern: new RegExp(`^/v1/payment_methods/${ID}$`), handle: (c, _p, [id]) => retrievePaymentMethod(c, id) },
  { method: 'POST', pattern: new RegExp(`^/v1/payment_methods/${ID}/attach$`), handle: (c, p, [id]) => attachPaymentMethod(c, id, p) },
  { method: 'POST', pattern: new RegExp(`^/v1/payment_methods/${ID}/detach$`), handle: (c, _p, [id]) => detachPaymentMethod(c, id) },
  { method: 'POST', pattern: /^\/v1\/financial_connections\/sessions$/, handle: (c, p) => createFinancialConnectionsSession(c, p) },
  { method: 'GET', pattern: new RegExp(`^/v1/financial_connections/sessions/${ID}$`), handle: (c, _p, [id]) => retrieveFinancialConnectionsSession(c, id) },
  {
    method: 'POST',
    pattern: new RegExp(`^/v1/financial_connections/sessions/${ID}/link_account$`),
    handle: (c, p, [id]) => linkFinancialConnectionsAccount(c, id, p),
    publishable: true,
  },
  { method: 'GET', pattern: new RegExp(`^/v1/financial_connections/accounts/${ID}$`), handle: (c, _p, [id]) => retrieveFinancialConnectionsAccount(c, id) },
  {
    method: 'POST',
    pattern: new RegExp(`^/v1/financial_connections/accounts/${ID}/disconnect$`),
    handle: (c, _p, [id]) => disconnectFinancialConnectionsAccount(c, id),
  },
  { method: 'POST', pattern: /^\/v1\/customers$/, handle: (c, p) => createCustomer(c, p) },
  { method: 'GET', pattern: new RegExp(`^/v1/customers/${ID}$`), handle: (c, _p, [id]) => retrieveCustomer(c, id) },
];

/** The subset of Stripe's API the adapter uses; anything else is answered as Stripe answers an unknown URL. */
export function routeApiRequest(context: ApiContext, method: string, path: string, params: FormObject): ApiAnswer {
  for (const route of routes) {
    const match = route.method === method ? route.pattern.exec(path) : null;
    if (match && context.publishableKey && !route.publishable) {
      throw new StripeApiError(401, 'invalid_request_error', 'This API call cannot be made with a publishable API key. Please use a secret API key.');
    }
    if (match) return route.handle(context, params, match.slice(1));
  }
  throw new StripeApiError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}).`);
}
