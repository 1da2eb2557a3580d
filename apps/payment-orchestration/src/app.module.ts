import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import type { ServiceRuntime } from '@pay/platform';
import type { PaymentOrchestrationConfig } from './config';
import { PaymentsModule } from './payments.module';
import { stripeSettingsFrom } from './psp/stripe/stripe.config';
import { StripeModule } from './psp/stripe/stripe.module';

/** The payment-orchestration service: its feature modules hang off this root. */
@Module({})
export class PaymentOrchestrationModule {
  static forRoot(platform: DynamicModule, runtime: ServiceRuntime<PaymentOrchestrationConfig>): DynamicModule {
    // One PSP module, shared by the webhooks and the payment drivers.
    const psp = StripeModule.forRoot(stripeSettingsFrom(runtime.config));
    return { module: PaymentOrchestrationModule, imports: [platform, PaymentsModule.forRoot(runtime, psp)] };
  }
}
