import type { CustomerObject } from './customers/customer-routes';
import type { FinancialConnectionsAccountObject, FinancialConnectionsSessionObject } from './financial-connections/financial-connections';
import type { PaymentMethodObject } from './payment-methods/payment-method-routes';
import { TrackedMap } from './persistence/tracked-map';
import type {
  PayPalCaptureObject,
  PayPalDisputeObject,
  PayPalOrderObject,
  PayPalRefundObject,
  PayPalSetupToken,
  PayPalVaultToken,
} from './paypal/paypal-objects';
import type { PayPalBehaviour, PayPalSavedAnswer } from './paypal/paypal-simulator';
import type { BankAccountVerification } from './setup-intents/bank-account-setup';
import type { SetupIntentObject } from './setup-intents/setup-intent-routes';

/**
 * The simulator's memory: Stripe objects as the API returns them (snake case, amounts as
 * integers of minor units, lower-case currencies), and what it saw and sent, for assertions.
 */

export interface LastPaymentError {
  type: 'card_error';
  code: string;
  decline_code?: string;
  advice_code?: string;
  message: string;
  charge?: string;
  payment_method: { id: string; object: 'payment_method'; type: 'card'; card: { brand: string; last4: string } };
}

export interface PaymentIntentObject {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_capturable: number;
  amount_received: number;
  currency: string;
  status: 'requires_payment_method' | 'requires_confirmation' | 'requires_action' | 'processing' | 'requires_capture' | 'canceled' | 'succeeded';
  capture_method: 'automatic' | 'automatic_async' | 'manual';
  confirmation_method: 'automatic';
  customer: string | null;
  payment_method: string | null;
  payment_method_types: string[];
  description: string | null;
  metadata: Record<string, string>;
  created: number;
  livemode: false;
  client_secret: string;
  latest_charge: string | null;
  last_payment_error: LastPaymentError | null;
  next_action: { type: 'use_stripe_sdk'; use_stripe_sdk: { type: 'three_d_secure_redirect' } } | null;
  cancellation_reason: string | null;
  canceled_at: number | null;
}

export interface ChargeObject {
  id: string;
  object: 'charge';
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  captured: boolean;
  refunded: boolean;
  disputed: boolean;
  currency: string;
  payment_intent: string;
  payment_method: string;
  status: 'succeeded' | 'pending' | 'failed';
  failure_code: string | null;
  created: number;
  livemode: false;
}

export interface RefundObject {
  id: string;
  object: 'refund';
  amount: number;
  charge: string;
  currency: string;
  payment_intent: string;
  reason: string | null;
  status: 'pending' | 'succeeded' | 'failed' | 'canceled';
  failure_reason: string | null;
  metadata: Record<string, string>;
  created: number;
}

export interface DisputeObject {
  id: string;
  object: 'dispute';
  amount: number;
  charge: string;
  currency: string;
  payment_intent: string;
  reason: string;
  status: 'needs_response' | 'under_review' | 'won' | 'lost';
  created: number;
  livemode: false;
}

/** One API request as the simulator answered it. */
export interface RecordedRequest {
  method: string;
  path: string;
  idempotencyKey?: string;
  status: number;
  replayed: boolean;
  /** A fault the simulator injected instead of the real answer (`500`, `hold`). */
  fault?: string;
}

/**
 * A bank debit (SEPA Direct Debit, ACH) on its way: the bank answers after days, in simulated
 * time (`SimulatorClock`), with the outcome its payment method decides.
 */
/**
 * The mandate a bank debit's PaymentMethod is debited under: how the payer accepted it — `online`
 * (when, from which IP address and user agent) or `offline` (outside Stripe, no details).
 */
export interface MandateObject {
  id: string;
  object: 'mandate';
  customer_acceptance: {
    type: 'online' | 'offline';
    accepted_at: number | null;
    online?: { ip_address: string; user_agent: string };
    offline?: Record<string, never>;
  };
  payment_method: string;
  payment_method_details: { type: 'sepa_debit' | 'us_bank_account'; sepa_debit?: { reference: string; url: string } };
  status: 'active';
  type: 'multi_use';
  livemode: false;
}

export interface PendingDebit {
  paymentIntent: string;
  /** Simulated epoch milliseconds when the bank answers. */
  settlesAt: number;
  outcome: 'succeeded' | 'failed';
  /** Set once the bank answered (kept, not deleted, so the journal never settles it twice). */
  answered: boolean;
}

/** The kinds of objects the journal keeps, by the map that holds them. */
export const KEPT_OBJECTS = [
  'paymentIntents',
  'charges',
  'refunds',
  'disputes',
  'setupIntents',
  'paymentMethods',
  'aliases',
  'debits',
  'mandates',
  'customers',
  'consumedPaymentMethods',
  'bankAccountVerifications',
  'financialConnectionsSessions',
  'financialConnectionsAccounts',
  'financialConnectionsAccountNumbers',
  'paypalOrders',
  'paypalCaptures',
  'paypalRefunds',
  'paypalVaultTokens',
  'paypalSetupTokens',
  'paypalDisputes',
  'paypalAliases',
  'paypalRequestIds',
] as const;
export type KeptObjectKind = (typeof KEPT_OBJECTS)[number];

export class SimulatorState {
  readonly paymentIntents = new TrackedMap<PaymentIntentObject>(true);
  readonly charges = new TrackedMap<ChargeObject>(true);
  readonly refunds = new TrackedMap<RefundObject>(true);
  readonly disputes = new TrackedMap<DisputeObject>(true);
  /** Cards saved through the card element: SetupIntents and the PaymentMethods they made (no card number). */
  readonly setupIntents = new TrackedMap<SetupIntentObject>(true);
  readonly paymentMethods = new TrackedMap<PaymentMethodObject>(true);
  readonly requests: RecordedRequest[] = [];
  /** Saved-card ids that behave like one of the test tokens (`pm_abc` -> `pm_card_chargeDeclined`). */
  readonly aliases = new TrackedMap<string>(false);
  /** Bank debits the bank has not answered yet, by PaymentIntent. */
  readonly debits = new TrackedMap<PendingDebit>(true);
  /** Mandates of bank debits, by id (their PaymentMethod names them). */
  readonly mandates = new TrackedMap<MandateObject>(true);
  /** Customers, which saved PaymentMethods are attached to for reuse. */
  readonly customers = new TrackedMap<CustomerObject>(true);
  /** PaymentMethods used once without a customer (or detached): by id, the PaymentIntent that used them. Stripe charges them no more. */
  readonly consumedPaymentMethods = new TrackedMap<string>(false);
  /** US bank accounts' micro-deposit verifications, by PaymentMethod: only a verified one is debited. */
  readonly bankAccountVerifications = new TrackedMap<BankAccountVerification>(true);
  /** Financial Connections: sessions (a person linking an account at their bank) and the accounts linked in them. */
  readonly financialConnectionsSessions = new TrackedMap<FinancialConnectionsSessionObject>(true);
  readonly financialConnectionsAccounts = new TrackedMap<FinancialConnectionsAccountObject>(true);
  /** Which test bank account each linked Account is (its numbers stay at "the bank"). */
  readonly financialConnectionsAccountNumbers = new TrackedMap<string>(false);
  /** PayPal's side (src/paypal): orders, captures, refunds and vault tokens, changed in place like Stripe's. */
  readonly paypalOrders = new TrackedMap<PayPalOrderObject>(true);
  readonly paypalCaptures = new TrackedMap<PayPalCaptureObject>(true);
  readonly paypalRefunds = new TrackedMap<PayPalRefundObject>(true);
  readonly paypalVaultTokens = new TrackedMap<PayPalVaultToken>(true);
  /** Accounts being saved without a purchase (Vault v3 setup tokens), approved on the simulator's PayPal page. */
  readonly paypalSetupTokens = new TrackedMap<PayPalSetupToken>(true);
  readonly paypalDisputes = new TrackedMap<PayPalDisputeObject>(true);
  /** Vault ids that behave like a PayPal test vault token. */
  readonly paypalAliases = new TrackedMap<PayPalBehaviour>(false);
  /** The first answer to each PayPal-Request-Id, with when it was given (kept 24 h, like Stripe's idempotency keys). */
  readonly paypalRequestIds = new TrackedMap<PayPalSavedAnswer>(false);

  kept(kind: KeptObjectKind): TrackedMap<unknown> {
    return this[kind];
  }

  clear(): void {
    this.aliases.clear();
    this.paymentIntents.clear();
    this.charges.clear();
    this.refunds.clear();
    this.disputes.clear();
    this.setupIntents.clear();
    this.paymentMethods.clear();
    this.debits.clear();
    this.mandates.clear();
    this.customers.clear();
    this.consumedPaymentMethods.clear();
    this.bankAccountVerifications.clear();
    this.financialConnectionsSessions.clear();
    this.financialConnectionsAccounts.clear();
    this.financialConnectionsAccountNumbers.clear();
    this.paypalOrders.clear();
    this.paypalCaptures.clear();
    this.paypalRefunds.clear();
    this.paypalVaultTokens.clear();
    this.paypalSetupTokens.clear();
    this.paypalDisputes.clear();
    this.paypalAliases.clear();
    this.paypalRequestIds.clear();
    this.requests.length = 0;
  }
}

/** Objects leave the simulator as copies: a webhook carries the object as it was when it happened. */
export function snapshot<T>(object: T): T {
  return structuredClone(object);
}
