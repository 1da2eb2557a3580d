import 'reflect-metadata';
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import { DataSource } from 'typeorm';
import type { NamedStatement } from './sql';
import { namedStatement, preparing, queryNamed, sqlOf, sqlOfPool } from './sql';

/** Prepared statements of the hot paths: PostgreSQL parses and plans each once per connection. */
describe('queryNamed', () => {
  let db: TestSchema;
  /** A pool of one connection: what a statement prepared on it is, the next statement sees. */
  let single: DataSource;

  beforeAll(async () => {
    db = await createTestSchema('it_sql', []);
    single = new DataSource({ type: 'postgres', url: db.url, schema: db.schema, extra: { max: 1, options: `-c search_path=${db.schema}` } });
    await single.initialize();
  });

  afterAll(async () => {
    await single?.destroy();
    await db?.drop();
  });

  const prepared = async (): Promise<string[]> =>
    (await sqlOfPool(single).query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name')).map((row) => row.name);

  it("prepares a statement once on a pool's connection and runs it again by name", async () => {
    const statement = namedStatement('SELECT $1::int + 1 AS n');
    const pool = sqlOfPool(single);
    expect(await queryNamed(pool, statement, [1])).toEqual([{ n: 2 }]);
    expect(await queryNamed(pool, statement, [41])).toEqual([{ n: 42 }]);
    expect(await prepared()).toEqual([statement.name]);
  });

  it('prepares on a query runner before its first statement, inside its transaction', async () => {
    const statement = namedStatement('SELECT $1::text AS said');
    const runner = single.createQueryRunner();
    try {
      await runner.startTransaction();
      expect(await queryNamed(sqlOf(runner), statement, ['hello'])).toEqual([{ said: 'hello' }]);
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }
    expect(await prepared()).toContain(statement.name);
  });

  it("refuses to run on a released query runner, whose connection the pool may have given to another runner's transaction", async () => {
    const statement = namedStatement('SELECT 1 AS one');
    const released = single.createQueryRunner();
    await released.connect();
    await released.release();
    // The pool's one connection, now another runner's, in its transaction.
    const holder = single.createQueryRunner();
    try {
      await holder.startTransaction();
      await expect(queryNamed(sqlOf(released), statement, [])).rejects.toThrow(/released query runner/);
      await holder.commitTransaction();
    } finally {
      await holder.release();
    }
  });

  it('names a text by its digest: the same text the same statement, another text another', () => {
    expect(namedStatement('SELECT 1')).toBe(namedStatement('SELECT 1'));
    expect(namedStatement('SELECT 1').name).toMatch(/^s_[0-9a-f]{24}$/);
    expect(namedStatement('SELECT 2').name).not.toBe(namedStatement('SELECT 1').name);
  });

  it('`preparing` prepares every statement of its Sql under the name of its text', async () => {
    const text = 'SELECT $1::int * 2 AS doubled';
    expect(await preparing(sqlOfPool(single)).query(text, [21])).toEqual([{ doubled: 42 }]);
    expect(await prepared()).toContain(namedStatement(text).name);
  });

  describe('a statement planned generic (`plans`) run on its own', () => {
    beforeAll(async () => {
      await single.query('CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL, flag boolean)');
    });

    type Watched = { query: (...args: unknown[]) => unknown };
    /** The pool's one connection, or `runner`'s (which holds it). */
    const connectionOf = async (runner = single.createQueryRunner()): Promise<Watched> => {
      await runner.connect();
      const client = (runner as unknown as { databaseConnection: Watched }).databaseConnection;
      if (!runner.isTransactionActive) await runner.release();
      return client;
    };

    /** Texts the connection is asked to send, one entry per round trip, while `work` runs. */
    const sentDuring = async (work: () => Promise<unknown>, client?: Watched): Promise<string[]> => {
      client ??= await connectionOf();
      const sent: string[] = [];
      const query = client.query;
      client.query = function watched(this: unknown, ...args: unknown[]) {
        const config = args[0];
        sent.push(typeof config === 'string' ? config : String((config as { text?: string }).text));
        return query.apply(this, args);
      };
      try {
        await work();
      } finally {
        client.query = query;
      }
      return sent.filter((text) => !text.startsWith('PREPARE '));
    };

    const BUMP: NamedStatement = {
      name: 'it_sql_bump',
      text: `INSERT INTO counters (id, n, flag) SELECT id, 1, $2::boolean FROM unnest($1::int[]) AS u(id)
             ON CONFLICT (id) DO UPDATE SET n = counters.n + 1, flag = excluded.flag RETURNING id, n, flag`,
      plans: 'generic',
    };

    const plansOf = async (name: string): Promise<{ generic: number; custom: number }> => {
      const [row] = await sqlOfPool(single).query<{ generic: number; custom: number }>(
        'SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements WHERE name = $1',
        [name],
      );
      return row ?? { generic: 0, custom: 0 };
    };

    it('travels as BEGIN, SET LOCAL, EXECUTE and COMMIT in one round trip, runs its generic plan, and commits', async () => {
      const pool = sqlOfPool(single);
      const sent = await sentDuring(async () => {
        for (let round = 0; round < 6; round += 1) await queryNamed(pool, BUMP, [[1, 2], round % 2 === 0]);
      });
      expect(sent).toHaveLength(6);
      for (const text of sent) {
        expect(text).toMatch(/^BEGIN; SET LOCAL plan_cache_mode = force_generic_plan; EXECUTE it_sql_bump_begun\('\{"1","2"\}', (true|false)\); COMMIT$/);
      }
      expect(await plansOf('it_sql_bump_begun')).toEqual({ generic: 6, custom: 0 });
      // Committed, seen from the next statement; the session's plan_cache_mode is its own again.
      expect(await pool.query('SELECT id, n, flag FROM counters ORDER BY id')).toEqual([
        { id: 1, n: 6, flag: false },
        { id: 2, n: 6, flag: false },
      ]);
      expect(await pool.query('SHOW plan_cache_mode')).toEqual([{ plan_cache_mode: 'auto' }]);
      expect(await queryNamed(pool, BUMP, [[3], true])).toEqual([{ id: 3, n: 1, flag: true }]);
    });

    it('leaves the connection outside any transaction when it fails, having written nothing', async () => {
      const pool = sqlOfPool(single);
      const FAILING: NamedStatement = {
        name: 'it_sql_bump_then_fail',
        text: `WITH bumped AS (UPDATE counters SET n = n + 100 WHERE id = $1::int RETURNING n) SELECT n / $2::int AS q FROM bumped`,
        plans: 'generic',
      };
      await expect(queryNamed(pool, FAILING, [1, 0])).rejects.toThrow(/division by zero/);
      // The pool's one connection: not in an aborted transaction, and the update was rolled back.
      expect(await pool.query('SELECT n FROM counters WHERE id = 1')).toEqual([{ n: 6 }]);
      expect(await queryNamed(pool, FAILING, [1, 2])).toEqual([{ q: 53 }]);
    });

    it("inside a transaction runs by name as any statement, planned as the transaction's", async () => {
      const runner = single.createQueryRunner();
      try {
        await runner.startTransaction();
        const sent = await sentDuring(() => queryNamed(sqlOf(runner), BUMP, [[4], false]), await connectionOf(runner));
        expect(sent).toEqual([BUMP.text]);
        await runner.rollbackTransaction();
      } finally {
        await runner.release();
      }
      expect(await sqlOfPool(single).query('SELECT id FROM counters WHERE id = 4')).toEqual([]);
    });
  });
});
