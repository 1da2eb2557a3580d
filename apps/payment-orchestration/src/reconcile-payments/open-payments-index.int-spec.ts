/**
 * Reconciliation's query over open payments is served by the `payments_open` partial index, for
 * every status it selects (a bank debit `processing` for days included): PostgreSQL uses a
 * partial index only when its predicate implies the query's, so a status missing from the index
 * turns every run into a scan of the whole table.
 */
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import { paymentOrchestrationMigrations } from '../database/migrations';
import { OPEN_PAYMENTS_SQL, UNSETTLED_STATUSES } from './reconcile-payments';

let schema: TestSchema;

beforeAll(async () => {
  schema = await createTestSchema('it_po_open_payments', paymentOrchestrationMigrations, 2);
});

afterAll(async () => {
  await schema?.drop();
});

/** The plan PostgreSQL picks when it may not scan the table whole (so any usable index shows). */
async function planOf(sql: string, parameters: unknown[]): Promise<string> {
  const runner = schema.dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.startTransaction();
    await runner.query('SET LOCAL enable_seqscan = off');
    const rows: { 'QUERY PLAN': string }[] = await runner.query(`EXPLAIN ${sql}`, parameters);
    await runner.rollbackTransaction();
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  } finally {
    await runner.release();
  }
}

describe('the open payments index', () => {
  it("covers reconciliation's query, processing included", async () => {
    expect(UNSETTLED_STATUSES).toContain('processing');
    expect(await planOf(OPEN_PAYMENTS_SQL, [60_000, 500])).toMatch(/Index Scan using payments_open|Bitmap Index Scan on payments_open/);
  });

  it('would not serve the query without processing in its predicate (the defect this migration fixed)', async () => {
    await schema.dataSource.query('DROP INDEX payments_open');
    await schema.dataSource.query(
      "CREATE INDEX payments_open ON payments (updated_at) WHERE status IN ('initiated', 'requires_action', 'authorized') OR pending_refunds > 0",
    );
    expect(await planOf(OPEN_PAYMENTS_SQL, [60_000, 500])).not.toMatch(/payments_open/);
  });
});
