import type { OnModuleDestroy } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from '@pay/observability';
import { LOGGER, SERVICE_CONFIG } from '@pay/platform';
import { DataSource } from 'typeorm';
import type { WalletConfig } from '../config';

/** Rows one statement deletes at most: a short lock and a short transaction, whatever the backlog. */
export const FORGET_BATCH_SIZE = 1_000;
/** Statements one sweep runs at most (a backlog larger than this is left to the next sweep). */
export const FORGET_ROUNDS_PER_SWEEP = 20;
/** A sweep runs at most this often, and only after a payment moved past its charge. */
export const FORGET_INTERVAL_MS = 10 * 60_000;

/**
 * The rows no instrument release can need — past its charge (the release is refused whatever the
 * row says), or without a method (a release must name one) — untouched since `olderThan`, the
 * oldest first, at most `limit`; rows another transaction holds (the consumer changing them) are
 * skipped, and the condition is checked again on the locked row. A row awaiting its charge with
 * a method is never deleted: a live payment may still ask for its instrument.
 */
export const FORGET_FINISHED_PAYMENTS = `
  DELETE FROM payments_in_progress
   WHERE payment_id IN (SELECT payment_id FROM payments_in_progress
                         WHERE (stage = 'past_charge' OR payment_method_id IS NULL) AND updated_at < $1
                         ORDER BY updated_at LIMIT $2
                           FOR UPDATE SKIP LOCKED)
     AND (stage = 'past_charge' OR payment_method_id IS NULL) AND updated_at < $1`;

/**
 * Housekeeping of `payments_in_progress`: one row per payment the wallet saw, which nothing else
 * deletes. Deleting a finished payment's row is safe: its release is refused either way, and its
 * initiation cannot bring it back as awaiting, since the consumer's inbox never applies an event
 * twice and a payment's events are read in order from one partition (a replay from offset zero
 * under a new group reads its later events after it, too).
 *
 * Never polls: a payment moving past its charge arms one sweep `FORGET_INTERVAL_MS` later; an
 * idle wallet sends nothing. Each statement deletes at most `FORGET_BATCH_SIZE` rows through the
 * partial index of migration 1767500000001.
 */
@Injectable()
export class ForgetFinishedPayments implements OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: WalletConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** A payment moved past its charge: a sweep follows within the interval (one armed at a time). */
  paymentFinished(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sweep()
        .catch((error: unknown) => {
          this.logger.warn({ reason: (error as Error).message }, 'could not delete finished payments in progress; the next finished payment tries again');
          return 0;
        })
        .finally(() => {
          this.timer = undefined;
          this.running = undefined;
        });
    }, FORGET_INTERVAL_MS);
    this.timer.unref();
  }

  /** Deletes what is older than the retention (as of `now`), a batch per statement; answers how many. */
  async sweep(now: Date = new Date()): Promise<number> {
    const olderThan = new Date(now.getTime() - this.config.PAYMENTS_IN_PROGRESS_RETENTION_HOURS * 3_600_000);
    let deleted = 0;
    for (let round = 0; round < FORGET_ROUNDS_PER_SWEEP && !this.stopped; round += 1) {
      const [, count] = await this.dataSource.query<[unknown, number]>(FORGET_FINISHED_PAYMENTS, [olderThan.toISOString(), FORGET_BATCH_SIZE]);
      deleted += count;
      if (count < FORGET_BATCH_SIZE) break;
    }
    if (deleted > 0) this.logger.info({ deleted, olderThan: olderThan.toISOString() }, 'finished payments in progress deleted');
    return deleted;
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
