import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from '@pay/observability';
import { DeadlineScheduler, LOGGER, SERVICE_CONFIG } from '@pay/platform';
import type { SupportConfig } from '../config';
import { ConversationStore } from '../conversations/conversation-store';

const HOUR_MS = 3_600_000;

/**
 * Deletes conversations (and their messages) SUPPORT_RETENTION_DAYS after they were closed. Sleeps
 * until the oldest closed conversation comes due (DeadlineScheduler, no polling); wakes at least
 * every six hours for those other instances closed.
 */
@Injectable()
export class RetentionSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly scheduler = new DeadlineScheduler({ run: async () => void (await this.sweep()), minIntervalMs: 60_000, maxSleepMs: 6 * HOUR_MS });

  constructor(
    private readonly store: ConversationStore,
    @Inject(SERVICE_CONFIG) private readonly config: SupportConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.scheduler.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.scheduler.stop();
  }

  /** One pass: deletes what is due, arms the timer for what comes due next. */
  async sweep(): Promise<number> {
    try {
      const { deleted, nextDueAt } = await this.store.deleteExpired(this.config.SUPPORT_RETENTION_DAYS);
      if (deleted > 0) this.logger.info({ deleted, retentionDays: this.config.SUPPORT_RETENTION_DAYS }, 'support: conversations past retention deleted');
      if (nextDueAt !== undefined) this.scheduler.expectAt(nextDueAt);
      return deleted;
    } catch (error) {
      this.logger.warn({ err: error }, 'support: the retention sweep failed; trying again in a minute');
      this.scheduler.expectAt(Date.now() + 60_000);
      return 0;
    }
  }
}
