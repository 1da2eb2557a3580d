import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from '@pay/observability';
import { LOGGER } from '@pay/platform';
import type { AdSignalSettings } from '../ad-signals.settings';
import { AD_SIGNAL_SETTINGS } from '../ad-signals.tokens';
import { WindowCloser } from './window-closer';

/** Runs the closer every AD_SIGNALS_CLOSE_INTERVAL_MS, one run at a time; stops before the connections close. */
@Injectable()
export class PeriodicWindowCloser implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly closer: WindowCloser,
    @Inject(AD_SIGNAL_SETTINGS) private readonly settings: AdSignalSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (this.settings.closeIntervalMs > 0) this.schedule();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.closer
        .closeDueWindows()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.error({ err: error }, 'closing ad-signal windows failed; will retry'))
        .finally(() => this.schedule());
    }, this.settings.closeIntervalMs);
  }
}
