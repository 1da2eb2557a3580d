import type { MigrationList } from '@pay/platform';
import { MessagingTables1764057600003 } from './1764057600003-messaging-tables';
import { AdSignalTables1764403200000 } from './1764403200000-ad-signal-tables';
import { OutboxNotify1765065600003 } from './1765065600003-outbox-notify';
import { BudgetsPerOrganisation1765324800000 } from './1765324800000-budgets-per-organisation';
import { ConsumerGroupMembers1768810000003 } from './1768810000003-consumer-group-members';

/** Every migration of the ad-signal-aggregation schema, in order. */
export const adSignalAggregationMigrations: MigrationList = [
  MessagingTables1764057600003,
  AdSignalTables1764403200000,
  OutboxNotify1765065600003,
  BudgetsPerOrganisation1765324800000,
  ConsumerGroupMembers1768810000003,
];
