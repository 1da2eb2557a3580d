import 'reflect-metadata';
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import { DataSource } from 'typeorm';
import { namedStatement, preparing, queryNamed, sqlOf, sqlOfPool } from './sql';

/** Prepared statements of the hot paths: PostgreSQL parses and plans each once per connection. */
describe('queryNamed', () => {
  let db: TestSchema;
  /** A pool of one connection: what a statement prepared on it is, the next statement sees. */
  let single: DataSource;

  beforeAll(async () => {
    db = await createTestSchema('it_sql', []);
    single = new DataSource({ type: 'postgres', url: db.url, schema: db.schema, extra: { max: 1 } });
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
});
