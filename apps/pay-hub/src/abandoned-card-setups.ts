import type { SchedulerClock } from '@pay/platform';
import { DeadlineScheduler, systemSchedulerClock } from '@pay/platform';
import type { DataSource } from 'typeorm';
import type { CardSetups, SetupEnd } from './card-setups';

/** Setups one sweep cancels at most; a larger backlog is swept again at once. */
export const SWEEP_BATCH = 100;
/** The least time between two sweeps woken by due setups (setups opened close together cost one sweep). */
const MIN_INTERVAL_MS = 1_000;
/** After the PSP or the database failed, the next try. */
const RETRY_MS = 60_000;

export interface AbandonedCardSetupsOptions {
  /** A setup neither saved nor cancelled this long after it was opened is abandoned (HUB_CARD_SETUP_ABANDON_SECONDS). */
  readonly abandonAfterMs: number;
  readonly log: (line: string) => void;
  /** The timers' clock (tests pass a fake one); `now` of it also dates the setups. */
  readonly clock?: SchedulerClock;
}

export interface SweepResult {
  /** Cancelled at the PSP now (or found cancelled already). */
  canceled: number;
  /** Completed at the PSP meanwhile: left as they are (a card saved from one stays saved). */
  completed: number;
  /** The PSP could not be asked: kept, tried again later. */
  failed: number;
}

/**
 * Card setups the hub opened at the PSP and nobody finished (docs/pay-hub.md, "Abandoned card
 * setups"): each SetupIntent the hub opens is recorded (its id, person, time); saving its card or the
 * person's *Cancel* settles it and deletes the row; a row older than `abandonAfterMs` is cancelled at
 * the PSP (`cancellation_reason=abandoned`) by the sweep, then deleted. The PSP refuses to cancel a
 * SetupIntent that succeeded, so a card completed meanwhile is never undone.
 *
 * Never polls (DeadlineScheduler, as orchestration's webhook sweeper): one sweep at start (what other
 * or earlier processes left), then it sleeps until the oldest open setup it knows of comes due, or
 * until this process opens one that comes due sooner. Idle, it holds one timer or none and runs no
 * statement. Two replicas sweeping one setup is safe: the second cancel answers "cancelled already".
 */
export class AbandonedCardSetups {
  private readonly scheduler: DeadlineScheduler;
  private readonly clock: SchedulerClock;

  constructor(
    private readonly db: DataSource,
    private readonly cards: Pick<CardSetups, 'cancel'>,
    private readonly options: AbandonedCardSetupsOptions,
  ) {
    this.clock = options.clock ?? systemSchedulerClock;
    this.scheduler = new DeadlineScheduler({ run: () => this.run(), minIntervalMs: MIN_INTERVAL_MS, clock: this.clock });
  }

  /** Sweeps run, for tests: idle, this stays still. */
  get sweeps(): number {
    return this.scheduler.runs;
  }

  /** Sweeps once; resolves when that first sweep is done (failed or not). */
  start(): Promise<void> {
    return this.scheduler.start();
  }

  /** Stops the timer and waits for a sweep in flight. */
  stop(): Promise<void> {
    return this.scheduler.stop();
  }

  /** The hub opened this SetupIntent for the person: it is cancelled when nobody settles it in time. */
  async opened(setupIntentId: string, personId: string): Promise<void> {
    const at = this.clock.now();
    await this.db.query('INSERT INTO card_setups (setup_intent_id, subject, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
      setupIntentId,
      personId,
      new Date(at),
    ]);
    this.scheduler.expectAt(at + this.options.abandonAfterMs);
  }

  /** Saved to the wallet, or cancelled at the person's request: nothing left to sweep. */
  async settled(setupIntentId: string): Promise<void> {
    await this.db.query('DELETE FROM card_setups WHERE setup_intent_id = $1', [setupIntentId]);
  }

  /**
   * Cancels at the PSP every recorded setup opened before the abandon age (as of `now`), oldest
   * first, at most SWEEP_BATCH; a settled one's row is deleted, one the PSP could not be asked about
   * is kept for the next try.
   */
  async sweep(now = this.clock.now()): Promise<SweepResult & { nextDueAt?: number; more: boolean }> {
    const cutoff = new Date(now - this.options.abandonAfterMs);
    const due: Array<{ setup_intent_id: string }> = await this.db.query(
      'SELECT setup_intent_id FROM card_setups WHERE created_at <= $1 ORDER BY created_at LIMIT $2',
      [cutoff, SWEEP_BATCH],
    );
    const result: SweepResult = { canceled: 0, completed: 0, failed: 0 };
    for (const { setup_intent_id: id } of due) {
      const end: SetupEnd | undefined = await this.cards.cancel(id, 'abandoned').catch((error: unknown) => {
        this.options.log(`pay-hub: could not cancel abandoned card setup ${id} at the PSP (${(error as Error).message}); trying again later`);
        return undefined;
      });
      if (end === undefined) {
        result.failed += 1;
        continue;
      }
      if (end === 'succeeded') result.completed += 1;
      else result.canceled += 1;
      await this.settled(id);
    }
    if (result.canceled + result.completed > 0)
      this.options.log(
        `pay-hub: abandoned card setups swept: ${result.canceled} cancelled at the PSP, ${result.completed} completed meanwhile and left as they are`,
      );
    const [{ oldest }]: Array<{ oldest: Date | null }> = await this.db.query('SELECT min(created_at) AS oldest FROM card_setups WHERE created_at > $1', [
      cutoff,
    ]);
    // A full batch of setups the PSP answered for: more may be due at once (failures wait for their retry).
    return {
      ...result,
      more: due.length === SWEEP_BATCH && result.failed === 0,
      ...(oldest ? { nextDueAt: oldest.getTime() + this.options.abandonAfterMs } : {}),
    };
  }

  private async run(): Promise<void> {
    try {
      const { failed, more, nextDueAt } = await this.sweep();
      if (more) this.scheduler.runSoon();
      if (failed > 0) this.scheduler.expectAt(this.clock.now() + RETRY_MS);
      if (nextDueAt !== undefined) this.scheduler.expectAt(nextDueAt);
    } catch (error) {
      this.options.log(`pay-hub: the sweep of abandoned card setups failed (${(error as Error).message}); trying again later`);
      this.scheduler.expectAt(this.clock.now() + RETRY_MS);
    }
  }
}
