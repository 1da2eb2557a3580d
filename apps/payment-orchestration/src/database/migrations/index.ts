import type { MigrationList } from '@pay/platform';
import { MessagingTables1764057600001 } from './1764057600001-messaging-tables';

/** Every migration of the payment-orchestration schema, in order. */
export const paymentOrchestrationMigrations: MigrationList = [MessagingTables1764057600001];
