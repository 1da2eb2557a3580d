import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { MeteredPaymentServiceProvider } from '../metered-payment-service-provider';
import { PaymentServiceProviders } from '../payment-service-providers';
import { PAYMENT_SERVICE_PROVIDERS } from '../psp.tokens';
import type { StripeSettings } from './stripe.config';
import { createStripeClient } from './stripe-client';
import { StripePaymentServiceProvider } from './stripe-payment-service-provider';

/**
 * Provides the PSP port on Stripe alone (or the simulator, by the settings), measured (latency, errors
 * by class), for every kind of method: tests of Stripe. The service uses PspModule.
 */
@Module({})
export class StripeModule {
  static forRoot(settings: StripeSettings): DynamicModule {
    return {
      module: StripeModule,
      providers: [
        {
          provide: PAYMENT_SERVICE_PROVIDERS,
          useFactory: () =>
            PaymentServiceProviders.only(new MeteredPaymentServiceProvider(new StripePaymentServiceProvider(createStripeClient(settings), settings))),
        },
      ],
      exports: [PAYMENT_SERVICE_PROVIDERS],
    };
  }
}
