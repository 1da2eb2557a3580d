import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import type { Logger } from '@pay/observability';
import { LOGGER } from '@pay/platform';
import { DataSource } from 'typeorm';
import { ApplyPspWebhook } from '../apply-psp-webhook/apply-psp-webhook';
import { PaymentEventStore } from '../payments/store/payment-event-store';
import type { PaymentServiceProviders } from '../psp/payment-service-providers';
import { PAYMENT_SERVICE_PROVIDERS } from '../psp/psp.tokens';
import { PayPalWebhookController } from './receive-psp-webhook/paypal-webhook.controller';
import { PspWebhookInbox } from './receive-psp-webhook/psp-webhook-inbox';
import { ReceivePspWebhook } from './receive-psp-webhook/receive-psp-webhook';
import { StripeWebhookController } from './receive-psp-webhook/stripe-webhook.controller';

/**
 * PSP webhooks: received, recorded once, applied to their payments. Given the module that
 * provides the PSP ports (PspModule.forRoot, or StripeModule.forRoot in Stripe's tests), so tests and the service choose the adapter.
 * Needs the platform's DataSource and LOGGER, and the HTTP app created with `rawBody: true`
 * (the signature covers the raw bytes).
 */
@Module({})
export class WebhooksModule {
  static forRoot(psp: DynamicModule): DynamicModule {
    return {
      module: WebhooksModule,
      imports: [psp],
      controllers: [StripeWebhookController, PayPalWebhookController],
      providers: [
        { provide: PspWebhookInbox, inject: [DataSource], useFactory: (dataSource: DataSource) => new PspWebhookInbox(dataSource) },
        { provide: PaymentEventStore, inject: [DataSource], useFactory: (dataSource: DataSource) => new PaymentEventStore(dataSource) },
        {
          provide: ApplyPspWebhook,
          inject: [DataSource, PaymentEventStore, PspWebhookInbox, LOGGER],
          useFactory: (dataSource: DataSource, store: PaymentEventStore, inbox: PspWebhookInbox, logger: Logger) =>
            new ApplyPspWebhook(dataSource, store, inbox, logger),
        },
        {
          provide: ReceivePspWebhook,
          inject: [PAYMENT_SERVICE_PROVIDERS, PspWebhookInbox, LOGGER, ApplyPspWebhook],
          useFactory: (providers: PaymentServiceProviders, inbox: PspWebhookInbox, logger: Logger, applier: ApplyPspWebhook) =>
            new ReceivePspWebhook(providers, inbox, logger, applier),
        },
      ],
      exports: [ApplyPspWebhook, PspWebhookInbox],
    };
  }
}
