/**
 * SharedTransactions on real PostgreSQL: works submitted together share one COMMIT; when one of
 * them fails, nothing of the shared transaction is kept and each work runs on its own, so only
 * the failing caller sees the failure and every other work is applied exactly once.
 */
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import type { Sql } from './sql';
import { SharedTransactions } from './sql';

class Items1700000000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE TABLE items (name text PRIMARY KEY, txid text NOT NULL)');
  }
  async down(): Promise<void> {}
}

let db: TestSchema;

beforeAll(async () => {
  db = await createTestSchema('it_po_shared_tx', [Items1700000000000]);
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(async () => {
  await db.dataSource.query('TRUNCATE items');
});

const insert = (name: string) => async (sql: Sql): Promise<string> => {
  await sql.query('INSERT INTO items (name, txid) VALUES ($1, txid_current()::text)', [name]);
  return name;
};

const rows = async (): Promise<{ name: string; txid: string }[]> => db.dataSource.query('SELECT name, txid FROM items ORDER BY name');

describe('SharedTransactions', () => {
  it('commits works submitted together in one transaction, each answered with its own result', async () => {
    const shared = new SharedTransactions(db.dataSource);
    const names = ['a', 'b', 'c', 'd', 'e'];
    const results = await Promise.all(names.map((name) => shared.run(insert(name))));
    expect(results).toEqual(names);
    const stored = await rows();
    expect(stored.map((row) => row.name)).toEqual(names);
    expect(new Set(stored.map((row) => row.txid)).size).toBe(1);
    expect(shared.shared).toEqual({ transactions: 1, works: 5 });
  });

  it('when one work fails, only its caller sees the failure; the others are applied once, on their own', async () => {
    await db.dataSource.query("INSERT INTO items (name, txid) VALUES ('taken', '0')");
    const shared = new SharedTransactions(db.dataSource);
    const outcomes = await Promise.allSettled(['f', 'taken', 'g', 'h'].map((name) => shared.run(insert(name))));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/duplicate key/);
    const stored = await rows();
    expect(stored.map((row) => row.name)).toEqual(['f', 'g', 'h', 'taken']);
    // The shared transaction rolled back; each of the three then committed alone.
    expect(new Set(stored.filter((row) => row.name !== 'taken').map((row) => row.txid)).size).toBe(3);
    expect(shared.shared.transactions).toBe(0);
  });
});
