import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from '@pay/observability';
import { LOGGER } from '@pay/platform';
import type { AdSignalSettings } from '../ad-signals.settings';
import { AD_SIGNAL_SETTINGS } from '../ad-signals.tokens';
import { WindowCloser } from './window-closer';

/**
 * Runs the closer when windows may have become due, one run at a time; stops before the
 * connections close. What can close depends only on the watermark, which moves only when a
 * consumer applies an event: so the closer runs once at start-up, then an interval
 * (AD_SIGNALS_CLOSE_INTERVAL_MS) after this instance's consumers applied an event — by then that
 * event's transaction has committed — at most once per interval however many events come, and
 * not at all while none comes. A failed run is tried again after the interval.
 */
@Injectable()
export class PeriodicWindowCloser implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** A run is owed: the watermark may have moved (or a run failed) since the last run began. */
  private owed = false;
  private stopped = false;
  /** Runs begun, for tests: idle, this stays still. */
  runs = 0;

  constructor(
    private readonly closer: WindowCloser,
    @Inject(AD_SIGNAL_SETTINGS) private readonly settings: AdSignalSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Closes what is due already (the watermark as the last run left it) before the service is ready. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.settings.closeIntervalMs <= 0) return;
    this.run();
    await this.running;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** A consumer applied an event: the watermark may have moved. Closes an interval from now (or after the run in flight). */
  watermarkMayHaveMoved(): void {
    if (this.settings.closeIntervalMs <= 0 || this.stopped) return;
    this.owed = true;
    if (!this.running) this.arm();
  }

  private run(): void {
    if (this.stopped || this.running) return;
    this.owed = false;
    this.runs += 1;
    this.running = this.closer
      .closeDueWindows()
      .then(() => undefined)
      .catch((error: unknown) => {
        this.owed = true;
        this.logger.error({ err: error }, 'closing ad-signal windows failed; will retry');
      })
      .finally(() => {
        this.running = undefined;
        if (this.owed) this.arm();
      });
  }

  private arm(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.run();
    }, this.settings.closeIntervalMs);
    this.timer.unref();
  }
}
