import { windowOf } from '@pay/ad-signals-domain';
import type { BatchWork, InboxBatch } from '@pay/messaging';
import type { Sql } from '@pay/platform';
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

/** Records the statements sent; answers the closed-window query with the day closed. */
function recordingSql(): Sql & { sent: { text: string; parameters: unknown[] }[] } {
  const sent: { text: string; parameters: unknown[] }[] = [];
  return {
    sent,
    query: <Row>(text: string, parameters: readonly unknown[] = []): Promise<Row[]> => {
      sent.push({ text, parameters: [...parameters] });
      return Promise.resolve((text.includes('closed_windows') ? [{ granularity: 'day' }] : []) as Row[]);
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
});
