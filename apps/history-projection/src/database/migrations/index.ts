import type { MigrationList } from '@pay/platform';
import { MessagingTables1764057600002 } from './1764057600002-messaging-tables';
import { HistoryReadModel1764403200000 } from './1764403200000-history-read-model';
import { OutboxNotify1765065600002 } from './1765065600002-outbox-notify';
import { ConsumerGroupMembers1768810000002 } from './1768810000002-consumer-group-members';
import { EntryFailureCode1768891000002 } from './1768891000002-entry-failure-code';
import { MethodUnusable1768894000002 } from './1768894000002-method-unusable';

/** Every migration of the history-projection schema, in order. */
export const historyProjectionMigrations: MigrationList = [
  MessagingTables1764057600002,
  HistoryReadModel1764403200000,
  OutboxNotify1765065600002,
  ConsumerGroupMembers1768810000002,
  EntryFailureCode1768891000002,
  MethodUnusable1768894000002,
];
