/**
 * Housekeeping of `payments_in_progress` (docs/security.md, "Instrument release"): finished
 * payments' rows are deleted after the retention, in bounded statements through their partial
 * index; a row a live payment needs (awaiting its charge, with a method) is never deleted, however
 * old, and a row another transaction holds is left for the next sweep. Real PostgreSQL, the
 * wallet's own migrations.
 */
import { createLogger } from '@pay/observability';
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import type { WalletConfig } from '../src/config';
import { walletMigrations } from '../src/database/migrations';
import {
  FORGET_BATCH_SIZE,
  FORGET_FINISHED_PAYMENTS,
  FORGET_ROUNDS_PER_SWEEP,
  ForgetFinishedPayments,
} from '../src/payments-in-progress/forget-finished-payments';

const RETENTION_HOURS = 24;
const NOW = new Date();
const hoursAgo = (hours: number): string => new Date(NOW.getTime() - hours * 3_600_000).toISOString();

let schema: TestSchema;
let housekeeping: ForgetFinishedPayments;

async function insert(rows: { id: string; method: string | null; stage: 'awaiting_charge' | 'past_charge'; updatedAt: string }[]): Promise<void> {
  await schema.dataSource.query(
    `INSERT INTO payments_in_progress (payment_id, payer_id, payment_method_id, app, stage, updated_at)
     SELECT id, 'person-1', method, 'instagram', stage, updated_at FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS r(id, method, stage, updated_at)`,
    [rows.map((row) => row.id), rows.map((row) => row.method), rows.map((row) => row.stage), rows.map((row) => row.updatedAt)],
  );
}

async function remaining(prefix: string): Promise<string[]> {
  const rows = await schema.dataSource.query<{ payment_id: string }[]>(
    'SELECT payment_id FROM payments_in_progress WHERE payment_id LIKE $1 ORDER BY payment_id',
    [`${prefix}%`],
  );
  return rows.map((row) => row.payment_id);
}

beforeAll(async () => {
  schema = await createTestSchema('wallet_forget', walletMigrations);
  const config = { PAYMENTS_IN_PROGRESS_RETENTION_HOURS: RETENTION_HOURS } as WalletConfig;
  housekeeping = new ForgetFinishedPayments(schema.dataSource, config, createLogger('wallet', 'silent'));
}, 120_000);

afterAll(async () => {
  await housekeeping?.onModuleDestroy();
  await schema?.drop();
});

describe("housekeeping of the wallet's payments in progress", () => {
  it('deletes finished rows past the retention and keeps every row a live payment may need', async () => {
    await insert([
      { id: 'a-charged-long-ago', method: 'm-1', stage: 'past_charge', updatedAt: hoursAgo(RETENTION_HOURS + 1) },
      { id: 'a-transfer-long-ago', method: null, stage: 'awaiting_charge', updatedAt: hoursAgo(RETENTION_HOURS + 1) },
      { id: 'a-charged-lately', method: 'm-1', stage: 'past_charge', updatedAt: hoursAgo(RETENTION_HOURS - 1) },
      { id: 'a-transfer-lately', method: null, stage: 'awaiting_charge', updatedAt: hoursAgo(RETENTION_HOURS - 1) },
      // Awaiting its charge for a month: a live (if stuck) payment may still ask for its card.
      { id: 'a-awaiting-for-a-month', method: 'm-1', stage: 'awaiting_charge', updatedAt: hoursAgo(24 * 30) },
      { id: 'a-awaiting-now', method: 'm-1', stage: 'awaiting_charge', updatedAt: hoursAgo(0) },
    ]);
    expect(await housekeeping.sweep(NOW)).toBe(2);
    expect(await remaining('a-')).toEqual(['a-awaiting-for-a-month', 'a-awaiting-now', 'a-charged-lately', 'a-transfer-lately']);
    // Nothing more to do: a second sweep deletes nothing.
    expect(await housekeeping.sweep(NOW)).toBe(0);
  });

  it('deletes a backlog in bounded statements, the oldest first, and leaves what exceeds one sweep to the next', async () => {
    const backlog = FORGET_BATCH_SIZE * FORGET_ROUNDS_PER_SWEEP + 7;
    await insert(
      Array.from({ length: backlog }, (_, i) => ({
        id: `b-${String(i).padStart(6, '0')}`,
        method: 'm-1',
        stage: 'past_charge' as const,
        // b-000000 is the oldest.
        updatedAt: hoursAgo(RETENTION_HOURS + 1 + (backlog - i) / 3_600),
      })),
    );
    expect(await housekeeping.sweep(NOW)).toBe(FORGET_BATCH_SIZE * FORGET_ROUNDS_PER_SWEEP);
    const left = await remaining('b-');
    expect(left).toHaveLength(7);
    expect(left[0]).toBe(`b-${String(backlog - 7).padStart(6, '0')}`);
    expect(await housekeeping.sweep(NOW)).toBe(7);
    expect(await remaining('b-')).toEqual([]);
  }, 120_000);

  it('skips a row another transaction holds (the consumer changing it), and deletes it once released', async () => {
    await insert([{ id: 'c-held', method: null, stage: 'awaiting_charge', updatedAt: hoursAgo(RETENTION_HOURS + 1) }]);
    const holder = schema.dataSource.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    try {
      await holder.query("UPDATE payments_in_progress SET stage = 'past_charge' WHERE payment_id = 'c-held'");
      expect(await housekeeping.sweep(NOW)).toBe(0);
      expect(await remaining('c-')).toEqual(['c-held']);
      await holder.commitTransaction();
    } finally {
      await holder.release();
    }
    expect(await housekeeping.sweep(NOW)).toBe(1);
  });

  it("finds the rows through the partial index of finished payments, not by reading live payments' rows", async () => {
    const runner = schema.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SET enable_seqscan = off');
      const plan = (await runner.query(`EXPLAIN ${FORGET_FINISHED_PAYMENTS}`, [NOW.toISOString(), FORGET_BATCH_SIZE])) as { 'QUERY PLAN': string }[];
      expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toMatch(/Index Scan (using|on) payments_in_progress_finished/);
    } finally {
      await runner.release();
    }
  });
});
