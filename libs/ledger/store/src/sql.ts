// The SQL helpers are shared by every service's store (libs/platform); re-exported for the ledger's modules.
export {
  forgetPrepared,
  inTransaction,
  isRetryable,
  prepareOnce,
  queryNamed,
  sqlLiteral,
  sqlOf,
  sqlStateOf,
  toBigInt,
  toNullableBigInt,
  UNKNOWN_PREPARED_STATEMENT,
} from '@pay/platform';
export type { Isolation, NamedStatement, PgSimpleClient, Sql, SqlValue } from '@pay/platform';
