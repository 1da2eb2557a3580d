/**
 * The part of Stripe.js (v3) the methods page uses, typed, and its loader. Stripe.js itself comes
 * from the origin the hub names (STRIPE_JS_URL: Stripe's in production, the PSP simulator's
 * stand-in in development and tests), which the page's Content-Security-Policy allows and nothing
 * else; so no `@stripe/stripe-js`, whose loader only ever loads https://js.stripe.com/v3
 * (docs/adr/0014-stripe-js-card-form.md). The simulator's stand-in implements exactly this subset.
 */

/** Stripe.js's error: a card refused (`card_error`), the card incomplete (`validation_error`), the API unreachable. */
export interface StripeError {
  type: string;
  code?: string;
  decline_code?: string;
  message?: string;
  param?: string;
}

/** A card Element's `change` event: never the number; whether it is complete, its brand, what is wrong with it. */
export interface StripeCardChangeEvent {
  elementType: 'card';
  empty: boolean;
  complete: boolean;
  brand: string;
  error?: StripeError;
}

export interface StripeCardElement {
  mount(target: string | HTMLElement): void;
  on(event: 'change', handler: (event: StripeCardChangeEvent) => void): StripeCardElement;
  on(event: 'ready' | 'focus' | 'blur', handler: () => void): StripeCardElement;
  focus(): void;
  destroy(): void;
}

export interface StripeElements {
  create(type: 'card', options?: { hidePostalCode?: boolean }): StripeCardElement;
}

/** The SetupIntent as Stripe.js hands it back to the page (what a publishable key may see). */
export interface StripeSetupIntent {
  id: string;
  status: 'requires_payment_method' | 'requires_confirmation' | 'requires_action' | 'processing' | 'canceled' | 'succeeded';
  payment_method: string | null;
}

export type SetupIntentResult = { setupIntent: StripeSetupIntent; error?: undefined } | { setupIntent?: undefined; error: StripeError };

export interface BillingDetails {
  name?: string;
  email?: string;
  address?: { postal_code?: string; country?: string };
}

export interface StripeJs {
  elements(): StripeElements;
  confirmCardSetup(clientSecret: string, data: { payment_method: { card: StripeCardElement; billing_details?: BillingDetails } }): Promise<SetupIntentResult>;
}

type StripeConstructor = (publishableKey: string) => StripeJs;

declare global {
  interface Window {
    Stripe?: StripeConstructor;
  }
}

let loading: { url: string; script: Promise<StripeConstructor> } | undefined;

/** Adds Stripe.js's script to the page once; the same URL again reuses it, another is refused (one Stripe.js per page). */
function stripeConstructor(url: string): Promise<StripeConstructor> {
  if (loading) {
    if (loading.url !== url) return Promise.reject(new Error(`Stripe.js is loaded from ${loading.url} already, not ${url}`));
    return loading.script;
  }
  const script = new Promise<StripeConstructor>((resolve, reject) => {
    const element = document.createElement('script');
    element.src = url;
    element.async = true;
    element.addEventListener('load', () => (window.Stripe ? resolve(window.Stripe) : reject(new Error('Stripe.js loaded but defined no Stripe'))));
    element.addEventListener('error', () => reject(new Error('Stripe.js could not be loaded')));
    document.head.appendChild(element);
  });
  loading = { url, script };
  // A failed load may be tried again (the network came back).
  script.catch(() => {
    if (loading?.script === script) loading = undefined;
  });
  return script;
}

/** Stripe.js from `url`, started with the publishable key. */
export async function loadStripe(url: string, publishableKey: string): Promise<StripeJs> {
  const Stripe = await stripeConstructor(url);
  return Stripe(publishableKey);
}

/** Where the hub says Stripe.js comes from and the publishable key it starts with (`POST /bff/card-setups`). */
export interface StripeJsSetting {
  url: string;
  publishableKey: string;
}
