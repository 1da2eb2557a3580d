/**
 * The Stripe events payment-orchestration's endpoint (`/v1/webhooks/stripe`) is subscribed to:
 * the `enabled_events` of the webhook endpoint an operator adds in Stripe (docs/deploy.md), and
 * what `npm start`, the end-to-end tests and the benches give the simulator. Part of the Stripe
 * account's configuration, beside StripeApiConfig (here, so that `npm start` reads it without
 * loading a service).
 *
 * Orchestration applies what a webhook's object says (a PaymentIntent, a Refund, a Dispute), so
 * these are the events that carry one of them in a state it acts on. Left out on purpose:
 * `payment_intent.created` (the PaymentIntent before anything happened to it: the payment's own
 * step created it and learns its outcome from the answer or from the events below), every
 * `charge.*` event but disputes (a Charge is not what orchestration reads), and the SetupIntent,
 * Customer and PaymentMethod events of saving a method (the wallet reads those answers itself), and
 * `financial_connections.account.*` (a disconnected account's PaymentMethod still debits, as Stripe
 * documents: they say nothing about paying; ADR 0011).
 * An endpoint subscribed to more (`*`) still works: those events are recorded and change nothing.
 */
export const STRIPE_WEBHOOK_EVENTS = [
  'payment_intent.succeeded',
  'payment_intent.amount_capturable_updated',
  'payment_intent.processing',
  'payment_intent.requires_action',
  'payment_intent.payment_failed',
  'payment_intent.canceled',
  'payment_intent.partially_funded',
  'refund.created',
  'refund.updated',
  'refund.failed',
  'charge.dispute.created',
  'charge.dispute.updated',
  'charge.dispute.closed',
  'charge.dispute.funds_withdrawn',
  'charge.dispute.funds_reinstated',
] as const;
