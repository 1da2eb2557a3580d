import type { LedgerCommand, PostingInput } from '@pay/ledger-domain';
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import type { QueryRunner } from 'typeorm';
import { LEDGER_MIGRATIONS, PostgresLedger } from './index';

const eur = (accountId: string, direction: 'debit' | 'credit', amount: bigint): PostingInput => ({ accountId, direction, amount, currency: 'EUR' });
const capture = (transactionId: string, amount: bigint, fee: bigint): LedgerCommand => ({
  type: 'transfer',
  transactionId,
  postings: [eur('clearing', 'debit', amount), eur('shop', 'credit', amount - fee), eur('fees', 'credit', fee)],
});

/** A caller's transaction (as the inbox consumer's): `work` runs in it, then it commits, or rolls back if `work` throws. */
async function inCallersTransaction<T>(schema: TestSchema, work: (runner: QueryRunner) => Promise<T>): Promise<T> {
  const runner = schema.dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.startTransaction();
    const result = await work(runner);
    await runner.commitTransaction();
    return result;
  } catch (error) {
    await runner.rollbackTransaction();
    throw error;
  } finally {
    await runner.release();
  }
}

describe('PostgresLedger.recordWithin: a batch of commands in the caller’s transaction', () => {
  let schema: TestSchema;
  let ledger: PostgresLedger;

  const rows = async <T>(sql: string, parameters: unknown[] = []): Promise<T[]> => schema.dataSource.query(sql, parameters);

  beforeAll(async () => {
    schema = await createTestSchema('ledger_within', LEDGER_MIGRATIONS);
    ledger = new PostgresLedger(schema.dataSource);
    await ledger.openAccount({ id: 'clearing', ownerType: 'system', ownerId: 'psp', currency: 'EUR', normalSide: 'debit' });
    await ledger.openAccount({ id: 'shop', ownerType: 'merchant', ownerId: 'm-shop', currency: 'EUR' });
    await ledger.openAccount({ id: 'fees', ownerType: 'system', ownerId: 'platform', currency: 'EUR', normalSide: 'credit' });
    await ledger.openAccount({ id: 'alice', ownerType: 'person', ownerId: 'u-alice', currency: 'EUR' });
  });

  afterAll(async () => {
    await ledger.close();
    await schema.drop();
  });

  it('records the batch with the caller’s own writes; a redelivered batch posts nothing twice; postings sum to zero', async () => {
    const batch = Array.from({ length: 20 }, (_, i) => ({ command: capture(`within-cap-${i}`, 1_000n + BigInt(i), 25n) }));
    await rows('CREATE TABLE IF NOT EXISTS callers_rows (id text PRIMARY KEY)');

    const first = await inCallersTransaction(schema, async (runner) => {
      await runner.query("INSERT INTO callers_rows (id) VALUES ('first')");
      return ledger.recordWithin(runner, batch);
    });
    expect(first.every((o) => o.ok && !o.replayed)).toBe(true);
    // One append: consecutive positions, one hash chain.
    const positions = first.map((o) => (o.ok ? o.entry.position : -1n));
    expect(positions.map((p) => p - positions[0])).toEqual(batch.map((_, i) => BigInt(i)));

    // The same batch delivered again (a consumer that crashed before committing its offsets).
    const again = await inCallersTransaction(schema, (runner) => ledger.recordWithin(runner, batch));
    expect(again.every((o) => o.ok && o.replayed)).toBe(true);
    expect(again.map((o) => (o.ok ? o.entry.position : -1n))).toEqual(positions);

    const [entries] = await rows<{ n: number }>("SELECT count(*)::int AS n FROM journal_entries WHERE transaction_id LIKE 'within-cap-%'");
    expect(entries.n).toBe(20);
    const [outbox] = await rows<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE payload->'data'->>'transactionId' LIKE 'within-cap-%'");
    expect(outbox.n).toBe(20);
    const [sums] = await rows<{ debits: string; credits: string }>(
      `SELECT coalesce(sum(amount) FILTER (WHERE direction = 'debit'), 0)::text AS debits, coalesce(sum(amount) FILTER (WHERE direction = 'credit'), 0)::text AS credits
         FROM postings p JOIN journal_entries e ON e.position = p.position WHERE e.transaction_id LIKE 'within-cap-%'`,
    );
    expect(sums.debits).toBe(sums.credits);
    expect(BigInt(sums.debits)).toBe(batch.reduce((sum, _, i) => sum + 1_000n + BigInt(i), 0n));
    expect((await ledger.balance('fees')).posted).toBeGreaterThanOrEqual(20n * 25n);
    expect(await ledger.balanceDrift()).toEqual([]);
    expect((await ledger.verify()).ok).toBe(true);
  });

  it('refuses one command without losing the others, and leaves nothing when the caller rolls back', async () => {
    const before = await ledger.balance('shop');
    const overdraft: LedgerCommand = { type: 'transfer', transactionId: 'within-overdraft', postings: [eur('alice', 'debit', 1n), eur('shop', 'credit', 1n)] };
    const outcomes = await inCallersTransaction(schema, (runner) =>
      ledger.recordWithin(runner, [{ command: capture('within-ok-1', 500n, 25n) }, { command: overdraft }, { command: capture('within-ok-2', 700n, 25n) }]),
    );
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(['ok', 'INSUFFICIENT_FUNDS', 'ok']);
    expect((await ledger.balance('shop')).posted - before.posted).toBe(1_150n);

    await expect(
      inCallersTransaction(schema, async (runner) => {
        await ledger.recordWithin(runner, [{ command: capture('within-rolled-back', 900n, 25n) }]);
        throw new Error('the caller fails after the append');
      }),
    ).rejects.toThrow('the caller fails after the append');
    expect(await rows("SELECT 1 FROM journal_entries WHERE transaction_id = 'within-rolled-back'")).toEqual([]);
    expect((await ledger.balance('shop')).posted - before.posted).toBe(1_150n);
    // The chain head moved back with the rollback: the next append continues the chain.
    await ledger.record(capture('within-after-rollback', 100n, 25n));
    expect((await ledger.verify()).ok).toBe(true);
  });
});
