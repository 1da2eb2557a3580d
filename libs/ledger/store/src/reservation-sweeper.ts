import type { PostgresLedger } from './postgres-ledger';

export interface SweeperOptions {
  /** The least time between two sweeps, so many expiries close together cost one sweep per interval. */
  readonly intervalMs: number;
  /**
   * The longest sleep without a known expiry: holds recorded by another instance are not announced
   * to this one, so it looks again at least this often (it was `intervalMs` when the sweeper polled).
   */
  readonly maxSleepMs?: number;
  readonly batchLimit?: number;
  readonly onError?: (error: unknown) => void;
}

/** setTimeout's ceiling (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Releases expired holds when they expire: after each sweep it reads the next expiry and sleeps
 * until then, running no statement meanwhile; a hold this instance records wakes it earlier if it
 * expires sooner. Running several sweepers (one per service instance) is safe: each release is
 * decided under the chain lock, and the journal's unique index allows one resolution per
 * reservation.
 */
export class ReservationSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private started = false;
  private nextAt: number | undefined;
  private lastSweepAt = 0;
  private unwatch: (() => void) | undefined;
  /** Sweeps run, for tests: idle, this stays still. */
  sweeps = 0;

  constructor(
    private readonly ledger: PostgresLedger,
    private readonly options: SweeperOptions,
  ) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    this.unwatch = this.ledger.watchReservationExpiries((expiresAt) => this.expectAt(expiresAt.getTime()));
    this.tick();
  }

  async stop(): Promise<void> {
    this.started = false;
    this.unwatch?.();
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass over everything due; errors go to onError (and the sweep is tried again after `intervalMs`). */
  async sweep(): Promise<void> {
    try {
      const limit = this.options.batchLimit ?? 500;
      // Keep going while full pages come back, so a backlog clears in one sweep.
      while ((await this.ledger.expireDueReservations(limit)) >= limit);
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  private tick(): void {
    if (!this.started || this.running) return;
    this.lastSweepAt = Date.now();
    this.nextAt = undefined;
    this.sweeps += 1;
    this.running = (async () => {
      await this.sweep();
      try {
        const next = await this.ledger.nextReservationExpiry();
        if (next) this.expectAt(next.getTime());
      } catch (error) {
        this.options.onError?.(error);
        this.expectAt(Date.now()); // spaced by intervalMs below
      }
    })().finally(() => {
      this.running = undefined;
      this.arm();
    });
  }

  /** A hold expires at `at`: sweep then (or at once after the running sweep, if sooner than planned). */
  private expectAt(at: number): void {
    if (this.nextAt !== undefined && this.nextAt <= at) return;
    this.nextAt = at;
    if (!this.running) this.arm();
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.started) return;
    const ceiling = this.options.maxSleepMs === undefined ? undefined : this.lastSweepAt + this.options.maxSleepMs;
    const target = this.nextAt === undefined ? ceiling : ceiling === undefined ? this.nextAt : Math.min(this.nextAt, ceiling);
    if (target === undefined) return; // nothing pending anywhere we know of: sleep until a hold is recorded
    const at = Math.max(target, this.lastSweepAt + this.options.intervalMs);
    this.timer = setTimeout(() => (Date.now() >= target ? this.tick() : this.arm()), Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS));
    this.timer.unref();
  }
}
