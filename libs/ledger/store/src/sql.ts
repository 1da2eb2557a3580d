// The SQL helpers are shared by every service's store (libs/platform); re-exported for the ledger's modules.
export { inTransaction, isRetryable, sqlOf, sqlStateOf, toBigInt, toNullableBigInt } from '@pay/platform';
export type { Isolation, Sql } from '@pay/platform';
