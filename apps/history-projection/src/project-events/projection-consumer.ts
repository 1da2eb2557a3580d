import type { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import { eventDefinitions, Topics } from '@pay/contracts';
import type { EventHandler, EventPublisher } from '@pay/messaging';
import { InboxConsumer } from '@pay/messaging';
import type { Logger } from '@pay/observability';
import { EVENT_PUBLISHER, KAFKA, LOGGER, SERVICE_CONFIG } from '@pay/platform';
import type { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import type { HistoryProjectionConfig } from '../config';
import { storeAndProject } from './store-and-project';

/** The topics the projection reads, as configured. */
export function consumedTopics(config: HistoryProjectionConfig): string[] {
  return [config.HISTORY_PAYMENTS_TOPIC, config.HISTORY_LEDGER_TOPIC, config.HISTORY_WALLET_TOPIC];
}

/**
 * Every event type of the three topics gets the same handler: even the types this version of
 * the projection ignores are kept in `raw_events`, so that a later version can use them after a
 * rebuild.
 */
export function projectionHandlers(): Record<string, EventHandler> {
  const topics = new Set<string>([Topics.paymentEvents, Topics.ledgerTransactions, Topics.walletEvents]);
  const handler: EventHandler = async (event, tx) => {
    await storeAndProject(tx, { envelope: event.envelope, topic: event.topic, partition: event.partition, offset: event.offset });
  };
  return Object.fromEntries(eventDefinitions().filter((d) => topics.has(d.topic)).map((d) => [d.type, handler]));
}

export function createProjectionConsumer(options: { config: HistoryProjectionConfig; kafka: Kafka; dataSource: DataSource; publisher: EventPublisher; logger: Logger }): InboxConsumer {
  return new InboxConsumer({
    groupId: options.config.HISTORY_CONSUMER_GROUP,
    topics: consumedTopics(options.config),
    handlers: projectionHandlers(),
    kafka: options.kafka,
    dataSource: options.dataSource,
    publisher: options.publisher,
    logger: options.logger,
  });
}

/**
 * Runs the projection's Kafka consumer with the service, and stops it before connections close.
 * It starts in the background (joining a group can wait for a rebalance; history keeps serving
 * meanwhile, and the lag shows it) and retries a failed start with backoff.
 */
@Injectable()
export class ProjectionConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer?: InboxConsumer;
  private starting?: Promise<void>;
  private stopped = false;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: HistoryProjectionConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(EVENT_PUBLISHER) private readonly publisher: EventPublisher,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly dataSource: DataSource,
  ) {}

  get stats(): InboxConsumer['stats'] | undefined {
    return this.consumer?.stats;
  }

  onApplicationBootstrap(): void {
    if (this.config.HISTORY_CONSUMER_ENABLED !== 'true') {
      this.logger.info('HISTORY_CONSUMER_ENABLED=false: serving queries only, not consuming');
      return;
    }
    this.starting = this.startWithRetries();
  }

  private async startWithRetries(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt += 1) {
      const consumer = createProjectionConsumer({ config: this.config, kafka: this.kafka, dataSource: this.dataSource, publisher: this.publisher, logger: this.logger });
      try {
        await consumer.start();
        this.consumer = consumer;
        this.logger.info({ topics: consumedTopics(this.config), group: this.config.HISTORY_CONSUMER_GROUP }, 'history projection consuming');
        return;
      } catch (error) {
        await consumer.stop().catch(() => undefined);
        const delayMs = Math.min(30_000, 500 * 2 ** attempt);
        this.logger.warn({ attempt, delayMs, reason: (error as Error).message }, 'history projection consumer did not start; retrying');
        await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
      }
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    await this.starting;
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.stop();
  }
}
