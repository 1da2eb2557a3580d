import type { PostgresLedger } from './postgres-ledger';

export interface SweeperOptions {
  readonly intervalMs: number;
  readonly batchLimit?: number;
  readonly onError?: (error: unknown) => void;
}

/**
 * Releases expired holds on a timer. Running several sweepers (one per service instance) is
 * safe: each release is decided under the chain lock, and the journal's unique index allows
 * one resolution per reservation.
 */
export class ReservationSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly ledger: PostgresLedger,
    private readonly options: SweeperOptions,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return; // one sweep at a time; a slow sweep is not stacked up
      this.running = this.sweep().finally(() => (this.running = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass over everything due; errors go to onError (the next tick tries again). */
  async sweep(): Promise<void> {
    try {
      const limit = this.options.batchLimit ?? 500;
      // Keep going while full pages come back, so a backlog clears in one tick.
      while ((await this.ledger.expireDueReservations(limit)) >= limit);
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}
