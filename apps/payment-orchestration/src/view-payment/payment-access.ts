import type { Principal } from '@pay/auth';
import { actsForMerchant } from '@pay/auth';
import type { Payment } from '@pay/payments-domain';

/**
 * Whether a caller may see (and, with the scope, refund) a payment: an operator any; a service
 * only the payments to a merchant or non-profit its token acts for (`merchants`). Anyone else's
 * payment answers as one that does not exist, so payment ids cannot be probed.
 */
export function mayAccessPayment(caller: Principal, payment: Payment): boolean {
  if (caller.role === 'operator') return true;
  if (caller.role !== 'service') return false;
  const { counterparty } = payment.state;
  return counterparty.type !== 'person' && actsForMerchant(caller, counterparty.id);
}

/**
 * Whether a caller may ask for a payment in this app: only an app's backend, for its own app
 * (`app` claim); one app's backend cannot pay in another's name.
 */
export function mayInitiateInApp(caller: Principal, app: string): boolean {
  return caller.role === 'service' && caller.app === app;
}

/** The subject of the support service's own tokens (its key's grant allows no other, AUTH_KEY_GRANTS). */
export const SUPPORT_SERVICE_SUBJECT = 'support';

/**
 * Whether a caller may refund a payment (the route also needs `payments:refund`): whoever may see
 * it, and the support service for any payment, on behalf of the agent a conversation about that
 * payment is assigned to (support checks the agent, the payer and its own limits first; this
 * service checks what the payment allows again).
 */
export function mayRefundPayment(caller: Principal, payment: Payment): boolean {
  return mayAccessPayment(caller, payment) || (caller.role === 'service' && caller.subject === SUPPORT_SERVICE_SUBJECT);
}

export const PAYMENT_NOT_FOUND = { code: 'PAYMENT_NOT_FOUND', message: 'no payment has this id' } as const;
