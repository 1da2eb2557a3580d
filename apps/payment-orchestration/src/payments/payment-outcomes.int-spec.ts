/**
 * payments_outcomes_total on real PostgreSQL: an outcome counts once its transaction commits, never
 * for an attempt that rolled back (the handler ran, its transaction did not commit).
 */
import { randomUUID } from 'node:crypto';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { startTelemetry } from '@pay/observability';
import type { PaymentEvent, PaymentInitiated } from '@pay/payments-domain';
import type { TestSchema } from '@pay/testing';
import { paymentInitiated } from '@pay/payments-domain/testing';
import { createTestSchema, parsePrometheusText } from '@pay/testing';
import { paymentOrchestrationMigrations } from '../database/migrations';
import { inTransaction, onConnection, sqlOf } from '../database/sql';
import { PaymentEventStore } from './store/payment-event-store';

const telemetry = startTelemetry({ service: 'payment-outcomes-test' });
let schema: TestSchema;
let store: PaymentEventStore;

beforeAll(async () => {
  schema = await createTestSchema('it_po_outcomes', paymentOrchestrationMigrations, 4);
  store = new PaymentEventStore(schema.dataSource);
});

afterAll(async () => {
  await schema?.drop();
  await telemetry.shutdown();
});

/** Each test its own country: its samples are its own. */
const COUNTRIES = ['DE', 'FR', 'IT', 'ES'];
let country = 'DE';
let tests = 0;
beforeEach(() => {
  country = COUNTRIES[tests++];
});

const initiated = (paymentId: string): PaymentInitiated => paymentInitiated(paymentId, { country });

const captured = (paymentId: string): PaymentEvent[] => [
  { type: 'Authorized', amount: 1000n, provider: 'stripe', reference: `pi_${paymentId}` },
  { type: 'Captured', amount: 1000n },
];

/** This test's samples: `outcome/provider/app` -> count. */
async function outcomes(): Promise<Record<string, number>> {
  const { resourceMetrics } = await telemetry.prometheus.collect();
  const found: Record<string, number> = {};
  for (const sample of parsePrometheusText(new PrometheusSerializer().serialize(resourceMetrics)))
    if (sample.name === 'payments_outcomes_total' && sample.labels.country === country)
      found[`${sample.labels.outcome}/${sample.labels.provider}/${sample.labels.app}/${sample.labels.kind}`] = sample.value;
  return found;
}

async function started(): Promise<string> {
  const paymentId = `pay-${randomUUID()}`;
  await store.append(paymentId, 0, [initiated(paymentId)]);
  return paymentId;
}

class RolledBack extends Error {}

describe('payments_outcomes_total', () => {
  it('does not count a capture whose transaction rolled back, and counts its retry that commits once', async () => {
    const paymentId = await started();
    const before = await store.loadStored(paymentId);
    await expect(
      inTransaction(schema.dataSource, async (sql) => {
        await store.appendAfter(sql, paymentId, before, captured(paymentId));
        throw new RolledBack('the handler failed after the append');
      }),
    ).rejects.toBeInstanceOf(RolledBack);
    expect((await store.load(paymentId))?.state.status).toBe('initiated');
    expect(await outcomes()).toEqual({});

    await inTransaction(schema.dataSource, (sql) => store.appendAfter(sql, paymentId, before, captured(paymentId)));
    expect(await outcomes()).toEqual({ 'captured/stripe/instagram/purchase': 1 });
  });

  it('does not count what an inbox-style transaction (EntityManager) rolled back, nor what a rolled-back savepoint held', async () => {
    const first = await started();
    const second = await started();
    await expect(
      schema.dataSource.transaction(async (tx) => {
        await store.appendWith(sqlOf(tx.queryRunner!), first, 1, captured(first));
        throw new RolledBack('the chunk failed');
      }),
    ).rejects.toBeInstanceOf(RolledBack);
    expect(await outcomes()).toEqual({});

    await schema.dataSource.transaction(async (tx) => {
      const runner = tx.queryRunner!;
      // A savepoint whose capture is rolled back, then one released, in a transaction that commits.
      await runner.startTransaction();
      await store.appendWith(sqlOf(runner), first, 1, captured(first));
      await runner.rollbackTransaction();
      await runner.startTransaction();
      await store.appendWith(sqlOf(runner), second, 1, [{ type: 'Failed', code: 'card_declined', declineCode: 'insufficient_funds' }]);
      await runner.commitTransaction();
      expect(await outcomes()).toEqual({}); // not before the outer commit
    });
    expect(await outcomes()).toEqual({ 'declined/none/instagram/purchase': 1 });
    expect((await store.load(first))?.state.status).toBe('initiated');
  });

  it('counts a statement outside a transaction once it returns, and each outcome of a refund by app and provider', async () => {
    const paymentId = await started();
    const before = await store.loadStored(paymentId);
    await onConnection(schema.dataSource, (sql) => store.appendAfter(sql, paymentId, before, captured(paymentId)));
    await store.append(paymentId, 3, [
      { type: 'RefundRequested', refundId: 'r1', amount: 400n, reason: 'requested_by_customer' },
      { type: 'Refunded', refundId: 'r1', amount: 400n },
    ]);
    expect(await outcomes()).toEqual({ 'captured/stripe/instagram/purchase': 1, 'refunded/stripe/instagram/purchase': 1 });
  });
});
