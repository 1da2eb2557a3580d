import type { ServiceDefinition } from '@pay/platform';
import { PaymentOrchestrationModule } from './app.module';
import { PaymentOrchestrationConfig } from './config';
import { paymentOrchestrationMigrations } from './database/migrations';
import { paymentConsumers } from './payment-consumers';

export const paymentOrchestrationService: ServiceDefinition<PaymentOrchestrationConfig> = {
  name: 'payment-orchestration',
  schema: 'payment_orchestration',
  defaultPort: 3002,
  title: 'Payment Orchestration API',
  description: 'Purchases, donations, transfers and refunds: intake, checks, the payment state machine and the PSP.',
  configClass: PaymentOrchestrationConfig,
  migrations: paymentOrchestrationMigrations,
  rootModule: (platform, runtime) => PaymentOrchestrationModule.forRoot(platform, runtime),
  consumers: paymentConsumers,
};
