import { windowOf } from '@pay/ad-signals-domain';
import type { BatchWork, InboxBatch } from '@pay/messaging';
import { BatchedEventError, PermanentEventError } from '@pay/messaging';
import type { Sql } from '@pay/platform';
import type { PendingCapture } from './chunk-work';
import { AdSignalsChunk } from './chunk-work';

/** An inbox batch as the consumer makes one: one work per key for the transaction. */
function batch(): InboxBatch & { works: Map<object, BatchWork> } {
  const works = new Map<object, BatchWork>();
  return {
    works,
    work: <T extends BatchWork>(key: object, create: () => T): T => {
      if (!works.has(key)) works.set(key, create());
      return works.get(key) as T;
    },
  };
}

/**
 * Records the statements sent; answers the closed-window query with the day closed (or none), the
 * contexts query with a context for each key in `contexts`, and the purchases insert with every key.
 */
function recordingSql(options: { dayClosed?: boolean; contexts?: string[] } = {}): Sql & { sent: { text: string; parameters: unknown[] }[] } {
  const sent: { text: string; parameters: unknown[] }[] = [];
  const { dayClosed = true, contexts = [] } = options;
  return {
    sent,
    query: <Row>(text: string, parameters: readonly unknown[] = []): Promise<Row[]> => {
      sent.push({ text, parameters: [...parameters] });
      if (text.includes('closed_windows')) return Promise.resolve((dayClosed ? [{ granularity: 'day' }] : []) as Row[]);
      if (text.includes('FROM payment_contexts'))
        return Promise.resolve(
          (parameters[0] as string[])
            .filter((key) => contexts.includes(key))
            .map((key) => ({ payment_key: key, app: 'instagram', country: 'US', merchant_category: '5732', method_id: null })) as Row[],
        );
      if (text.includes('INSERT INTO purchases')) return Promise.resolve((parameters[0] as string[]).map((key) => ({ payment_key: key })) as Row[]);
      return Promise.resolve([] as Row[]);
    },
  };
}

function capture(key: string, at: number): PendingCapture {
  const hour = windowOf('hour', at);
  const day = windowOf('day', at);
  return {
    eventId: `event-${key}`,
    paymentId: `payment-${key}`,
    hour,
    day,
    purchase: {
      paymentKey: key,
      personKey: `person-${key}`,
      merchantId: 'shop',
      occurredAt: new Date(at).toISOString(),
      hourStart: new Date(hour.start).toISOString(),
      dayStart: new Date(day.start).toISOString(),
      provider: 'stripe',
      amountBucket: '10-25',
      amount: '1250',
      currency: 'USD',
    },
  };
}

describe('AdSignalsChunk', () => {
  const at = Date.parse('2026-12-05T10:30:00Z');
  const hour = windowOf('hour', at);
  const day = windowOf('day', at);

  it('is one per transaction, and none outside an inbox batch', () => {
    const sql = recordingSql();
    const shared = batch();
    expect(AdSignalsChunk.of(shared, sql)).toBe(AdSignalsChunk.of(shared, sql));
    expect(AdSignalsChunk.of(undefined, sql)).toBeUndefined();
  });

  it('takes each window lock once and reads each window closed state once', async () => {
    const sql = recordingSql();
    const chunk = AdSignalsChunk.of(batch(), sql)!;
    for (let i = 0; i < 3; i += 1) {
      await chunk.lockShared(day);
      await chunk.lockShared(hour);
      expect(await chunk.closedAmong([hour, day])).toEqual(new Set(['day']));
    }
    expect(sql.sent.filter((s) => s.text.includes('pg_advisory_xact_lock_shared'))).toHaveLength(2);
    expect(sql.sent.filter((s) => s.text.includes('closed_windows'))).toHaveLength(1);
  });

  it('writes the watermarks once before COMMIT, each partition at the latest time seen', async () => {
    const sql = recordingSql();
    const chunk = AdSignalsChunk.of(batch(), sql)!;
    chunk.noteWatermark('payments.events.v1', 0, at);
    chunk.noteWatermark('payments.events.v1', 0, at + 5_000);
    chunk.noteWatermark('payments.events.v1', 0, at - 5_000);
    chunk.noteWatermark('wallet.events.v1', 3, at);
    expect(sql.sent).toHaveLength(0);
    await chunk.beforeCommit();
    expect(sql.sent).toHaveLength(1);
    expect(sql.sent[0].text).toContain('input_watermarks');
    expect(sql.sent[0].parameters).toEqual([
      ['payments.events.v1', 'wallet.events.v1'],
      [0, 3],
      [new Date(at + 5_000).toISOString(), new Date(at).toISOString()],
    ]);
  });

  it('stores a chunk of initiations and captures with one statement each, one read of their contexts, each window locked once', async () => {
    const sql = recordingSql({ dayClosed: false, contexts: ['k1', 'k2', 'k3'] });
    const chunk = AdSignalsChunk.of(batch(), sql)!;
    for (const key of ['k1', 'k2', 'k3']) chunk.addContext({ paymentKey: key, app: 'instagram', country: 'US', merchantCategory: '5732', methodId: null });
    chunk.addCapture(capture('k1', at));
    chunk.addCapture(capture('k2', at + 60_000));
    chunk.addCapture(capture('k3', at + 3_600_000));
    expect(sql.sent).toHaveLength(0);
    await chunk.beforeCommit();
    const shapes = sql.sent.map((s) => s.text.split(/\s+/).slice(0, 3).join(' '));
    expect(shapes).toEqual([
      'INSERT INTO payment_contexts',
      'SELECT payment_key, app,',
      // the day, then the two hours in time order
      ...Array<string>(3).fill('SELECT pg_advisory_xact_lock_shared(hashtext(current_schema() ||'),
      'SELECT granularity FROM',
      'INSERT INTO purchases',
    ]);
    const locks = sql.sent.filter((s) => s.text.includes('pg_advisory_xact_lock_shared')).map((s) => s.parameters[0]);
    expect(locks).toEqual(['day', 'hour', 'hour']);
    const purchases = sql.sent.find((s) => s.text.includes('INSERT INTO purchases'))!;
    expect(purchases.parameters[0]).toEqual(['k1', 'k2', 'k3']);
    expect(purchases.parameters[14]).toEqual(['pending', 'pending', 'pending']);
    expect(sql.sent.some((s) => s.text.includes('late_event_corrections'))).toBe(false);
  });

  it('stores a capture into a closed window as late, with its correction', async () => {
    const sql = recordingSql({ dayClosed: true, contexts: ['k1'] });
    const chunk = AdSignalsChunk.of(batch(), sql)!;
    chunk.addCapture(capture('k1', at));
    await chunk.flush();
    expect(sql.sent.find((s) => s.text.includes('INSERT INTO purchases'))!.parameters[14]).toEqual(['late']);
    const correction = sql.sent.find((s) => s.text.includes('late_event_corrections'))!;
    expect(correction.parameters).toEqual([new Date(hour.start).toISOString(), 'shop', 'late_purchase', 'USD', 1, '1250']);
  });

  it('names the capture whose initiation never arrived, and stores nothing of the chunk', async () => {
    const sql = recordingSql({ dayClosed: false, contexts: ['k1'] });
    const chunk = AdSignalsChunk.of(batch(), sql)!;
    chunk.addCapture(capture('k1', at));
    chunk.addCapture(capture('orphan', at));
    const failure = await chunk.flush().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BatchedEventError);
    expect((failure as BatchedEventError).eventId).toBe('event-orphan');
    expect((failure as BatchedEventError).cause).toBeInstanceOf(PermanentEventError);
    expect((failure as BatchedEventError).message).toContain('payment payment-orphan was captured but its payments.payment.initiated never arrived');
    expect(sql.sent.some((s) => s.text.includes('INSERT INTO purchases'))).toBe(false);
  });

  it('outside an inbox batch, stores at once and fails with the PermanentEventError itself', async () => {
    const sql = recordingSql({ dayClosed: false, contexts: [] });
    const failure = await AdSignalsChunk.recording(undefined, sql, (chunk) => chunk.addCapture(capture('orphan', at))).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PermanentEventError);
    expect(failure).not.toBeInstanceOf(BatchedEventError);
  });
});
