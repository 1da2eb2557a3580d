import type { MigrationList } from '@pay/platform';
import { MessagingTables1764057600001 } from './1764057600001-messaging-tables';
import { PspWebhookEvents1764230400000 } from './1764230400000-psp-webhook-events';
import { PaymentEvents1764230400001 } from './1764230400001-payment-events';
import { PaymentFlows1764489600000 } from './1764489600000-payment-flows';
import { PaymentStepTrace1764835200000 } from './1764835200000-payment-step-trace';
import { OutboxNotify1765065600001 } from './1765065600001-outbox-notify';
import { PaymentState1765152000000 } from './1765152000000-payment-state';
import { PspWebhookRetries1765238400000 } from './1765238400000-psp-webhook-retries';
import { PaymentAbuseLimits1765411200000 } from './1765411200000-payment-abuse-limits';
import { OpenPaymentsProcessing1765584000001 } from './1765584000001-open-payments-processing';
import { WebhooksAbsorbedByAnswers1765670400000 } from './1765670400000-webhooks-absorbed-by-answers';
import { WebhookRecordsMoney1767800000000 } from './1767800000000-webhook-records-money';
import { SpentSupportCases1768720000000 } from './1768720000000-spent-support-cases';
import { ConsumerGroupMembers1768810000001 } from './1768810000001-consumer-group-members';
import { StepLeaseOwner1768830000000 } from './1768830000000-step-lease-owner';

/** Every migration of the payment-orchestration schema, in order. */
export const paymentOrchestrationMigrations: MigrationList = [
  MessagingTables1764057600001,
  PspWebhookEvents1764230400000,
  PaymentEvents1764230400001,
  PaymentFlows1764489600000,
  PaymentStepTrace1764835200000,
  OutboxNotify1765065600001,
  PaymentState1765152000000,
  PspWebhookRetries1765238400000,
  PaymentAbuseLimits1765411200000,
  OpenPaymentsProcessing1765584000001,
  WebhooksAbsorbedByAnswers1765670400000,
  WebhookRecordsMoney1767800000000,
  SpentSupportCases1768720000000,
  ConsumerGroupMembers1768810000001,
  StepLeaseOwner1768830000000,
];
