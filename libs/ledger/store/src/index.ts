import { CreateLedger1764144000000 } from './migrations/1764144000000-create-ledger';
import { OutboxWithoutEventIdIndex1768730000000 } from './migrations/1768730000000-outbox-without-event-id-index';

/** The ledger's migrations, in order, for the wallet service's data source. */
export const LEDGER_MIGRATIONS = [CreateLedger1764144000000, OutboxWithoutEventIdIndex1768730000000];

export { CreateLedger1764144000000, JOURNAL_TABLES, LEDGER_SERVICE_ROLE } from './migrations/1764144000000-create-ledger';
export * from './postgres-ledger';

export * from './reservation-sweeper';
export * from './balance-queries';
export * from './rebuild-balances';
export * from './verify-journal';
export * from './ledger-events';
export * from './accounts';
export { appendBatch, lockChainHead } from './journal-appender';
export type { AppendContext } from './journal-appender';
export type { Sql } from './sql';
export { inTransaction, sqlOf, toBigInt } from './sql';
