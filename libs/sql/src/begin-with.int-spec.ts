import 'reflect-metadata';
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import type { QueryRunner } from 'typeorm';
import { DataSource } from 'typeorm';
import { beginWith, commitWith } from './begin-with';
import type { NamedStatement } from './sql';
import { sqlOfPool } from './sql';

/** A transaction's BEGIN travels with its first statement: one round trip, the runner in its transaction as after startTransaction. */
describe('beginWith', () => {
  let db: TestSchema;
  /** A pool of one connection: each test's runner gets the same session (its prepared statements). */
  let single: DataSource;
  /** Another session, to see what is committed. */
  let reader: DataSource;

  const INSERT_NOTE: NamedStatement = {
    name: 'it_begin_with_insert_note',
    text: `INSERT INTO notes (id, body, tags) SELECT $1::int, $2::text, $3::text[] ON CONFLICT (id) DO NOTHING RETURNING id, body, tags`,
  };

  beforeAll(async () => {
    db = await createTestSchema('it_begin_with', []);
    single = new DataSource({ type: 'postgres', url: db.url, schema: db.schema, extra: { max: 1, options: `-c search_path=${db.schema}` } });
    await single.initialize();
    reader = new DataSource({ type: 'postgres', url: db.url, schema: db.schema, extra: { max: 1, options: `-c search_path=${db.schema}` } });
    await reader.initialize();
    await reader.query('CREATE TABLE notes (id int PRIMARY KEY, body text, tags text[])');
  });

  afterAll(async () => {
    await single?.destroy();
    await reader?.destroy();
    await db?.drop();
  });

  beforeEach(async () => {
    await reader.query('TRUNCATE notes');
  });

  const notes = async (): Promise<Array<{ id: number; body: string | null; tags: string[] | null }>> =>
    sqlOfPool(reader).query('SELECT id, body, tags FROM notes ORDER BY id');

  /** The texts the runner's pg client is asked to send, one entry per round trip. */
  const watchQueries = async (runner: QueryRunner): Promise<string[]> => {
    await runner.connect();
    const client = (runner as unknown as { databaseConnection: { query: (...args: unknown[]) => unknown } }).databaseConnection;
    const sent: string[] = [];
    const query = client.query;
    client.query = function watched(this: unknown, ...args: unknown[]) {
      const config = args[0];
      sent.push(typeof config === 'string' ? config : String((config as { text?: string }).text));
      return query.apply(this, args);
    };
    return sent;
  };

  it('sends BEGIN with the statement in one round trip, then the runner commits its transaction', async () => {
    const runner = single.createQueryRunner('master');
    try {
      const sent = await watchQueries(runner);
      const rows = await beginWith<{ id: number; body: string }>(runner, INSERT_NOTE, [1, 'first', ['a']]);
      expect(rows).toEqual([{ id: 1, body: 'first', tags: ['a'] }]);
      expect(runner.isTransactionActive).toBe(true);
      // The statement is prepared once per session (PREPARE, on its own), then BEGIN travels with its EXECUTE.
      expect(sent.filter((text) => !text.startsWith('PREPARE '))).toEqual([expect.stringMatching(/^BEGIN; EXECUTE it_begin_with_insert_note_begun\(/)]);
      // Inside the transaction: another session does not see the row yet.
      expect(await notes()).toEqual([]);
    } finally {
      if (runner.isTransactionActive) await runner.commitTransaction();
      await runner.release();
    }
    expect(await notes()).toEqual([{ id: 1, body: 'first', tags: ['a'] }]);
  });

  it('rolls back through the runner: nothing the statement wrote stays', async () => {
    const runner = single.createQueryRunner('master');
    try {
      await beginWith(runner, INSERT_NOTE, [2, 'rolled back', null]);
      await runner.query('INSERT INTO notes (id, body) VALUES (3, $1)', ['also rolled back']);
      await runner.rollbackTransaction();
      expect(runner.isTransactionActive).toBe(false);
    } finally {
      await runner.release();
    }
    expect(await notes()).toEqual([]);
  });

  it('leaves the transaction aborted when the statement fails, and the connection usable after the rollback', async () => {
    const failing: NamedStatement = { name: 'it_begin_with_divide', text: 'SELECT 1 / $1::int AS quotient' };
    const runner = single.createQueryRunner('master');
    try {
      await expect(beginWith(runner, failing, [0])).rejects.toThrow(/division by zero/);
      expect(runner.isTransactionActive).toBe(true);
      await expect(runner.query('SELECT 1')).rejects.toThrow(/current transaction is aborted/);
      await runner.rollbackTransaction();
      expect(await beginWith(runner, failing, [2])).toEqual([{ quotient: 0 }]);
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }
  });

  it('prepares again and runs once when the session lost its prepared statements', async () => {
    const runner = single.createQueryRunner('master');
    try {
      await beginWith(runner, INSERT_NOTE, [4, 'before', null]);
      await runner.commitTransaction();
      await runner.query('DEALLOCATE ALL');
      expect(await beginWith(runner, INSERT_NOTE, [5, 'after', null])).toEqual([{ id: 5, body: 'after', tags: null }]);
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }
    expect((await notes()).map((note) => note.id)).toEqual([4, 5]);
  });

  it('passes texts and arrays as literals unchanged: quotes, backslashes, braces, NULL elements, a long document', async () => {
    const tricky = `it's a "quote" \\ back\\slash {brace}, comma; $$ and $pay_document without its last dollar`;
    const long = `${'x'.repeat(300)} ' " \\ end`;
    const tags = ['plain', 'with "quote"', 'with \\ backslash', 'with, comma', '{braced}', 'NULL', ''];
    const runner = single.createQueryRunner('master');
    try {
      await beginWith(runner, INSERT_NOTE, [6, tricky, tags]);
      await runner.commitTransaction();
      await beginWith(runner, INSERT_NOTE, [7, long, null]);
      await runner.commitTransaction();
      // Long arrays (documents): dollar-quoted, unless an element holds the quote's tag.
      await beginWith(runner, INSERT_NOTE, [8, 'long array', [...tags, long, '{"json": "doc", "path": "a\\b"}']]);
      await runner.commitTransaction();
      await beginWith(runner, INSERT_NOTE, [9, 'long array with the tag', [tricky, long, 'ends $pay_document$']]);
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }
    expect(await notes()).toEqual([
      { id: 6, body: tricky, tags },
      { id: 7, body: long, tags: null },
      { id: 8, body: 'long array', tags: [...tags, long, '{"json": "doc", "path": "a\\b"}'] },
      { id: 9, body: 'long array with the tag', tags: [tricky, long, 'ends $pay_document$'] },
    ]);
  });

  it("plans the transaction's prepared statements once when asked: generic plans inside it, the session's own choice after it", async () => {
    // An array of ids: left to itself (plan_cache_mode auto) PostgreSQL plans this for each run's values, at least the first five times.
    const READ_NOTES: NamedStatement = { name: 'it_begin_with_read_notes', text: `SELECT count(*)::int AS n FROM notes WHERE id = ANY($1::int[])` };
    const planned = async (runner: QueryRunner, name: string): Promise<{ generic: number; custom: number }> => {
      const [row] = (await runner.query(`SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements WHERE name = $1`, [
        name,
      ])) as Array<{ generic: number; custom: number }>;
      return row ?? { generic: 0, custom: 0 };
    };
    // Names of their own: the earlier tests ran INSERT_NOTE on this session.
    const INSERT = { ...INSERT_NOTE, name: 'it_begin_with_insert_planned' };
    const runner = single.createQueryRunner('master');
    try {
      await runner.connect();
      const client = (runner as unknown as { databaseConnection: { query: (config: { name: string; text: string; values: unknown[] }) => Promise<unknown> } })
        .databaseConnection;
      for (let round = 0; round < 8; round += 1) {
        await beginWith(runner, INSERT, [100 + round, `round ${round}`, null], 'generic');
        // A statement of the extended protocol, named, inside the same transaction: planned once too.
        await client.query({ name: READ_NOTES.name, text: READ_NOTES.text, values: [[100, 100 + round]] });
        await runner.commitTransaction();
      }
      expect(await planned(runner, 'it_begin_with_insert_planned_begun')).toEqual({ generic: 8, custom: 0 });
      expect(await planned(runner, READ_NOTES.name)).toEqual({ generic: 8, custom: 0 });
      // SET LOCAL ended with each transaction: outside one the session decides as it did, per run at first.
      expect(await runner.query('SHOW plan_cache_mode')).toEqual([{ plan_cache_mode: 'auto' }]);
      await client.query({ name: READ_NOTES.name, text: READ_NOTES.text, values: [[100]] });
      expect((await planned(runner, READ_NOTES.name)).custom).toBe(1);
      // Not asked (the default, `auto`): PostgreSQL's own choice inside the transaction too.
      await beginWith(runner, { ...INSERT_NOTE, name: 'it_begin_with_insert_auto' }, [200, 'auto', null]);
      await runner.commitTransaction();
      expect(await planned(runner, 'it_begin_with_insert_auto_begun')).toEqual({ generic: 0, custom: 1 });
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
  });

  it('refuses a runner already in a transaction (its BEGIN would be a second one)', async () => {
    const runner = single.createQueryRunner('master');
    try {
      await runner.startTransaction();
      await expect(beginWith(runner, INSERT_NOTE, [8, 'no', null])).rejects.toThrow(/in a transaction already/);
      await runner.rollbackTransaction();
    } finally {
      await runner.release();
    }
    expect(await notes()).toEqual([]);
  });

  describe('commitWith', () => {
    const COUNT_NOTES: NamedStatement = { name: 'it_commit_with_count', text: `UPDATE notes SET body = $2::text WHERE id = $1::int RETURNING id, body` };

    it("sends the transaction's last statement with COMMIT in one round trip, then the runner is out of its transaction", async () => {
      const runner = single.createQueryRunner('master');
      try {
        await beginWith(runner, INSERT_NOTE, [10, 'begun', null]);
        const sent = await watchQueries(runner);
        expect(await commitWith(runner, COUNT_NOTES, [10, 'committed'])).toEqual([{ id: 10, body: 'committed' }]);
        expect(sent.filter((text) => !text.startsWith('PREPARE '))).toEqual([
          expect.stringMatching(/^EXECUTE it_commit_with_count_begun\(10, 'committed'\); COMMIT$/),
        ]);
        expect(runner.isTransactionActive).toBe(false);
        // The runner's query is TypeORM's own again: it sends what it is given.
        expect(await runner.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      } finally {
        if (runner.isTransactionActive) await runner.rollbackTransaction();
        await runner.release();
      }
      expect(await notes()).toEqual([{ id: 10, body: 'committed', tags: null }]);
    });

    it('leaves the transaction aborted when the statement fails (COMMIT skipped): the rollback leaves nothing', async () => {
      const failing: NamedStatement = { name: 'it_commit_with_divide', text: 'UPDATE notes SET body = (1 / $1::int)::text WHERE id = 11 RETURNING id' };
      const runner = single.createQueryRunner('master');
      try {
        await beginWith(runner, INSERT_NOTE, [11, 'begun', null]);
        await expect(commitWith(runner, failing, [0])).rejects.toThrow(/division by zero/);
        expect(runner.isTransactionActive).toBe(true);
        await expect(runner.query('SELECT 1')).rejects.toThrow(/current transaction is aborted/);
        await runner.rollbackTransaction();
      } finally {
        await runner.release();
      }
      expect(await notes()).toEqual([]);
    });

    it('refuses a runner outside a transaction, or inside a nested one (its COMMIT would end the outer one)', async () => {
      const runner = single.createQueryRunner('master');
      try {
        await expect(commitWith(runner, COUNT_NOTES, [12, 'no'])).rejects.toThrow(/not in a transaction/);
        await runner.startTransaction();
        await runner.query('INSERT INTO notes (id, body) VALUES (12, $1)', ['outer']);
        await runner.startTransaction();
        await expect(commitWith(runner, COUNT_NOTES, [12, 'inner'])).rejects.toThrow(/nested transaction/);
        await runner.commitTransaction();
        await runner.rollbackTransaction();
      } finally {
        await runner.release();
      }
      expect(await notes()).toEqual([]);
    });
  });
});
