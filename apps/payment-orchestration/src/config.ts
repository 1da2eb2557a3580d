import { BaseServiceConfig } from '@pay/config';

/** Environment of the payment-orchestration service, validated at start-up (see docs/configuration.md). */
export class PaymentOrchestrationConfig extends BaseServiceConfig {}
