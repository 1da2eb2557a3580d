import type { Sql } from '@pay/platform';
import { GroupCommit, inTransaction as platformInTransaction, sqlOf as platformSqlOf } from '@pay/platform';
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

/**
 * Transactions that share one COMMIT when they are submitted together (group commit: those
 * submitted in the same turn of the event loop, or while the previous shared one runs). Each work
 * runs in turn on the shared transaction; if any fails, nothing of it committed and every work
 * runs again in a transaction of its own, so a failure (a version conflict, say) reaches only its
 * own caller. A work must therefore do nothing outside the database that it cannot do twice.
 */
export class SharedTransactions {
  private readonly group: GroupCommit<(sql: Sql) => Promise<unknown>, unknown>;
  /** Transactions that committed more than one work, and the works in them (for tests). */
  readonly shared = { transactions: 0, works: 0 };

  constructor(
    private readonly dataSource: DataSource,
    maxBatchSize = 64,
  ) {
    this.group = new GroupCommit((works) => this.runAll(works), { maxBatchSize, maxWaitMs: 0, maxConcurrentBatches: 1 });
  }

  run<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.group.submit(work) as Promise<T>;
  }

  private async runAll(works: ReadonlyArray<(sql: Sql) => Promise<unknown>>): Promise<Array<PromiseSettledResult<unknown>>> {
    if (works.length > 1) {
      try {
        const results = await inTransaction(this.dataSource, async (sql) => {
          const out: unknown[] = [];
          for (const work of works) out.push(await work(sql));
          return out;
        });
        this.shared.transactions += 1;
        this.shared.works += works.length;
        return results.map((value) => ({ status: 'fulfilled', value }));
      } catch {
        // Rolled back as a whole: each on its own below, where its own failure reaches its caller.
      }
    }
    return Promise.all(
      works.map((work) =>
        inTransaction(this.dataSource, work).then(
          (value): PromiseSettledResult<unknown> => ({ status: 'fulfilled', value }),
          (reason: unknown): PromiseSettledResult<unknown> => ({ status: 'rejected', reason }),
        ),
      ),
    );
  }
}
