import type { Sql } from '@pay/platform';
import { sqlOf } from '@pay/platform';
import type { DataSource } from 'typeorm';

// The SQL helpers are shared by every service's store (libs/sql, re-exported by libs/platform);
// `sqlOf` Sql can run named (prepared) statements with `queryNamed`.
export { constraintOf, inTransaction, queryNamed, runnerOf, sqlOf, sqlStateOf, UNIQUE_VIOLATION } from '@pay/platform';
export type { NamedStatement, Sql } from '@pay/platform';

/** Runs `work` on one pooled connection, outside any transaction (each statement commits alone). */
export async function onConnection<T>(dataSource: DataSource, work: (sql: Sql) => Promise<T>): Promise<T> {
  const runner = dataSource.createQueryRunner('master');
  await runner.connect();
  try {
    return await work(sqlOf(runner));
  } finally {
    await runner.release();
  }
}
