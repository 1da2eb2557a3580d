/**
 * Group commit puts many callers' commands in one database transaction: each journal entry's
 * outgoing event must still carry its own caller's trace context, so the consumer continues the
 * trace that caused the entry (docs/operations.md, "Tracing a purchase").
 */
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import type { LedgerCommand } from '@pay/ledger-domain';
import { startTelemetry, tracer } from '@pay/observability';
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import { LEDGER_MIGRATIONS, PostgresLedger } from './index';

const telemetry = startTelemetry({ service: 'ledger-trace-test', spanProcessors: [new SimpleSpanProcessor({ exporter: new InMemorySpanExporter() })] });

const transfer = (transactionId: string, amount: bigint): LedgerCommand => ({
  type: 'transfer',
  transactionId,
  postings: [
    { accountId: 'clearing', direction: 'debit', amount, currency: 'EUR' },
    { accountId: 'shop', direction: 'credit', amount, currency: 'EUR' },
  ],
});

describe('PostgresLedger: trace context of outgoing events', () => {
  let schema: TestSchema;
  let ledger: PostgresLedger;

  beforeAll(async () => {
    schema = await createTestSchema('ledger_trace', LEDGER_MIGRATIONS);
    // A long window: the commands below are certain to share one batch.
    ledger = new PostgresLedger(schema.dataSource, { groupCommit: { maxWaitMs: 50, maxBatchSize: 100 } });
    await ledger.openAccount({ id: 'clearing', ownerType: 'system', ownerId: 'psp', currency: 'EUR', normalSide: 'debit' });
    await ledger.openAccount({ id: 'shop', ownerType: 'merchant', ownerId: 'm-shop', currency: 'EUR' });
  });

  afterAll(async () => {
    await ledger.close();
    await schema.drop();
    await telemetry.shutdown();
  });

  it("gives each entry of a group-committed batch its own caller's traceparent; an untraced caller's entry gets none", async () => {
    const callers = ['t-1', 't-2', 't-3'].map((id) => ({ id, span: tracer('test').startSpan(`caller ${id}`) }));
    const submitted = callers.map(({ id, span }, i) => context.with(trace.setSpan(context.active(), span), () => ledger.record(transfer(id, BigInt(100 + i)))));
    submitted.push(ledger.record(transfer('t-untraced', 7n)));
    const recorded = await Promise.all(submitted);
    callers.forEach(({ span }) => span.end());

    // One batch: all four rows were written by one database transaction (one xmin).
    const rows = await schema.dataSource.query<{ transaction_id: string; traceparent: string | null; xmin: string }[]>(
      "SELECT payload->'data'->>'transactionId' AS transaction_id, headers->>'traceparent' AS traceparent, xmin::text AS xmin FROM outbox ORDER BY position",
    );
    expect(new Set(rows.map((row) => row.xmin)).size).toBe(1);
    expect(recorded).toHaveLength(4);
    const byId = new Map(rows.map((row) => [row.transaction_id, row.traceparent]));
    for (const { id, span } of callers) {
      const { traceId, spanId } = span.spanContext();
      expect(byId.get(id)).toBe(`00-${traceId}-${spanId}-01`);
    }
    expect(byId.get('t-untraced')).toBeNull();
  });
});
