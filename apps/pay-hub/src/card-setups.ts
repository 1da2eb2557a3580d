import { stripeApiLocation } from '@pay/config';
import Stripe from 'stripe';
import type { PayHubConfig } from './config';

/** The wallet's card brands (libs/contracts CARD_BRANDS): Stripe's names, anything else `other`. */
const WALLET_BRANDS = new Set(['visa', 'mastercard', 'amex', 'discover', 'jcb', 'unionpay', 'diners']);
const PERSON_KEY = 'pay_person';
const SAVED_KEY = 'pay_saved';
export const SETUP_INTENT_ID = /^seti_[A-Za-z0-9]{1,64}$/;

export class CardSetupProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What the wallet's `POST …/payment-methods/cards` takes: the PSP's token and what the PSP says of the card. */
export interface TokenisedCard {
  pspToken: string;
  /** The PSP customer the PaymentMethod is attached to: what makes it chargeable again off-session. */
  customerId: string;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
  country: string;
}

/** What the methods page needs to load Stripe.js: where from, and the publishable key it starts with. */
export interface StripeJsSetting {
  url: string;
  publishableKey: string;
}

/**
 * Adding a card as Stripe has it done: the hub opens a SetupIntent for the signed-in person; the
 * methods page loads Stripe.js, whose card Element (a frame of Stripe.js's origin) holds the card
 * and whose `confirmCardSetup` confirms the SetupIntent with the PSP directly; the hub then reads
 * the PaymentMethod the PSP made (brand, last four, expiry, country: from the PSP, not from the
 * page) for the wallet. The card number passes through no page or request of ours.
 */
export class CardSetups {
  private readonly stripe: Stripe;

  private constructor(
    config: PayHubConfig,
    private readonly stripeJs: StripeJsSetting,
  ) {
    this.stripe = new Stripe(config.STRIPE_SECRET_KEY!, {
      ...stripeApiLocation(config, false),
      timeout: 10_000,
      maxNetworkRetries: 1,
      telemetry: false,
      appInfo: { name: 'pay-platform pay-hub' },
    });
  }

  /** Undefined when the hub adds no cards (STRIPE_SECRET_KEY unset). */
  static from(config: PayHubConfig): CardSetups | undefined {
    if (!config.STRIPE_SECRET_KEY || !config.STRIPE_PUBLISHABLE_KEY) return undefined;
    return new CardSetups(config, { url: config.STRIPE_JS_URL, publishableKey: config.STRIPE_PUBLISHABLE_KEY });
  }

  /** Stripe.js's origin: the only one besides the hub's whose scripts the pages run and whose frames they show. */
  get stripeJsOrigin(): string {
    return new URL(this.stripeJs.url).origin;
  }

  /**
   * Opens the SetupIntent on a new Customer of the person's: the PaymentMethod it makes is attached
   * to that customer, so every later payment (`customer` + `payment_method`, off-session) can charge
   * it again; one attached to no customer Stripe charges once. A customer per saved card keeps the
   * hub stateless (it stores no person-to-customer map); the wallet keeps the pair.
   */
  async begin(personId: string): Promise<{ setupIntentId: string; clientSecret: string; stripeJs: StripeJsSetting }> {
    const customer = await this.stripe.customers.create({ metadata: { [PERSON_KEY]: personId } });
    const intent = await this.stripe.setupIntents.create({ usage: 'off_session', customer: customer.id, metadata: { [PERSON_KEY]: personId } });
    return { setupIntentId: intent.id, clientSecret: intent.client_secret!, stripeJs: this.stripeJs };
  }

  /**
   * The card the person's SetupIntent saved at the PSP. Another person's SetupIntent is not found;
   * one not confirmed yet, or already saved to the wallet, is a conflict.
   */
  async card(personId: string, setupIntentId: string): Promise<TokenisedCard> {
    const intent = await this.read(setupIntentId);
    if (!intent || intent.metadata?.[PERSON_KEY] !== personId) throw new CardSetupProblem(404, 'NOT_FOUND', 'no such card setup');
    if (intent.metadata?.[SAVED_KEY]) throw new CardSetupProblem(409, 'CARD_ALREADY_SAVED', 'this card is saved already: add another one');
    const methodId = typeof intent.payment_method === 'string' ? intent.payment_method : intent.payment_method?.id;
    if (intent.status !== 'succeeded' || !methodId)
      throw new CardSetupProblem(409, 'CARD_SETUP_INCOMPLETE', 'the payment provider has not confirmed this card: enter it again');
    const customerId = typeof intent.customer === 'string' ? intent.customer : intent.customer?.id;
    const method = await this.stripe.paymentMethods.retrieve(methodId);
    if (method.type !== 'card' || !method.card) throw new CardSetupProblem(409, 'CARD_SETUP_INCOMPLETE', 'the payment provider saved no card');
    const attachedTo = typeof method.customer === 'string' ? method.customer : method.customer?.id;
    // A card on no customer (a SetupIntent opened before cards were saved on one) would pay once only.
    if (!customerId || attachedTo !== customerId)
      throw new CardSetupProblem(409, 'CARD_SETUP_INCOMPLETE', 'the payment provider did not keep this card for later payments: enter it again');
    return {
      pspToken: method.id,
      customerId,
      brand: WALLET_BRANDS.has(method.card.brand) ? method.card.brand : 'other',
      last4: method.card.last4,
      expMonth: method.card.exp_month,
      expYear: method.card.exp_year,
      country: method.card.country ?? 'US',
    };
  }

  /** Marks the SetupIntent saved to the wallet, so the same card is not saved twice from it. */
  async saved(setupIntentId: string): Promise<void> {
    await this.stripe.setupIntents.update(setupIntentId, { metadata: { [SAVED_KEY]: 'true' } });
  }

  /** Whose SetupIntent it is (its metadata), or undefined when the PSP knows none by that id. */
  async ownerOf(setupIntentId: string): Promise<string | undefined> {
    const intent = await this.read(setupIntentId);
    return intent?.metadata?.[PERSON_KEY];
  }

  /**
   * Cancels the SetupIntent at the PSP (`setupIntents.cancel`): nothing completes it afterwards, not
   * the bank's challenge nor a new confirmation. Idempotent, and never undoes a card: the PSP refuses
   * to cancel one that succeeded (`setup_intent_unexpected_state`), which is answered `succeeded` and
   * left as it is; one cancelled already is `canceled`; one the PSP does not know, `gone`.
   */
  async cancel(setupIntentId: string, reason: 'abandoned' | 'requested_by_customer'): Promise<SetupEnd> {
    try {
      await this.stripe.setupIntents.cancel(setupIntentId, { cancellation_reason: reason });
      return 'canceled';
    } catch (error) {
      if (!(error instanceof Stripe.errors.StripeInvalidRequestError)) throw error;
      if (error.statusCode === 404) return 'gone';
      if (error.code !== 'setup_intent_unexpected_state') throw error;
      // Its status as the PSP has it now (the error's copy is not relied on).
      const intent = await this.read(setupIntentId);
      if (!intent) return 'gone';
      if (intent.status === 'succeeded') return 'succeeded';
      if (intent.status === 'canceled') return 'canceled';
      throw error;
    }
  }

  private read(setupIntentId: string): Promise<Stripe.SetupIntent | undefined> {
    return this.stripe.setupIntents.retrieve(setupIntentId).catch((error: unknown) => {
      if (error instanceof Stripe.errors.StripeInvalidRequestError && error.statusCode === 404) return undefined;
      throw error;
    });
  }
}

/** How a card setup ended at the PSP when the hub cancelled it: cancelled (now or before), completed (a card, left alone), or unknown there. */
export type SetupEnd = 'canceled' | 'succeeded' | 'gone';
