import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { MeteredPaymentServiceProvider } from './metered-payment-service-provider';
import type { PspRoutes } from './payment-service-providers';
import { PaymentServiceProviders } from './payment-service-providers';
import type { PayPalSettings } from './paypal/paypal.config';
import type { PayPalTokenCache } from './paypal/paypal-client';
import { createPayPalClient } from './paypal/paypal-client';
import { PayPalPaymentServiceProvider } from './paypal/paypal-payment-service-provider';
import { PayPalWebhookVerifier } from './paypal/paypal-webhook-verifier';
import { PAYMENT_SERVICE_PROVIDERS } from './psp.tokens';
import type { StripeSettings } from './stripe/stripe.config';
import { createStripeClient } from './stripe/stripe-client';
import { StripePaymentServiceProvider } from './stripe/stripe-payment-service-provider';

export interface PspSettings {
  readonly stripe: StripeSettings;
  readonly paypal: PayPalSettings;
  readonly routes: PspRoutes;
}

/** The PayPal adapter with its SDK client and webhook verifier. */
export function createPayPalAdapter(settings: PayPalSettings): PayPalPaymentServiceProvider {
  const tokens: PayPalTokenCache = {};
  const verifier = new PayPalWebhookVerifier({
    webhookId: settings.webhookId,
    toleranceSeconds: settings.webhookToleranceSeconds,
    certUrlPrefixes: settings.certUrlPrefixes,
  });
  return new PayPalPaymentServiceProvider(createPayPalClient(settings, tokens), tokens, verifier, settings.environment === 'production' && !settings.simulator);
}

/** Every adapter, measured (latency, errors by class), and the routes from kinds of saved method to providers. */
export function createPaymentServiceProviders(settings: PspSettings): PaymentServiceProviders {
  return new PaymentServiceProviders(
    [
      new MeteredPaymentServiceProvider(new StripePaymentServiceProvider(createStripeClient(settings.stripe), settings.stripe)),
      new MeteredPaymentServiceProvider(createPayPalAdapter(settings.paypal)),
    ],
    settings.routes,
  );
}

/** Provides the PSP port per provider (Stripe, PayPal; the simulator for each without its credentials). */
@Module({})
export class PspModule {
  static forRoot(settings: PspSettings): DynamicModule {
    return {
      module: PspModule,
      providers: [{ provide: PAYMENT_SERVICE_PROVIDERS, useFactory: () => createPaymentServiceProviders(settings) }],
      exports: [PAYMENT_SERVICE_PROVIDERS],
    };
  }
}
