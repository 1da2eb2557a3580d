import type { ApiAnswer, ApiContext } from '../api-context';
import { ok } from '../api-context';
import { notFound } from '../http/stripe-error';
import { findPaymentMethod } from './test-payment-methods';

/**
 * A saved PaymentMethod as Stripe returns it: a card (brand, last four, expiry, country; never the
 * number), or a US bank account (last four, routing number).
 */
export interface PaymentMethodObject {
  id: string;
  object: 'payment_method';
  type: 'card' | 'us_bank_account' | 'sepa_debit';
  card?: { brand: string; last4: string; exp_month: number; exp_year: number; country: string; funding: string; fingerprint: string };
  us_bank_account?: {
    last4: string;
    routing_number: string;
    account_type: string;
    account_holder_type: 'individual';
    fingerprint: string;
    /** Linked through Financial Connections (instantly verified). */
    financial_connections_account?: string;
  };
  /** Never the IBAN: its last four, country and bank code, as Stripe shows it. */
  sepa_debit?: {
    last4: string;
    country: string;
    bank_code: string;
    branch_code: string;
    fingerprint: string;
    generated_from: { charge: string | null; setup_attempt: string | null };
  };
  /** A `sepa_debit` PaymentMethod carries its holder's e-mail address too (Stripe requires it for SEPA). */
  billing_details: { name: string | null; email?: string | null };
  customer: string | null;
  metadata: Record<string, string>;
  created: number;
  livemode: false;
}

/**
 * `GET /v1/payment_methods/:id`: a card Stripe.js's card frame confirmed (its own details), or one of the
 * test tokens (`pm_card_visa`: the test card's brand and last four, a December expiry three years on).
 */
export function retrievePaymentMethod(context: ApiContext, id: string): ApiAnswer {
  const saved = context.state.paymentMethods.get(id);
  if (saved) return ok(saved);
  const test = findPaymentMethod(id, context.state.aliases);
  if (!test || !id.startsWith('pm_card_')) throw notFound('PaymentMethod', id);
  const year = new Date().getUTCFullYear() + 3;
  return ok({
    id,
    object: 'payment_method',
    type: 'card',
    card: { brand: test.brand, last4: test.last4, exp_month: 12, exp_year: year, country: 'US', funding: 'credit', fingerprint: `fp_${id}` },
    billing_details: { name: null },
    customer: null,
    metadata: {},
    created: Math.floor(Date.now() / 1000),
    livemode: false,
  } satisfies PaymentMethodObject);
}
