import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { EventHandler, EventPublisher } from '@pay/messaging';
import { InboxConsumer } from '@pay/messaging';
import type { Logger } from '@pay/observability';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';

export interface ConsumerRuntime {
  readonly kafka: Kafka;
  readonly dataSource: DataSource;
  readonly publisher: EventPublisher;
  readonly logger: Logger;
}

export interface ConsumerSubscription {
  readonly groupId: string;
  readonly topic: string;
  readonly handlers: Record<string, EventHandler>;
}

/**
 * Each handler holds a pooled connection (the inbox transaction) while it waits for the ledger,
 * which needs connections of its own: two partitions at a time per consumer leaves the pool
 * (10) room for the ledger's group commit, the outbox relay and HTTP.
 */
const PARTITIONS_AT_A_TIME = 2;
const RESTART_DELAY_MS = 5_000;
/** Shutdown does not wait longer than this for a start still in progress (a join stuck in a rebalance). */
const STOP_WAIT_MS = 10_000;

/**
 * Runs an InboxConsumer with the application. It starts in the background: joining a group can
 * wait for a rebalance, and HTTP (health, the ledger API) need not wait for it; committed offsets
 * make sure nothing is missed meanwhile. A start that fails is retried. It stops before shutdown
 * (after the message in hand, its offset committed), so before the ledger drains and the
 * connections close: LedgerModule sits deeper in the module tree and the platform closes last.
 */
export abstract class ConsumerLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer: InboxConsumer | undefined;
  private starting: Promise<void> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;

  protected abstract subscription(): ConsumerSubscription;

  constructor(private readonly runtime: ConsumerRuntime) {}

  onApplicationBootstrap(): void {
    this.starting = this.startUntilRunning().catch((error: unknown) =>
      this.runtime.logger.error({ reason: (error as Error).message }, 'consumer not started: no events of its topic are applied by this instance'),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.consumer?.stop().catch((error: unknown) => this.runtime.logger.warn({ reason: (error as Error).message }, 'consumer did not stop cleanly'));
    await Promise.race([this.starting, sleep(STOP_WAIT_MS)]);
  }

  private async startUntilRunning(): Promise<void> {
    const { groupId, topic, handlers } = this.subscription();
    for (let attempt = 1; !this.stopped; attempt += 1) {
      const consumer = new InboxConsumer({ ...this.runtime, groupId, topics: [topic], handlers, partitionsConsumedConcurrently: PARTITIONS_AT_A_TIME });
      this.consumer = consumer;
      try {
        await consumer.start();
        if (!this.stopped) this.runtime.logger.info({ groupId, topic }, 'consumer started');
        return;
      } catch (error) {
        if (this.stopped) return;
        this.runtime.logger.error({ groupId, topic, attempt, reason: (error as Error).message }, 'consumer could not start, retrying');
        await consumer.stop().catch(() => undefined);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, RESTART_DELAY_MS);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
