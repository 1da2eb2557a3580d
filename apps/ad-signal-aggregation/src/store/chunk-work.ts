import type { TimeWindow } from '@pay/ad-signals-domain';
import type { BatchWork, InboxBatch } from '@pay/messaging';
import { BatchedEventError, PermanentEventError } from '@pay/messaging';
import type { Sql } from '@pay/platform';
import { preparing } from '@pay/platform';
import type { PaymentContextRow, PurchaseRow } from './purchase-store';
import { contextsOf, insertContexts, insertPurchases } from './purchase-store';
import { advanceWatermarks } from './watermark-store';
import type { Correction } from './window-locks';
import { closedAmong, lockWindow, recordCorrection } from './window-locks';

/** Registers the chunk's work with the inbox batch (one per transaction). */
const CHUNK = {};

const windowKey = (window: TimeWindow): string => `${window.granularity}:${window.start}`;

/** A capture waiting for the chunk's flush: the purchase without its initiation's context, and what a late one corrects. */
export interface PendingCapture {
  /** The envelope id: a capture whose initiation never arrived is dead-lettered alone. */
  eventId: string;
  paymentId: string;
  hour: TimeWindow;
  day: TimeWindow;
  purchase: Omit<PurchaseRow, 'app' | 'country' | 'merchantCategory' | 'methodId' | 'status'>;
}

/**
 * What the events applied in one inbox transaction share, so a chunk costs a few statements
 * rather than a few per event: initiations' contexts and captured purchases are written together
 * (one statement each, one read of the captures' contexts) when the chunk flushes — before
 * COMMIT, or before an event that reads what they write (a refund, a consent change) —; each
 * window's shared lock is taken once (an advisory lock already held needs no second call), each
 * window's closed state is read once (while the transaction holds the window's shared lock,
 * nothing can close it), and the input watermarks are written once before COMMIT, each partition
 * at the latest event time seen.
 */
export class AdSignalsChunk implements BatchWork {
  private readonly watermarks = new Map<string, { topic: string; partition: number; at: number }>();
  private readonly locked = new Set<string>();
  private readonly closed = new Map<string, boolean>();
  private contexts: PaymentContextRow[] = [];
  private captures: PendingCapture[] = [];

  /** The transaction's statements, each prepared once per connection (their texts are constants: planning them cost more than running them). */
  private readonly sql: Sql;

  constructor(sql: Sql) {
    this.sql = preparing(sql);
  }

  /** The transaction's chunk work, or undefined outside an inbox batch (each call then goes to the database). */
  static of(batch: InboxBatch | undefined, sql: Sql): AdSignalsChunk | undefined {
    return batch?.work(CHUNK, () => new AdSignalsChunk(sql));
  }

  /**
   * Runs `record` with the transaction's chunk; outside an inbox batch, with a chunk of its own
   * flushed at once (a capture without context then fails with its own PermanentEventError).
   */
  static async recording(batch: InboxBatch | undefined, sql: Sql, record: (chunk: AdSignalsChunk) => void | Promise<void>): Promise<void> {
    const shared = AdSignalsChunk.of(batch, sql);
    if (shared) return record(shared);
    const alone = new AdSignalsChunk(sql);
    await record(alone);
    try {
      await alone.flush();
    } catch (error) {
      throw error instanceof BatchedEventError ? error.cause : error;
    }
  }

  addContext(row: PaymentContextRow): void {
    this.contexts.push(row);
  }

  addCapture(capture: PendingCapture): void {
    this.captures.push(capture);
  }

  /**
   * Writes the contexts and purchases noted so far. A capture whose initiation never arrived
   * fails the chunk as a BatchedEventError naming it: the inbox applies the rest without it and
   * dead-letters it alone.
   */
  async flush(): Promise<void> {
    if (this.contexts.length > 0) {
      const contexts = this.contexts;
      this.contexts = [];
      await insertContexts(this.sql, contexts);
    }
    if (this.captures.length === 0) return;
    const captures = this.captures;
    this.captures = [];
    const known = await contextsOf(this.sql, [...new Set(captures.map((capture) => capture.purchase.paymentKey))]);
    const orphan = captures.find((capture) => !known.has(capture.purchase.paymentKey));
    if (orphan) {
      throw new BatchedEventError(
        orphan.eventId,
        new PermanentEventError(
          `payment ${orphan.paymentId} was captured but its payments.payment.initiated never arrived, so its app and country are unknown`,
        ),
      );
    }
    // Days before hours, each in time order: the closer's exclusive locks are taken day before hour too.
    const days = new Map(captures.map((capture) => [windowKey(capture.day), capture.day]));
    const hours = new Map(captures.map((capture) => [windowKey(capture.hour), capture.hour]));
    const windows = [...[...days.values()].sort((a, b) => a.start - b.start), ...[...hours.values()].sort((a, b) => a.start - b.start)];
    for (const window of windows) await this.lockShared(window);
    await this.closedAmong(windows);
    const late = (capture: PendingCapture): boolean => this.closed.get(windowKey(capture.hour)) === true || this.closed.get(windowKey(capture.day)) === true;
    const rows: PurchaseRow[] = captures.map((capture) => {
      const context = known.get(capture.purchase.paymentKey)!;
      return {
        ...capture.purchase,
        app: context.app,
        country: context.country,
        merchantCategory: context.merchantCategory,
        methodId: context.methodId,
        status: late(capture) ? 'late' : 'pending',
      };
    });
    const stored = await insertPurchases(this.sql, rows);
    for (const capture of captures) {
      if (!late(capture) || !stored.delete(capture.purchase.paymentKey)) continue;
      const correction: Correction = {
        window: capture.hour,
        merchantId: capture.purchase.merchantId,
        kind: 'late_purchase',
        currency: capture.purchase.currency,
        events: 1,
        amount: BigInt(capture.purchase.amount),
      };
      await recordCorrection(this.sql, correction);
    }
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
    await this.flush();
    if (this.watermarks.size > 0) await advanceWatermarks(this.sql, [...this.watermarks.values()]);
  }
}
