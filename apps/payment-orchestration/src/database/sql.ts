// The SQL helpers are shared by every service's store (libs/platform).
export { constraintOf, inTransaction, sqlOf, sqlStateOf, UNIQUE_VIOLATION } from '@pay/platform';
export type { Sql } from '@pay/platform';
