import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import type { ServiceRuntime } from '@pay/platform';
import type { PaymentOrchestrationConfig } from './config';
import { PaymentsModule } from './payments.module';
import { parsePspRoutes } from './psp/payment-service-providers';
import { payPalSettingsFrom } from './psp/paypal/paypal.config';
import { PspModule } from './psp/psp.module';
import { stripeSettingsFrom } from './psp/stripe/stripe.config';

/** The payment-orchestration service: its feature modules hang off this root. */
@Module({})
export class PaymentOrchestrationModule {
  static forRoot(platform: DynamicModule, runtime: ServiceRuntime<PaymentOrchestrationConfig>): DynamicModule {
    // One PSP module, shared by the webhooks and the payment drivers.
    const config = runtime.config;
    const psp = PspModule.forRoot({ stripe: stripeSettingsFrom(config), paypal: payPalSettingsFrom(config), routes: parsePspRoutes(config.PSP_ROUTES) });
    return { module: PaymentOrchestrationModule, imports: [platform, PaymentsModule.forRoot(runtime, psp)] };
  }
}
