import type { MigrationList } from '@pay/platform';
import { MessagingTables1764057600003 } from './1764057600003-messaging-tables';

/** Every migration of the ad-signal-aggregation schema, in order. */
export const adSignalAggregationMigrations: MigrationList = [MessagingTables1764057600003];
