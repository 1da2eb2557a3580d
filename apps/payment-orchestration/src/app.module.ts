import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';

/** The payment-orchestration service: its feature modules hang off this root. */
@Module({})
export class PaymentOrchestrationModule {
  static forRoot(platform: DynamicModule): DynamicModule {
    return { module: PaymentOrchestrationModule, imports: [platform] };
  }
}
