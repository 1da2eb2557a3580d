import type { MigrationList } from '@pay/platform';
import { MessagingTables1766966400000 } from './1766966400000-messaging-tables';
import { OutboxNotify1766966400001 } from './1766966400001-outbox-notify';
import { SupportChat1766966400002 } from './1766966400002-support-chat';
import { ConsumerGroupMembers1768810000004 } from './1768810000004-consumer-group-members';

/** Every migration of the support schema, in order. */
export const supportMigrations: MigrationList = [
  MessagingTables1766966400000,
  OutboxNotify1766966400001,
  SupportChat1766966400002,
  ConsumerGroupMembers1768810000004,
];
