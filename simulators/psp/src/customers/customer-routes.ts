import type { ApiAnswer, ApiContext } from '../api-context';
import { ok } from '../api-context';
import type { FormObject } from '../http/form-body';
import { metadataOf, optionalString, requiredString } from '../http/params';
import { invalidRequest, notFound } from '../http/stripe-error';
import { newId, nowSeconds } from '../ids';
import { snapshot } from '../simulator-state';

/** A Customer as Stripe returns it: what saved PaymentMethods are attached to, so they can be charged again. No contact details are kept. */
export interface CustomerObject {
  id: string;
  object: 'customer';
  description: string | null;
  metadata: Record<string, string>;
  created: number;
  livemode: false;
}

export function findCustomer(context: ApiContext, id: string, param = 'customer'): CustomerObject {
  const customer = context.state.customers.get(id);
  if (!customer) throw notFound('customer', id, param);
  return customer;
}

/** `POST /v1/customers`: `description`, `metadata[...]`. */
export function createCustomer(context: ApiContext, params: FormObject): ApiAnswer {
  const id = newId('cus');
  const customer: CustomerObject = {
    id,
    object: 'customer',
    description: optionalString(params, 'description') ?? null,
    metadata: metadataOf(params),
    created: nowSeconds(),
    livemode: false,
  };
  context.state.customers.set(id, customer);
  context.emit('customer.created', customer);
  return ok(snapshot(customer));
}

/** `GET /v1/customers/:id`. */
export function retrieveCustomer(context: ApiContext, id: string): ApiAnswer {
  return ok(snapshot(findCustomer(context, id, 'id')));
}

/**
 * `POST /v1/payment_methods/:id/attach` `customer=cus_…`: a saved PaymentMethod becomes reusable
 * for that customer. As on Stripe, one already attached to another customer, or used once
 * without a customer (it is consumed), cannot be attached.
 */
export function attachPaymentMethod(context: ApiContext, id: string, params: FormObject): ApiAnswer {
  const method = context.state.paymentMethods.get(id);
  if (!method) throw notFound('PaymentMethod', id);
  const customer = findCustomer(context, requiredString(params, 'customer')).id;
  if (method.customer !== null && method.customer !== customer)
    throw invalidRequest('The payment method you provided has already been attached to a customer.', { code: 'payment_method_unexpected_state' });
  if (context.state.consumedPaymentMethods.has(id)) throw previouslyUsed(id);
  method.customer = customer;
  context.emit('payment_method.attached', method);
  return ok(snapshot(method));
}

/** `POST /v1/payment_methods/:id/detach`: the PaymentMethod can no longer be charged (Stripe: nor attached again). */
export function detachPaymentMethod(context: ApiContext, id: string): ApiAnswer {
  const method = context.state.paymentMethods.get(id);
  if (!method) throw notFound('PaymentMethod', id);
  if (method.customer === null)
    throw invalidRequest('The payment method you provided is not attached to a customer so detachment is impossible.', {
      code: 'payment_method_unexpected_state',
    });
  method.customer = null;
  context.state.consumedPaymentMethods.set(id, 'detached');
  context.emit('payment_method.detached', method);
  return ok(snapshot(method));
}

const previouslyUsed = (id: string) =>
  invalidRequest(
    `The provided PaymentMethod (${id}) was previously used with a PaymentIntent without Customer attachment, shared with a connected account without Customer attachment, or was detached from a Customer. It may not be used again. To use a PaymentMethod multiple times, you must attach it to a Customer first.`,
    { code: 'payment_method_unexpected_state', param: 'payment_method' },
  );

/**
 * Stripe's rules for charging a saved PaymentMethod (one the simulator made: a card from the
 * element, a bank account): one attached to a customer is charged only with that customer; one
 * attached to none is charged once, and then is consumed. Stripe's test ids (`pm_card_visa`) and
 * ids the simulator never made are not held to it (tests name them freely).
 */
export function assertChargeable(context: ApiContext, paymentMethod: string, customer: string | null): void {
  const method = context.state.paymentMethods.get(paymentMethod);
  if (!method) return;
  // Customers the simulator never made (tests' `cus_person42`) pass with test ids, not with a saved method.
  if (customer !== null) findCustomer(context, customer);
  if (method.customer !== null) {
    if (customer === null)
      throw invalidRequest(
        `The provided PaymentMethod (${paymentMethod}) is attached to a Customer. To use a PaymentMethod that is attached to a Customer, you must also provide the Customer ID.`,
        { code: 'parameter_missing', param: 'customer' },
      );
    if (customer !== method.customer)
      throw invalidRequest(`The provided PaymentMethod (${paymentMethod}) does not belong to the Customer you supplied (${customer}).`, {
        code: 'payment_method_unexpected_state',
        param: 'payment_method',
      });
    return;
  }
  if (context.state.consumedPaymentMethods.has(paymentMethod)) throw previouslyUsed(paymentMethod);
}

/** A charge with an unattached PaymentMethod uses it up. */
export function recordUse(context: ApiContext, paymentMethod: string, paymentIntent: string): void {
  const method = context.state.paymentMethods.get(paymentMethod);
  if (method && method.customer === null) context.state.consumedPaymentMethods.set(paymentMethod, paymentIntent);
}
