import { createHash } from 'node:crypto';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { PgSimpleClient, SqlValue, TransactionPlans } from './begin-with';
import { runAlone } from './begin-with';

/**
 * Parameterised SQL returning rows, the one interface every store runs its statements on: the
 * rows of every statement kind (SELECT, INSERT/UPDATE/DELETE … RETURNING), never a driver's shape.
 * A property, not a method, so the compiler refuses a TypeORM EntityManager or DataSource in its
 * place (their `query` answers UPDATE … RETURNING with `[rows, count]`): convert with `sqlOf…`.
 */
export interface Sql {
  readonly query: <Row = Record<string, unknown>>(text: string, parameters?: readonly unknown[]) => Promise<Row[]>;
}

/** Which query runner an Sql made by `sqlOf` runs on: `queryNamed` reaches its pg client. */
const runners = new WeakMap<Sql, QueryRunner>();
/** Which pool an Sql made by `sqlOfPool` takes its connections from: `queryNamed` names statements on them. */
const pools = new WeakMap<Sql, DataSource>();

/** Sql on one query runner (inside its transaction when it has one); `queryNamed` can prepare statements on it. */
export function sqlOf(runner: QueryRunner): Sql {
  const sql: Sql = {
    query: async <Row>(text: string, parameters?: readonly unknown[]): Promise<Row[]> => {
      // Structured results give the rows of every statement kind, RETURNING included.
      const result = (await runner.query(text, parameters as unknown[], true)) as { records?: Row[] };
      return result.records ?? [];
    },
  };
  runners.set(sql, runner);
  return sql;
}

/** The query runner behind an Sql made by `sqlOf` (undefined for one made otherwise): whether and when its work commits. */
export function runnerOf(sql: Sql): QueryRunner | undefined {
  return runners.get(sql);
}

/**
 * A statement of a hot path, prepared once per connection under its name: PostgreSQL then parses
 * and plans it once, not at every run (TypeORM's query runner cannot name statements).
 */
export interface NamedStatement {
  readonly name: string;
  readonly text: string;
  /**
   * How it is planned when it runs on its own (autocommitted, not inside a transaction): `generic`
   * for a statement whose plan no value changes (lookups by key), which PostgreSQL would otherwise
   * plan again at every run (TransactionPlans). Its parameters then travel as literals (SqlValue).
   * Inside a transaction, the transaction's plans apply.
   */
  readonly plans?: TransactionPlans;
}

interface PgClient extends PgSimpleClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
  query(text: string): Promise<unknown>;
}

/**
 * Runs a named (prepared) statement on the connection behind `sql`: the query runner of `sqlOf`, or
 * a connection of the pool for `sqlOfPool` (each pooled connection prepares it once); a plain query
 * when there is no pg client to name it on.
 */
export async function queryNamed<Row>(sql: Sql, statement: NamedStatement, values: readonly unknown[]): Promise<Row[]> {
  const pool = pools.get(sql);
  if (pool) {
    const runner = pool.createQueryRunner('master');
    try {
      return await queryNamed<Row>(sqlOf(runner), statement, values);
    } finally {
      await runner.release();
    }
  }
  const runner = runners.get(sql) as unknown as
    { databaseConnection?: PgClient; connect?: () => Promise<unknown>; isReleased?: boolean; isTransactionActive?: boolean } | undefined;
  // TypeORM keeps a released runner's connection object, which the pool may since have given to
  // another runner (inside its transaction): never send on it.
  if (runner?.isReleased) throw new Error(`named statement ${statement.name} on a released query runner`);
  // A runner's connection is taken from the pool at its first statement: take it now to name the statement on it.
  if (runner && runner.databaseConnection === undefined && typeof runner.connect === 'function') await runner.connect();
  const client = runner?.databaseConnection;
  if (typeof client?.query !== 'function') return sql.query<Row>(statement.text, values);
  if (statement.plans === 'generic' && runner?.isTransactionActive === false) return runAlone<Row>(client, statement, values as readonly SqlValue[]);
  return (await client.query({ name: statement.name, text: statement.text, values: [...values] })).rows as Row[];
}

/**
 * `sql` with every statement prepared under the name of its text (namedStatement): for code whose
 * statement texts are all constants (or built once from constants), such as a projection's chunk.
 */
export function preparing(sql: Sql): Sql {
  return { query: <Row>(text: string, parameters?: readonly unknown[]) => queryNamed<Row>(sql, namedStatement(text), parameters ?? []) };
}

const statementNames = new Map<string, NamedStatement>();

/**
 * A statement of a hot path named after its text (a digest of it), for texts that are constants
 * of the code but built at start (a read model's versioned table names): the same text is the same
 * prepared statement on a connection; another text, another one. Never for texts that vary per call
 * (a VALUES list per batch size): each would stay prepared on every connection.
 */
export function namedStatement(text: string): NamedStatement {
  let statement = statementNames.get(text);
  if (!statement) {
    statement = { name: `s_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`, text };
    statementNames.set(text, statement);
  }
  return statement;
}

/** Sql in the transaction of an EntityManager (`dataSource.transaction`, an inbox handler's). */
export function sqlOfTransaction(manager: EntityManager): Sql {
  if (!manager.queryRunner) throw new Error('expected the entity manager of a transaction, which has a query runner');
  return sqlOf(manager.queryRunner);
}

/** Sql on the pool: each statement takes a free connection and commits alone. */
export function sqlOfPool(dataSource: DataSource): Sql {
  const sql: Sql = {
    query: async <Row>(text: string, parameters?: readonly unknown[]): Promise<Row[]> => {
      const runner = dataSource.createQueryRunner('master');
      try {
        return await sqlOf(runner).query<Row>(text, parameters);
      } finally {
        await runner.release();
      }
    },
  };
  pools.set(sql, dataSource);
  return sql;
}

export type Isolation = 'READ COMMITTED' | 'REPEATABLE READ';

/**
 * Runs `work` in one database transaction on one pooled connection; rolls back on any error.
 * Read-only snapshots (REPEATABLE READ) make multi-query reads consistent (statement pages).
 */
export async function inTransaction<T>(
  dataSource: DataSource,
  work: (sql: Sql, runner: QueryRunner) => Promise<T>,
  isolation: Isolation = 'READ COMMITTED',
): Promise<T> {
  const runner = dataSource.createQueryRunner('master');
  await runner.connect();
  try {
    await runner.startTransaction(isolation === 'READ COMMITTED' ? undefined : isolation);
    const result = await work(sqlOf(runner), runner);
    await runner.commitTransaction();
    return result;
  } catch (error) {
    if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    throw error;
  } finally {
    await runner.release();
  }
}

/** pg returns bigint columns as strings: convert explicitly, never through Number. */
export function toBigInt(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'string' && /^-?[0-9]+$/.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  throw new TypeError(`expected an integer from the database, got ${String(value)}`);
}

export function toNullableBigInt(value: unknown): bigint | null {
  return value === null || value === undefined ? null : toBigInt(value);
}

export { constraintOf, isRetryable, sqlStateOf, UNIQUE_VIOLATION } from './sql-errors';
