import type { ApplyPspWebhook } from './apply-psp-webhook';

export interface WebhookSweeperOptions {
  /** The least time between two sweeps, so many webhooks due close together cost one sweep per interval. */
  readonly minIntervalMs: number;
  /** After a sweep failed (the database out of reach), the next try. */
  readonly retryMs: number;
  readonly onError?: (error: unknown) => void;
}

/** setTimeout's ceiling (about 24.8 days): a later due time is slept towards in several steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Applies webhooks recorded but not applied when they are due, and runs no statement meanwhile:
 * it sweeps once at start, then sleeps until the earliest due time the sweep read, or until this
 * process records a webhook it could not apply (ApplyPspWebhook.watchRetries), whichever is
 * sooner. Another instance's webhooks are swept by that instance (and seen by this one's next
 * sweep, or its next start); two sweeps of one webhook at once are safe, since applying is.
 */
export class WebhookSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private started = false;
  /** The earliest known due time (epoch ms); undefined: none known. */
  private nextAt: number | undefined;
  private lastSweepAt = 0;
  private unwatch: (() => void) | undefined;
  /** Sweeps run, for tests: idle, this stays still. */
  sweeps = 0;

  constructor(
    private readonly webhooks: Pick<ApplyPspWebhook, 'sweep' | 'watchRetries'>,
    private readonly options: WebhookSweeperOptions,
  ) {}

  /** Starts watching and sweeps once; resolves when that first sweep is done (failed or not). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.unwatch = this.webhooks.watchRetries((at) => this.expectAt(at.getTime()));
    this.tick();
    await this.running;
  }

  /** Stops the timer and waits for a sweep in flight. */
  async stop(): Promise<void> {
    this.started = false;
    this.unwatch?.();
    this.unwatch = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private tick(): void {
    if (!this.started || this.running) return;
    this.lastSweepAt = Date.now();
    this.nextAt = undefined;
    this.sweeps += 1;
    this.running = (async () => {
      try {
        const { nextDueAt } = await this.webhooks.sweep();
        if (nextDueAt) this.expectAt(nextDueAt.getTime());
      } catch (error) {
        this.options.onError?.(error);
        this.expectAt(Date.now() + this.options.retryMs);
      }
    })().finally(() => {
      this.running = undefined;
      this.arm();
    });
  }

  /** A webhook is due at `at`: sweep then (or right after the running sweep, if sooner than planned). */
  private expectAt(at: number): void {
    if (this.nextAt !== undefined && this.nextAt <= at) return;
    this.nextAt = at;
    if (!this.running) this.arm();
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.started || this.nextAt === undefined) return; // nothing due that we know of: sleep until told
    const target = this.nextAt;
    const at = Math.max(target, this.lastSweepAt + this.options.minIntervalMs);
    this.timer = setTimeout(() => (Date.now() >= at ? this.tick() : this.arm()), Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS));
    this.timer.unref();
  }
}
