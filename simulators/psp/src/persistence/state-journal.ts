import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { IdempotencyStore, SavedAnswer } from '../idempotency/idempotency-store';
import { PAYPAL_REQUEST_ID_RETENTION_MS } from '../paypal/paypal-simulator';
import type { KeptObjectKind, SimulatorState } from '../simulator-state';
import { KEPT_OBJECTS } from '../simulator-state';
import type { SimulatorClock } from './simulator-clock';

/** One line of the journal: an object as it now is, a remembered idempotency key, the clock, or a reset. */
type JournalRecord =
  | { readonly object: KeptObjectKind; readonly id: string; readonly value: unknown }
  | { readonly idempotencyKey: string; readonly saved: SavedAnswer }
  | { readonly clockAheadMs: number }
  | { readonly reset: true };

/** The journal cannot be read back: the simulator refuses to start rather than forget silently. */
export class StateJournalError extends Error {
  override name = 'StateJournalError';
}

/**
 * What a real provider remembers across its own restarts, kept in a file: every Stripe object,
 * the bank debits in flight, the simulated clock and the idempotency keys (24 h); PayPal's
 * orders, captures, refunds, vault tokens and PayPal-Request-Id answers (24 h). It is an
 * append-only log of JSON lines, the latest line of an object winning; each request's changes
 * are appended (one write) before its answer leaves, so an answer the client saw survives a
 * SIGKILL. At start the log is replayed and rewritten compactly (temporary file and rename).
 * Not kept: recorded requests, webhook events and deliveries (diagnostics), fault rules.
 */
export class StateJournal {
  private pending: string[] = [];

  constructor(
    private readonly path: string,
    private readonly state: SimulatorState,
    private readonly idempotency: IdempotencyStore,
    private readonly clock: SimulatorClock,
  ) {}

  /** Replays the file into the (empty) state, then compacts it. A missing file is a first start. */
  load(): { objects: number; idempotencyKeys: number } {
    let text = '';
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const lines = text.split('\n').filter((line) => line !== '');
    lines.forEach((line, index) => {
      let record: JournalRecord;
      try {
        record = JSON.parse(line) as JournalRecord;
      } catch {
        // A kill during the last append can leave half a line; that request was never answered.
        if (index === lines.length - 1 && !text.endsWith('\n')) return;
        throw new StateJournalError(`${this.path} line ${index + 1} is not JSON: the file was edited or damaged; move it away to start empty`);
      }
      this.apply(record, index + 1);
    });
    // PayPal-Request-Ids are answered for 24 h, as Stripe's keys are (the idempotency store drops those).
    for (const [requestId, saved] of this.state.paypalRequestIds)
      if (Date.now() - saved.at > PAYPAL_REQUEST_ID_RETENTION_MS) this.state.paypalRequestIds.delete(requestId);
    this.compact();
    const objects = KEPT_OBJECTS.reduce((sum, kind) => sum + this.state.kept(kind).size, 0);
    return { objects, idempotencyKeys: this.idempotency.entries().length };
  }

  private apply(record: JournalRecord, line: number): void {
    if ('reset' in record) {
      for (const kind of KEPT_OBJECTS) this.state.kept(kind).clear();
      this.idempotency.clear();
      this.clock.reset();
    } else if ('clockAheadMs' in record) {
      this.clock.restore(record.clockAheadMs);
    } else if ('idempotencyKey' in record) {
      this.idempotency.restore(record.idempotencyKey, record.saved);
    } else if ('object' in record && (KEPT_OBJECTS as readonly string[]).includes(record.object)) {
      this.state.kept(record.object).restore(record.id, record.value);
    } else {
      throw new StateJournalError(`${this.path} line ${line} is not a record this simulator writes`);
    }
  }

  /** An idempotency key was saved: written with the request's other changes. */
  keyRemembered(compoundKey: string, saved: SavedAnswer): void {
    this.pending.push(JSON.stringify({ idempotencyKey: compoundKey, saved } satisfies JournalRecord));
  }

  clockMoved(): void {
    this.pending.push(JSON.stringify({ clockAheadMs: this.clock.aheadMs } satisfies JournalRecord));
  }

  reset(): void {
    this.pending = [];
    this.writeAll([JSON.stringify({ reset: true } satisfies JournalRecord)]);
  }

  /** Appends what changed since the last flush in one write; called before an answer leaves. */
  flush(): void {
    for (const kind of KEPT_OBJECTS) {
      for (const [id, value] of this.state.kept(kind).takeTouched()) this.pending.push(JSON.stringify({ object: kind, id, value } satisfies JournalRecord));
    }
    if (this.pending.length === 0) return;
    const text = `${this.pending.join('\n')}\n`;
    this.pending = [];
    appendFileSync(this.path, text);
  }

  private compact(): void {
    const lines: string[] = [JSON.stringify({ clockAheadMs: this.clock.aheadMs } satisfies JournalRecord)];
    for (const kind of KEPT_OBJECTS) {
      for (const [id, value] of this.state.kept(kind)) lines.push(JSON.stringify({ object: kind, id, value } satisfies JournalRecord));
      this.state.kept(kind).takeTouched();
    }
    for (const [idempotencyKey, saved] of this.idempotency.entries()) lines.push(JSON.stringify({ idempotencyKey, saved } satisfies JournalRecord));
    this.writeAll(lines);
  }

  private writeAll(lines: string[]): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, lines.length ? `${lines.join('\n')}\n` : '');
    renameSync(temporary, this.path);
  }
}
