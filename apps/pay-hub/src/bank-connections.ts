import Stripe from 'stripe';
import type { PayHubConfig } from './config';
import { STRIPES_OWN_JS_ORIGIN } from './config';

export const FINANCIAL_CONNECTIONS_SESSION_ID = /^fcsess_[A-Za-z0-9]{6,64}$/;

/**
 * Instant verification of a US bank account, as Stripe has it done with Financial Connections: the
 * hub opens a Session on a new Customer of the person's (metadata: their id, which the wallet
 * checks before saving); the person links the account at their bank in the PSP's own flow (Stripe.js's
 * modal; the simulator's element, framed like Stripe.js's card frame, in development); the wallet then
 * saves the linked account, verified, under the ACH authorisation the hub records. The account's
 * numbers pass through no page or request of ours.
 */
export class BankConnections {
  private readonly stripe: Stripe;

  private constructor(
    config: PayHubConfig,
    private readonly elementUrl: string,
  ) {
    this.stripe = new Stripe(config.STRIPE_SECRET_KEY!, {
      ...(config.STRIPE_API_HOST === undefined ? {} : { host: config.STRIPE_API_HOST }),
      ...(config.STRIPE_API_PORT === undefined ? {} : { port: config.STRIPE_API_PORT }),
      ...(config.STRIPE_API_PROTOCOL === undefined ? {} : { protocol: config.STRIPE_API_PROTOCOL }),
      timeout: 10_000,
      maxNetworkRetries: 1,
      telemetry: false,
      appInfo: { name: 'pay-platform pay-hub' },
    });
  }

  /**
   * Undefined when the hub links no accounts: no Stripe keys, or Stripe.js is Stripe's own. The flow
   * is the simulator's element (`/elements/financial-connections` of the stand-in's origin); with
   * Stripe's own Stripe.js it would be `stripe.collectFinancialConnectionsAccounts`, not wired yet.
   */
  static from(config: PayHubConfig, hubOrigin: string): BankConnections | undefined {
    if (!config.STRIPE_SECRET_KEY || !config.STRIPE_PUBLISHABLE_KEY || new URL(config.STRIPE_JS_URL).origin === STRIPES_OWN_JS_ORIGIN) return undefined;
    const element = new URL('/elements/financial-connections', config.STRIPE_JS_URL);
    element.searchParams.set('origin', hubOrigin);
    element.searchParams.set('key', config.STRIPE_PUBLISHABLE_KEY);
    return new BankConnections(config, element.toString());
  }

  /** A Session on a new Customer of the person's, allowed to make a PaymentMethod of the account linked in it. */
  async begin(personId: string): Promise<{ sessionId: string; clientSecret: string; elementUrl: string }> {
    const customer = await this.stripe.customers.create({ metadata: { pay_person: personId } });
    const session = await this.stripe.financialConnections.sessions.create({
      account_holder: { type: 'customer', customer: customer.id },
      permissions: ['payment_method'],
    });
    return { sessionId: session.id, clientSecret: session.client_secret!, elementUrl: this.elementUrl };
  }
}
