import type { PaymentServiceProvider } from './psp.port';

/** Which provider charges each kind of saved method: `card:stripe,paypal:paypal,...` (PSP_ROUTES). */
export type PspRoutes = Readonly<Record<string, string>>;

export const DEFAULT_PSP_ROUTES = 'card:stripe,stripe_customer:stripe,bank_account:stripe,paypal:paypal';

/** Reads PSP_ROUTES; throws with what is wrong (the config class turns that into a start-up error naming the variable). */
export function parsePspRoutes(text: string, knownProviders?: readonly string[]): PspRoutes {
  const routes: Record<string, string> = {};
  for (const entry of text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const match = /^([a-z][a-z0-9_]{0,31}):([a-z][a-z0-9_]{0,31})$/.exec(entry);
    if (!match) throw new Error(`"${entry}" is not kind:provider`);
    const [, kind, provider] = match;
    if (Object.hasOwn(routes, kind)) throw new Error(`${kind} is routed twice`);
    if (knownProviders && !knownProviders.includes(provider)) throw new Error(`${provider} is not a provider (${knownProviders.join(', ')})`);
    routes[kind] = provider;
  }
  if (Object.keys(routes).length === 0) throw new Error('no route');
  return routes;
}

/**
 * The PSP port, per provider: the one place that knows which adapter charges which kind of
 * saved method (a card and a bank account through Stripe, a PayPal account through PayPal, by
 * PSP_ROUTES) and which adapter holds a payment already made (by the provider recorded on it,
 * for refunds, reconciliation and webhooks). A new provider is its adapter, given here, and a
 * route; nothing else changes.
 */
export class PaymentServiceProviders {
  private readonly byName = new Map<string, PaymentServiceProvider>();

  constructor(
    adapters: readonly PaymentServiceProvider[],
    private readonly routes: PspRoutes,
  ) {
    for (const adapter of adapters) {
      if (this.byName.has(adapter.provider)) throw new Error(`two adapters for ${adapter.provider}`);
      this.byName.set(adapter.provider, adapter);
    }
    for (const [kind, provider] of Object.entries(routes))
      if (!this.byName.has(provider)) throw new Error(`PSP_ROUTES sends ${kind} to ${provider}, which has no adapter (${[...this.byName.keys()].join(', ')})`);
  }

  /** A single adapter serving every kind it is routed (tests, tools). */
  static only(adapter: PaymentServiceProvider, kinds: readonly string[] = ['card', 'stripe_customer', 'bank_account', 'paypal']): PaymentServiceProviders {
    return new PaymentServiceProviders([adapter], Object.fromEntries(kinds.map((kind) => [kind, adapter.provider])));
  }

  /** The adapter that charges this kind of saved method; undefined when no provider takes it. */
  forMethodKind(kind: string): PaymentServiceProvider | undefined {
    const provider = Object.hasOwn(this.routes, kind) ? this.routes[kind] : undefined;
    return provider === undefined ? undefined : this.byName.get(provider);
  }

  /** The adapter of a provider by its name (the `provider` recorded on a payment, a webhook's endpoint). */
  named(provider: string): PaymentServiceProvider | undefined {
    return this.byName.get(provider);
  }

  get providers(): readonly string[] {
    return [...this.byName.keys()];
  }
}
