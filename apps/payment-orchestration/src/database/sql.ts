import type { Sql } from '@pay/platform';
import { inTransaction as platformInTransaction, sqlOf as platformSqlOf } from '@pay/platform';
import type { DataSource, QueryRunner } from 'typeorm';

// The SQL helpers are shared by every service's store (libs/platform).
export { constraintOf, sqlStateOf, UNIQUE_VIOLATION } from '@pay/platform';
export type { Sql } from '@pay/platform';

/**
 * A statement of a hot path, prepared once per connection under its name: PostgreSQL then skips
 * parsing and planning it on every later run. TypeORM's query runner cannot name statements, so
 * `queryNamed` goes to the runner's pg client.
 */
export interface NamedStatement {
  readonly name: string;
  readonly text: string;
}

interface PgClient {
  query(config: { name: string; text: string; values: readonly unknown[] }): Promise<{ rows: unknown[] }>;
}

const runners = new WeakMap<Sql, QueryRunner>();

/** Sql on one query runner (inside its transaction when it has one); `queryNamed` can reach its pg client. */
export function sqlOf(runner: QueryRunner): Sql {
  const sql = platformSqlOf(runner);
  runners.set(sql, runner);
  return sql;
}

/** The query runner behind an Sql made here (undefined for one made elsewhere): whether and when its work commits. */
export function runnerOf(sql: Sql): QueryRunner | undefined {
  return runners.get(sql);
}

/** Runs a named statement on the connection behind `sql`; a plain query when there is no pg client to name it on. */
export async function queryNamed<Row>(sql: Sql, statement: NamedStatement, values: readonly unknown[]): Promise<Row[]> {
  const client = (runners.get(sql) as unknown as { databaseConnection?: PgClient } | undefined)?.databaseConnection;
  if (!client) return sql.query<Row>(statement.text, values);
  return (await client.query({ name: statement.name, text: statement.text, values })).rows as Row[];
}

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

/** libs/platform's transaction (READ COMMITTED, one pooled connection), with an Sql that can run named statements. */
export function inTransaction<T>(dataSource: DataSource, work: (sql: Sql, runner: QueryRunner) => Promise<T>): Promise<T> {
  return platformInTransaction(dataSource, (_sql, runner) => work(sqlOf(runner), runner));
}
