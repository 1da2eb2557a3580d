import type { Principal, SupportCase } from '@pay/auth';
import { actsForMerchant, SUPPORT_SERVICE_SUBJECT } from '@pay/auth';
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

/**
 * Whether a caller may refund a payment (the route also needs `payments:refund`): whoever may see
 * it; and the support service only the payment its verified case reference names (a conversation
 * about that payment, claimed by the agent asking, when support signed it). The support service's
 * token alone refunds nothing.
 */
export function mayRefundPayment(caller: Principal, payment: Payment, supportCase?: Pick<SupportCase, 'paymentId'>): boolean {
  if (isSupportService(caller)) return supportCase?.paymentId === payment.id;
  return mayAccessPayment(caller, payment);
}

/** The support service's own identity (its key's grant allows it no other subject). */
export function isSupportService(caller: Principal): boolean {
  return caller.role === 'service' && caller.subject === SUPPORT_SERVICE_SUBJECT && caller.app === undefined;
}

export const PAYMENT_NOT_FOUND = { code: 'PAYMENT_NOT_FOUND', message: 'no payment has this id' } as const;
