import { DeadlineScheduler } from '@pay/platform';
import type { ApplyPspWebhook } from './apply-psp-webhook';

export interface WebhookSweeperOptions {
  /** The least time between two sweeps, so many webhooks due close together cost one sweep per interval. */
  readonly minIntervalMs: number;
  /** After a sweep failed (the database out of reach), the next try. */
  readonly retryMs: number;
  readonly onError?: (error: unknown) => void;
}

/**
 * Applies webhooks recorded but not applied when they are due, and runs no statement meanwhile:
 * it sweeps once at start, then sleeps (DeadlineScheduler) until the earliest due time the sweep
 * read, or until this process records a webhook it could not apply (ApplyPspWebhook.watchRetries),
 * whichever is sooner. Another instance's webhooks are swept by that instance (and seen by this
 * one's next sweep, or its next start); two sweeps of one webhook at once are safe, since applying is.
 */
export class WebhookSweeper {
  private readonly scheduler: DeadlineScheduler;
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly webhooks: Pick<ApplyPspWebhook, 'sweep' | 'watchRetries'>,
    private readonly options: WebhookSweeperOptions,
  ) {
    this.scheduler = new DeadlineScheduler({ run: () => this.sweep(), minIntervalMs: options.minIntervalMs });
  }

  /** Sweeps run, for tests: idle, this stays still. */
  get sweeps(): number {
    return this.scheduler.runs;
  }

  /** Starts watching and sweeps once; resolves when that first sweep is done (failed or not). */
  async start(): Promise<void> {
    if (this.unwatch) return;
    this.unwatch = this.webhooks.watchRetries((at) => this.scheduler.expectAt(at.getTime()));
    await this.scheduler.start();
  }

  /** Stops the timer and waits for a sweep in flight. */
  async stop(): Promise<void> {
    this.unwatch?.();
    this.unwatch = undefined;
    await this.scheduler.stop();
  }

  private async sweep(): Promise<void> {
    try {
      const { nextDueAt } = await this.webhooks.sweep();
      if (nextDueAt) this.scheduler.expectAt(nextDueAt.getTime());
    } catch (error) {
      this.options.onError?.(error);
      this.scheduler.expectAt(Date.now() + this.options.retryMs);
    }
  }
}
