import { DEFAULT_PSP_ROUTES, parsePspRoutes, PaymentServiceProviders } from './payment-service-providers';
import type { PaymentServiceProvider } from './psp.port';

const adapter = (provider: string): PaymentServiceProvider => ({ provider }) as PaymentServiceProvider;

describe('routing to a provider by the kind of saved method', () => {
  const stripe = adapter('stripe');
  const paypal = adapter('paypal');
  const providers = new PaymentServiceProviders([stripe, paypal], parsePspRoutes(DEFAULT_PSP_ROUTES, ['stripe', 'paypal']));

  it('sends cards and bank accounts to Stripe, PayPal accounts to PayPal', () => {
    expect(providers.forMethodKind('card')).toBe(stripe);
    expect(providers.forMethodKind('stripe_customer')).toBe(stripe);
    expect(providers.forMethodKind('bank_account')).toBe(stripe);
    expect(providers.forMethodKind('paypal')).toBe(paypal);
  });

  it('has no provider for a kind not routed (the payment fails payment_method_not_supported), nor for inherited names', () => {
    expect(providers.forMethodKind('crypto')).toBeUndefined();
    expect(providers.forMethodKind('toString')).toBeUndefined();
  });

  it('finds the adapter holding a payment by its provider; none for the wallet', () => {
    expect(providers.named('paypal')).toBe(paypal);
    expect(providers.named('wallet')).toBeUndefined();
  });

  it('adds a provider with an adapter and a route, nothing else', () => {
    const adyen = adapter('adyen');
    const more = new PaymentServiceProviders([stripe, paypal, adyen], parsePspRoutes('card:adyen,paypal:paypal'));
    expect(more.forMethodKind('card')).toBe(adyen);
    expect(more.forMethodKind('bank_account')).toBeUndefined();
  });

  it('refuses routes it cannot follow, naming what is wrong', () => {
    expect(() => parsePspRoutes('card=stripe')).toThrow(/not kind:provider/);
    expect(() => parsePspRoutes('card:stripe,card:paypal')).toThrow(/routed twice/);
    expect(() => parsePspRoutes('card:adyen', ['stripe', 'paypal'])).toThrow(/adyen is not a provider/);
    expect(() => parsePspRoutes(' , ')).toThrow(/no route/);
    expect(() => new PaymentServiceProviders([stripe], parsePspRoutes('paypal:paypal'))).toThrow(/no adapter/);
    expect(() => new PaymentServiceProviders([stripe, adapter('stripe')], {})).toThrow(/two adapters/);
  });
});
