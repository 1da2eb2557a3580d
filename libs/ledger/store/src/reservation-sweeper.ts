import { DeadlineScheduler } from '@pay/platform';
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

/**
 * Releases expired holds when they expire: after each sweep it reads the next expiry and sleeps
 * until then (DeadlineScheduler), running no statement meanwhile; a hold this instance records
 * wakes it earlier if it expires sooner. Running several sweepers (one per service instance) is
 * safe: each release is decided under the chain lock, and the journal's unique index allows one
 * resolution per reservation.
 */
export class ReservationSweeper {
  private readonly scheduler: DeadlineScheduler;
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly ledger: PostgresLedger,
    private readonly options: SweeperOptions,
  ) {
    this.scheduler = new DeadlineScheduler({ run: () => this.sweepAndLookAhead(), minIntervalMs: options.intervalMs, maxSleepMs: options.maxSleepMs });
  }

  /** Sweeps run, for tests: idle, this stays still. */
  get sweeps(): number {
    return this.scheduler.runs;
  }

  start(): void {
    if (this.unwatch) return;
    this.unwatch = this.ledger.watchReservationExpiries((expiresAt) => this.scheduler.expectAt(expiresAt.getTime()));
    void this.scheduler.start();
  }

  async stop(): Promise<void> {
    this.unwatch?.();
    this.unwatch = undefined;
    await this.scheduler.stop();
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

  private async sweepAndLookAhead(): Promise<void> {
    await this.sweep();
    try {
      const next = await this.ledger.nextReservationExpiry();
      if (next) this.scheduler.expectAt(next.getTime());
    } catch (error) {
      this.options.onError?.(error);
      this.scheduler.expectAt(Date.now()); // spaced by intervalMs
    }
  }
}
