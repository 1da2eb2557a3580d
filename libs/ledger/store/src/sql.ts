// The SQL helpers are shared by every service's store (libs/platform); re-exported for the ledger's modules.
export { executePrepared, inTransaction, isRetryable, queryNamed, sqlOf, sqlStateOf, toBigInt, toNullableBigInt } from '@pay/platform';
export type { Isolation, NamedStatement, PgSimpleClient, Sql, SqlValue } from '@pay/platform';
