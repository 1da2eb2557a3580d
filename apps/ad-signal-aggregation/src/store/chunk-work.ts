import type { TimeWindow } from '@pay/ad-signals-domain';
import type { BatchWork, InboxBatch } from '@pay/messaging';
import type { Sql } from '@pay/platform';
import { advanceWatermarks } from './watermark-store';
import { closedAmong, lockWindow } from './window-locks';

/** Registers the chunk's work with the inbox batch (one per transaction). */
const CHUNK = {};

const windowKey = (window: TimeWindow): string => `${window.granularity}:${window.start}`;

/**
 * What the events applied in one inbox transaction share, so a chunk costs a few statements
 * rather than a few per event: each window's shared lock is taken once (an advisory lock already
 * held needs no second call), each window's closed state is read once (while the transaction
 * holds the window's shared lock, nothing can close it), and the input watermarks are written
 * once before COMMIT, each partition at the latest event time seen.
 */
export class AdSignalsChunk implements BatchWork {
  private readonly watermarks = new Map<string, { topic: string; partition: number; at: number }>();
  private readonly locked = new Set<string>();
  private readonly closed = new Map<string, boolean>();

  private constructor(private readonly sql: Sql) {}

  /** The transaction's chunk work, or undefined outside an inbox batch (each call then goes to the database). */
  static of(batch: InboxBatch | undefined, sql: Sql): AdSignalsChunk | undefined {
    return batch?.work(CHUNK, () => new AdSignalsChunk(sql));
  }

  noteWatermark(topic: string, partition: number, at: number): void {
    const key = `${topic}\u0000${partition}`;
    const known = this.watermarks.get(key);
    if (!known || known.at < at) this.watermarks.set(key, { topic, partition, at });
  }

  /** Takes a window's shared lock unless this transaction holds it already; callers keep day before hour. */
  async lockShared(window: TimeWindow): Promise<void> {
    const key = windowKey(window);
    if (this.locked.has(key)) return;
    await lockWindow(this.sql, window, 'shared');
    this.locked.add(key);
  }

  /** Which of the windows (locked by this transaction) are closed, as `closedAmong` answers it. */
  async closedAmong(windows: readonly TimeWindow[]): Promise<Set<string>> {
    const unknown = windows.filter((window) => !this.closed.has(windowKey(window)));
    if (unknown.length > 0) {
      const closed = await closedAmong(this.sql, unknown);
      for (const window of unknown) this.closed.set(windowKey(window), closed.has(window.granularity));
    }
    return new Set(windows.filter((window) => this.closed.get(windowKey(window))).map((window) => window.granularity));
  }

  async beforeCommit(): Promise<void> {
    if (this.watermarks.size > 0) await advanceWatermarks(this.sql, [...this.watermarks.values()]);
  }
}
