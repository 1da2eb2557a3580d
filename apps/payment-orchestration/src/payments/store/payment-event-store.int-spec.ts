/**
 * The event-sourced payment store on real PostgreSQL: streams with optimistic concurrency,
 * envelopes in the outbox in the same transaction, refusals that write nothing, append-only rows.
 */
import { randomUUID } from 'node:crypto';
import { InvalidEventError, parseEvent, Topics } from '@pay/contracts';
import type { PaymentEvent } from '@pay/payments-domain';
import { PaymentTransitionError } from '@pay/payments-domain';
import type { TestSchema } from '@pay/testing';
import { paymentInitiated as initiated } from '@pay/payments-domain/testing';
import { createTestSchema, waitFor } from '@pay/testing';
import { paymentOrchestrationMigrations } from '../../database/migrations';
import { sqlOf } from '../../database/sql';
import { Client } from 'pg';
import { PaymentSteps } from '../../run-payment-steps/payment-steps';
import { PaymentEventStore, PaymentVersionConflictError } from './payment-event-store';

let schema: TestSchema;
let store: PaymentEventStore;

beforeAll(async () => {
  schema = await createTestSchema('it_po_payment_store', paymentOrchestrationMigrations, 8);
  store = new PaymentEventStore(schema.dataSource);
});

afterAll(async () => {
  await schema?.drop();
});

/** A PaymentIntent is one payment's (the store keeps provider references unique). */
const authorizedAndCaptured = (paymentId: string): PaymentEvent[] => [
  { type: 'Authorized', amount: 1000n, provider: 'stripe', reference: `pi_${paymentId}` },
  { type: 'Captured', amount: 1000n },
];

async function outboxOf(paymentId: string): Promise<{ topic: string; message_key: string; payload: Record<string, unknown> }[]> {
  return schema.dataSource.query('SELECT topic, message_key, payload FROM outbox WHERE message_key = $1 ORDER BY position', [paymentId]);
}

async function streamOf(paymentId: string): Promise<{ sequence: number; type: string }[]> {
  return schema.dataSource.query('SELECT sequence, type FROM payment_events WHERE payment_id = $1 ORDER BY sequence', [paymentId]);
}

describe('PaymentEventStore', () => {
  it('appends a stream and rebuilds the payment from it, amounts exact', async () => {
    const paymentId = `pay-${randomUUID()}`;
    const big = 999_999_999_999_999_999n;
    await store.append(paymentId, 0, [initiated(paymentId, { amount: big })]);
    await store.append(paymentId, 1, [
      { type: 'Authorized', amount: big, provider: 'stripe', reference: `pi_${paymentId}` },
      { type: 'Captured', amount: big },
    ]);
    const payment = await store.load(paymentId);
    expect(payment?.state).toMatchObject({ status: 'captured', version: 3, amount: big, capturedAmount: big });
    expect(await store.load(`pay-${randomUUID()}`)).toBeUndefined();
  });

  it('writes a payments.events.v1 envelope per event to the outbox, in stream order, keyed by the payment', async () => {
    const paymentId = `pay-${randomUUID()}`;
    const correlationId = randomUUID();
    await store.append(paymentId, 0, [initiated(paymentId), ...authorizedAndCaptured(paymentId)], { correlationId });
    await store.append(
      paymentId,
      3,
      [
        { type: 'RefundRequested', refundId: 'r1', amount: 400n, reason: 'requested_by_customer' },
        { type: 'Refunded', refundId: 'r1', amount: 400n },
      ],
      {
        correlationId,
      },
    );
    const rows = await outboxOf(paymentId);
    expect(rows.map((row) => [row.topic, row.message_key])).toEqual(Array(5).fill([Topics.paymentEvents, paymentId]));
    const envelopes = rows.map((row) => parseEvent(row.payload));
    expect(envelopes.map((e) => [e.type, e.sequence])).toEqual([
      ['payments.payment.initiated', 1],
      ['payments.payment.authorized', 2],
      ['payments.payment.captured', 3],
      ['payments.payment.refund-requested', 4],
      ['payments.payment.refunded', 5],
    ]);
    for (const envelope of envelopes) expect(envelope).toMatchObject({ source: 'payment-orchestration', subject: paymentId, correlationId });
    expect(envelopes[2].data).toMatchObject({
      paymentId,
      kind: 'purchase',
      payerId: 'person-42',
      counterparty: { type: 'merchant', id: 'merchant-7' },
      provider: 'stripe',
      reference: `pi_${paymentId}`,
      amount: { amount: '1000', currency: 'EUR' },
    });
    expect(envelopes[4].data).toMatchObject({ refundId: 'r1', amount: { amount: '400' }, refundedTotal: { amount: '400' }, full: false });
    // The row's event id is the envelope's: consumers' deduplication key is traceable to the stream.
    const ids: { event_id: string }[] = await schema.dataSource.query('SELECT event_id FROM payment_events WHERE payment_id = $1 ORDER BY sequence', [
      paymentId,
    ]);
    expect(ids.map((row) => row.event_id)).toEqual(envelopes.map((e) => e.id));
  });

  it('refuses an append at a stale version, writing nothing', async () => {
    const paymentId = `pay-${randomUUID()}`;
    await store.append(paymentId, 0, [initiated(paymentId)]);
    await expect(store.append(paymentId, 0, [initiated(paymentId)])).rejects.toBeInstanceOf(PaymentVersionConflictError);
    await expect(store.append(paymentId, 2, authorizedAndCaptured(paymentId))).rejects.toMatchObject({ expectedVersion: 2, actualVersion: 1 });
    expect(await streamOf(paymentId)).toHaveLength(1);
    expect(await outboxOf(paymentId)).toHaveLength(1);
  });

  it('completes the step an append names in the same statement; an append that loses its race completes nothing', async () => {
    const paymentId = `pay-${randomUUID()}`;
    await store.append(paymentId, 0, [initiated(paymentId)]);
    const steps = (): Promise<Array<{ step: string }>> =>
      schema.dataSource.query('SELECT step FROM payment_steps WHERE payment_id = $1 ORDER BY step', [paymentId]);
    await schema.dataSource.query("INSERT INTO payment_steps (payment_id, step, due_at) VALUES ($1, 'authorize', now()), ($1, 'capture', now())", [paymentId]);
    const stored = await store.loadStored(paymentId);

    // Run alone (autocommit), as the authorize step's answer runs: events, outbox rows and the step, or nothing.
    const stale = { ...stored!, payment: stored!.payment };
    await store.append(paymentId, 1, [{ type: 'Authorized', amount: 1000n, provider: 'stripe', reference: `pi_${paymentId}` }]);
    await expect(
      schema.dataSource.transaction((tx) =>
        store.appendAfter(sqlOf(tx.queryRunner!), paymentId, stale, [{ type: 'Failed', code: 'card_declined' }], { completesStep: 'authorize' }),
      ),
    ).rejects.toBeInstanceOf(PaymentVersionConflictError);
    expect(await steps()).toEqual([{ step: 'authorize' }, { step: 'capture' }]);

    const current = await store.loadStored(paymentId);
    await schema.dataSource.transaction((tx) =>
      store.appendAfter(sqlOf(tx.queryRunner!), paymentId, current, [{ type: 'Captured', amount: 1000n }], { completesStep: 'authorize' }),
    );
    expect(await steps()).toEqual([{ step: 'capture' }]);
    expect((await streamOf(paymentId)).map((e) => e.type)).toEqual(['PaymentInitiated', 'Authorized', 'Captured']);
    expect(await outboxOf(paymentId)).toHaveLength(3);
  });

  it('appends soon: concurrent appends of several payments share one statement, each settles on its own', async () => {
    const ids = Array.from({ length: 6 }, () => `pay-${randomUUID()}`);
    for (const paymentId of ids) {
      await store.append(paymentId, 0, [initiated(paymentId)]);
      await schema.dataSource.query("INSERT INTO payment_steps (payment_id, step, due_at) VALUES ($1, 'authorize', now())", [paymentId]);
    }
    const read = await Promise.all(ids.map(async (paymentId) => (await store.loadStored(paymentId))!));
    // The last one moves on meanwhile (a webhook): its append must conflict and write nothing, the others must not mind.
    const moved = ids[5];
    await store.append(moved, 1, [{ type: 'Failed', code: 'card_declined' }]);
    const statementsBefore = store.groupedAppendStatements;
    const results = await Promise.allSettled(
      ids.map((paymentId, at) => store.appendSoon(paymentId, read[at], authorizedAndCaptured(paymentId), { completesStep: 'authorize' })),
    );
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    expect((results[5] as PromiseRejectedResult).reason).toBeInstanceOf(PaymentVersionConflictError);
    for (const paymentId of ids.slice(0, 5)) {
      expect((await streamOf(paymentId)).map((e) => e.type)).toEqual(['PaymentInitiated', 'Authorized', 'Captured']);
      expect((await outboxOf(paymentId)).map((row) => row.payload.sequence)).toEqual([1, 2, 3]);
      expect(await schema.dataSource.query('SELECT step FROM payment_steps WHERE payment_id = $1', [paymentId])).toEqual([]);
      expect((await store.load(paymentId))?.state).toMatchObject({ status: 'captured', version: 3, reference: `pi_${paymentId}` });
    }
    expect((await streamOf(moved)).map((e) => e.type)).toEqual(['PaymentInitiated', 'Failed']);
    expect(await schema.dataSource.query('SELECT step FROM payment_steps WHERE payment_id = $1', [moved])).toEqual([{ step: 'authorize' }]);
    // Submitted in one turn of the event loop: one statement for the six (at most two with the committer's second slot).
    expect(store.groupedAppendStatements - statementsBefore).toBeLessThanOrEqual(2);
  });

  it('lets exactly one of two concurrent appends at the same version win', async () => {
    const paymentId = `pay-${randomUUID()}`;
    await store.append(paymentId, 0, [initiated(paymentId)]);
    const results = await Promise.allSettled([
      store.append(paymentId, 1, [{ type: 'Authorized', amount: 1000n, provider: 'stripe', reference: `pi_${paymentId}` }]),
      store.append(paymentId, 1, [{ type: 'Failed', code: 'card_declined' }]),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0].reason).toBeInstanceOf(PaymentVersionConflictError);
    expect(await streamOf(paymentId)).toHaveLength(2);
    expect(await outboxOf(paymentId)).toHaveLength(2);
  });

  it('makes a writer that read the same version wait for the other and then conflict, writing nothing', async () => {
    const paymentId = `pay-${randomUUID()}`;
    await store.append(paymentId, 0, [initiated(paymentId)]);
    // Another writer has appended sequence 2 but not committed: our append read version 1, then waits on the row.
    const other = schema.dataSource.createQueryRunner();
    await other.connect();
    await other.startTransaction();
    await store.appendWith(sqlOf(other), paymentId, 1, [{ type: 'Failed', code: 'card_declined' }]);
    const [{ pid }] = (await other.query('SELECT pg_backend_pid() AS pid')) as { pid: number }[];
    const ours = store.append(paymentId, 1, [{ type: 'Authorized', amount: 1000n, provider: 'stripe', reference: `pi_${paymentId}` }]);
    // The positive marker that ours waits: a backend blocked by the other writer's transaction.
    const blockedByOther = async (): Promise<number> =>
      (await schema.dataSource.query<{ n: number }[]>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [pid]))[0].n;
    await waitFor(blockedByOther, (blocked) => blocked > 0, { what: 'our append waiting for the other writer', timeoutMs: 10_000, intervalMs: 20 });
    await other.commitTransaction();
    await other.release();
    await expect(ours).rejects.toMatchObject({ name: 'PaymentVersionConflictError', expectedVersion: 1 });
    expect((await store.load(paymentId))?.status).toBe('failed');
    expect(await streamOf(paymentId)).toHaveLength(2);
  });

  it('keeps in the row exactly the state the stream replays to, and reads rows kept before the state was', async () => {
    const paymentId = `pay-${randomUUID()}`;
    await store.append(paymentId, 0, [initiated(paymentId), ...authorizedAndCaptured(paymentId)]);
    await store.append(paymentId, 3, [{ type: 'RefundRequested', refundId: 'r1', amount: 400n, reason: 'requested_by_customer' }]);
    await store.append(paymentId, 4, [{ type: 'DisputeOpened', disputeId: 'dp_1', amount: 600n, reason: 'fraudulent' }]);
    const kept = await store.load(paymentId);
    expect(kept?.state).toEqual((await store.replay(paymentId))?.state);
    const [row] = await schema.dataSource.query('SELECT version, captured_amount, pending_refunds FROM payments WHERE payment_id = $1', [paymentId]);
    expect(row).toEqual({ version: 5, captured_amount: '1000', pending_refunds: 1 });
    // A row from before the state was kept: the stream answers, and the next append keeps the state.
    await schema.dataSource.query('UPDATE payments SET state = NULL WHERE payment_id = $1', [paymentId]);
    expect((await store.load(paymentId))?.state).toEqual(kept?.state);
    await store.append(paymentId, 5, [{ type: 'Refunded', refundId: 'r1', amount: 400n }]);
    expect((await store.load(paymentId))?.state).toEqual((await store.replay(paymentId))?.state);
  });

  it('serialises concurrent decisions with update(): several partial refunds never exceed the capture', async () => {
    const paymentId = `pay-${randomUUID()}`;
    await store.append(paymentId, 0, [initiated(paymentId), ...authorizedAndCaptured(paymentId)]);
    const refund = (refundId: string) =>
      store.update(
        paymentId,
        (payment) => {
          if (!payment) throw new Error('no payment');
          return [payment.requestRefund({ refundId, amount: 300n })];
        },
        {},
        10,
      );
    const results = await Promise.allSettled(['r1', 'r2', 'r3', 'r4', 'r5'].map(refund));
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as PaymentTransitionError);
    // 3 x 300 fit in 1000; the others are refused by the domain, not lost to a race.
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(refused.map((e) => e.code)).toEqual(['REFUND_EXCEEDS_CAPTURED', 'REFUND_EXCEEDS_CAPTURED']);
    const payment = await store.load(paymentId);
    expect(payment?.refundableAmount()).toBe(100n);
    expect((await streamOf(paymentId)).map((row) => row.sequence)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('writes nothing when the domain refuses an event, or consumers would refuse its envelope', async () => {
    const paymentId = `pay-${randomUUID()}`;
    await expect(store.append(paymentId, 0, [initiated(paymentId), { type: 'Captured', amount: 1000n }])).rejects.toBeInstanceOf(PaymentTransitionError);
    await expect(store.append(paymentId, 0, [initiated(paymentId, { app: 'myspace' })])).rejects.toBeInstanceOf(InvalidEventError);
    await expect(store.append(paymentId, 0, [initiated('another-payment')])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(store.append(paymentId, 0, authorizedAndCaptured(paymentId))).rejects.toMatchObject({ code: 'NOT_INITIATED' });
    expect(await streamOf(paymentId)).toHaveLength(0);
    expect(await outboxOf(paymentId)).toHaveLength(0);
  });

  it('is append-only: the database refuses UPDATE, DELETE and TRUNCATE', async () => {
    const paymentId = `pay-${randomUUID()}`;
    await store.append(paymentId, 0, [initiated(paymentId)]);
    await expect(schema.dataSource.query("UPDATE payment_events SET type = 'Captured' WHERE payment_id = $1", [paymentId])).rejects.toThrow(/append-only/);
    await expect(schema.dataSource.query('DELETE FROM payment_events WHERE payment_id = $1', [paymentId])).rejects.toThrow(/append-only/);
    await expect(schema.dataSource.query('TRUNCATE payment_events')).rejects.toThrow(/append-only/);
    expect(await streamOf(paymentId)).toHaveLength(1);
  });

  it('accepts a new payment in one statement: its row, events, outbox rows and first step (announced on commit)', async () => {
    const steps = new PaymentSteps(schema.dataSource);
    const listener = new Client({ connectionString: schema.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (message) => heard.push(message.payload ?? ''));
    await listener.query(`LISTEN "${steps.channel}"`);
    try {
      const paymentId = `pay-${randomUUID()}`;
      const occurredAt = new Date('2026-12-06T10:00:00.000Z');
      const statements: string[] = [];
      const appended = await schema.dataSource.transaction(async (tx) => {
        const sql = sqlOf(tx.queryRunner!);
        const counting = { query: <Row>(text: string, parameters?: readonly unknown[]) => (statements.push(text), sql.query<Row>(text, parameters)) };
        const result = await store.appendWith(counting, paymentId, 0, [initiated(paymentId)], {
          occurredAt,
          firstStep: steps.scheduling(paymentId, 'authorize'),
        });
        expect(heard).toEqual([]); // NOTIFY is transactional: nothing before the commit
        return result;
      });
      expect(statements).toHaveLength(1);
      expect(appended.envelopes[0].occurredAt).toBe(occurredAt.toISOString());
      expect(await streamOf(paymentId)).toEqual([{ sequence: 1, type: 'PaymentInitiated' }]);
      expect(await outboxOf(paymentId)).toHaveLength(1);
      expect(await schema.dataSource.query('SELECT step, due_at <= now() AS due FROM payment_steps WHERE payment_id = $1', [paymentId])).toEqual([
        { step: 'authorize', due: true },
      ]);
      await waitFor(
        () => heard,
        (payloads) => payloads.length > 0,
        { timeoutMs: 5_000 },
      );
      expect(heard.map((payload) => JSON.parse(payload) as unknown)).toEqual([{ paymentId, step: 'authorize' }]);

      // The same payment id again: nothing is written, no second step, and the caller learns it lost.
      await expect(
        schema.dataSource.transaction((tx) =>
          store.appendWith(sqlOf(tx.queryRunner!), paymentId, 0, [initiated(paymentId)], {
            firstStep: steps.scheduling(paymentId, 'confirm-funds'),
          }),
        ),
      ).rejects.toBeInstanceOf(PaymentVersionConflictError);
      expect(await schema.dataSource.query('SELECT step FROM payment_steps WHERE payment_id = $1', [paymentId])).toEqual([{ step: 'authorize' }]);
      expect(await streamOf(paymentId)).toEqual([{ sequence: 1, type: 'PaymentInitiated' }]);
      // A first step belongs to a new payment only.
      await expect(
        schema.dataSource.transaction((tx) =>
          store.appendWith(sqlOf(tx.queryRunner!), paymentId, 1, authorizedAndCaptured(paymentId), { firstStep: steps.scheduling(paymentId, 'authorize') }),
        ),
      ).rejects.toThrow(RangeError);
    } finally {
      await listener.end();
    }
  });
});
