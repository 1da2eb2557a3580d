import type { QueryRunner } from 'typeorm';
import type { Sql } from './sql';
import { sqlOf } from './sql';

/**
 * A statement of the append path, prepared once per connection under its name: PostgreSQL then
 * parses and plans it once, not in every batch (planning the write statement's CTEs cost about
 * as much as executing them for a small batch).
 */
export interface NamedStatement {
  readonly name: string;
  readonly text: string;
}

/** Sql that can also run a named statement; without a pg client to name it on, the same text runs unnamed. */
export interface PreparingSql extends Sql {
  readonly prepared: <Row>(statement: NamedStatement, values: readonly unknown[]) => Promise<Row[]>;
}

interface PgClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/** Sql on one query runner (inside its transaction when it has one), with named statements on its pg client. */
export function preparingSqlOf(runner: QueryRunner): PreparingSql {
  const sql = sqlOf(runner);
  return {
    query: sql.query,
    prepared: async <Row>(statement: NamedStatement, values: readonly unknown[]): Promise<Row[]> => {
      // TypeORM's query runner cannot name statements; its connection is a pg client (PostgreSQL driver).
      const client = (runner as unknown as { databaseConnection?: PgClient }).databaseConnection;
      if (typeof client?.query !== 'function') return sql.query<Row>(statement.text, values);
      return (await client.query({ name: statement.name, text: statement.text, values: [...values] })).rows as Row[];
    },
  };
}

/** Runs `statement` prepared when `sql` can, else as plain text. */
export function runStatement<Row>(sql: Sql, statement: NamedStatement, values: readonly unknown[]): Promise<Row[]> {
  return 'prepared' in sql ? (sql as PreparingSql).prepared<Row>(statement, values) : sql.query<Row>(statement.text, values);
}
