import type { MigrationList } from '@pay/platform';
import { MessagingTables1764057600000 } from './1764057600000-messaging-tables';

/** Every migration of the wallet schema, in order. */
export const walletMigrations: MigrationList = [MessagingTables1764057600000];
