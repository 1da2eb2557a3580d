import type { EventEnvelope } from '@pay/contracts';
import { deadLetterTopicOf, InvalidEventError, parseEvent } from '@pay/contracts';
import type { Logger } from '@pay/observability';
import { contextFromHeaders, platformMetrics, scrubText, tracer } from '@pay/observability';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';
import type { EventPublisher } from '../kafka/event-publisher';
import type { Unavailability } from './dependency-unavailable';
import { DependencyUnavailableError, unavailabilityOf } from './dependency-unavailable';

export interface ConsumedEvent<T extends object = object> {
  envelope: EventEnvelope<T>;
  topic: string;
  partition: number;
  offset: string;
}

/** Applies one event inside the caller-owned transaction `tx`; throw to roll back. */
export type EventHandler = (event: ConsumedEvent, tx: EntityManager) => Promise<void>;

/** A failure that retrying cannot fix (a business rule, not an outage): dead-letter at once. */
export class PermanentEventError extends Error {
  override name = 'PermanentEventError';
}

export interface InboxConsumerOptions {
  /** Consumer group, and the inbox's consumer name. */
  groupId: string;
  topics: string[];
  /** Handlers by event type; other types on these topics are acknowledged and ignored. */
  handlers: Record<string, EventHandler>;
  kafka: Kafka;
  dataSource: DataSource;
  /** Publishes dead letters. */
  publisher: EventPublisher;
  logger: Logger;
  /** Attempts at one message before it is dead-lettered (default 5); an unavailable dependency counts none. */
  maxAttempts?: number;
  /** First retry delay (default 200 ms), doubled after each failed attempt. */
  retryBackoffMs?: number;
  /** Cap of the delay between attempts while a dependency is unavailable (default 30 s, jittered). */
  unavailableBackoffMaxMs?: number;
  /** Partitions processed in parallel by one instance (default 3). */
  partitionsConsumedConcurrently?: number;
  /** How often a long handler's heartbeat is sent (default 1 s). */
  heartbeatIntervalMs?: number;
  fromBeginning?: boolean;
  /** The broker drops a member silent for this long (default 30 s; broker minimum 6 s). */
  sessionTimeoutMs?: number;
}

/**
 * `interrupted`: the consumer stopped (or lost the partition) while the message waited for an
 * unavailable dependency; it was not applied, its offset is not committed, it is delivered again.
 */
export type MessageOutcome = 'applied' | 'duplicate' | 'ignored' | 'dead-lettered' | 'interrupted';

export interface ConsumerStats {
  applied: number;
  duplicates: number;
  ignored: number;
  deadLettered: number;
  /** Attempts that failed because a dependency was unavailable (retried, never dead-lettered). */
  unavailable: number;
}

/** Where a message is consumed: its heartbeat, and whether this member may still work on it. */
interface Delivery {
  heartbeat: () => Promise<void>;
  /** False once the consumer stops or the partition is taken away (a rebalance). */
  active: () => boolean;
}

/** How often a message waiting for a dependency checks for stop() and a rebalance. */
const STOP_CHECK_MS = 100;
/** While a message waits for a dependency, a warning at most this often. */
const BLOCKED_LOG_INTERVAL_MS = 60_000;

/**
 * A Kafka consumer that applies each event exactly once: the effect and the inbox row commit
 * in one PostgreSQL transaction, and the offset is committed only after that. A message that
 * fails validation, or keeps failing, goes to `<topic>.dlq` with the reason in its headers and
 * the consumer moves on: one poison message never blocks a partition. An outage is different:
 * while a dependency is unavailable (DependencyUnavailableError, or PostgreSQL out of reach) the
 * message is retried without limit and its partition waits behind it, in order.
 */
export class InboxConsumer {
  private consumer?: Consumer;
  private stopping = false;
  readonly stats: ConsumerStats = { applied: 0, duplicates: 0, ignored: 0, deadLettered: 0, unavailable: 0 };
  private readonly maxAttempts: number;
  private readonly retryBackoffMs: number;
  private readonly unavailableBackoffMaxMs: number;

  constructor(private readonly options: InboxConsumerOptions) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.retryBackoffMs = options.retryBackoffMs ?? 200;
    this.unavailableBackoffMaxMs = options.unavailableBackoffMaxMs ?? 30_000;
  }

  async start(): Promise<void> {
    this.stopping = false;
    const consumer = this.options.kafka.consumer({
      groupId: this.options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: this.options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: Math.min(3_000, Math.floor((this.options.sessionTimeoutMs ?? 30_000) / 3)),
      // An idle fetch returns after this long; a rebalance waits for it, so keep it short.
      maxWaitTimeInMs: 500,
      retry: { retries: 10 },
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: this.options.topics, fromBeginning: this.options.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => this.processBatch(consumer, payload),
    });
  }

  /**
   * Stops after the message in hand; its offset is committed, later ones are redelivered. A
   * message waiting for an unavailable dependency is given up at once, its offset not committed.
   */
  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    this.stopping = true;
    if (!consumer) return;
    this.options.logger.info({ consumer: this.options.groupId }, 'consumer stopping: finishing the messages in hand and committing their offsets');
    await consumer.disconnect();
    this.options.logger.info({ consumer: this.options.groupId, ...this.stats }, 'consumer stopped: offsets committed, group left');
  }

  private async processBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const heartbeat = (): Promise<void> => payload.heartbeat();
    const delivery: Delivery = { heartbeat, active: () => payload.isRunning() && !payload.isStale() && !this.stopping };
    let uncommitted: string | undefined;
    const commit = async (): Promise<void> => {
      if (uncommitted === undefined) return;
      const offset = (BigInt(uncommitted) + 1n).toString();
      if (payload.isRunning()) {
        // Retried by kafkajs on a transient error.
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset }]);
      } else {
        // Stopping: kafkajs' consumer.commitOffsets is then a silent no-op, but the batch's own
        // commit still reaches the group, which this member leaves only after the batch returns.
        await payload.commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset }] }] });
      }
      uncommitted = undefined;
    };
    try {
      for (const message of batch.messages) {
        if (!payload.isRunning() || payload.isStale()) break;
        const started = performance.now();
        const outcome = await this.processMessage(batch.topic, batch.partition, message, delivery);
        // Not applied, not committed: this message and the rest of the batch are delivered again.
        if (outcome === 'interrupted') break;
        const attributes = { topic: batch.topic, consumer: this.options.groupId };
        platformMetrics().processDuration.record((performance.now() - started) / 1000, attributes);
        platformMetrics().messagesProcessed.add(1, { ...attributes, outcome });
        platformMetrics().consumerLag.set(Number(BigInt(batch.highWatermark) - BigInt(message.offset) - 1n), { ...attributes, partition: batch.partition });
        payload.resolveOffset(message.offset);
        uncommitted = message.offset;
        await heartbeat();
      }
    } finally {
      // Whatever was applied is committed, also when the batch ends early (stop or rebalance).
      await commit();
    }
  }

  /** Applies one message; returns what became of it. */
  private async processMessage(topic: string, partition: number, message: KafkaMessage, delivery: Delivery): Promise<MessageOutcome> {
    let envelope: EventEnvelope;
    try {
      envelope = parseEvent(JSON.parse(message.value?.toString() ?? 'null'));
    } catch (error) {
      const reason = error instanceof InvalidEventError ? error.message : `not valid JSON: ${(error as Error).message}`;
      await this.deadLetter(topic, partition, message, reason, 1);
      return 'dead-lettered';
    }
    const handler = this.options.handlers[envelope.type];
    if (!handler) {
      this.stats.ignored += 1;
      return 'ignored';
    }
    const parent = contextFromHeaders(message.headers);
    const span = tracer('messaging').startSpan(`${topic} process`, {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.destination.name': topic,
        'messaging.consumer.group.name': this.options.groupId,
        'messaging.message.id': envelope.id,
        'event.type': envelope.type,
      },
    }, parent);
    try {
      // The handler runs inside the producer's trace (W3C context from the Kafka headers).
      const outcome = await context.with(trace.setSpan(parent, span), () =>
        this.applyWithRetries({ envelope, topic, partition, offset: message.offset }, handler, message, delivery),
      );
      if (outcome === 'dead-lettered' || outcome === 'interrupted') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
      return outcome;
    } finally {
      span.end();
    }
  }

  private async applyWithRetries(event: ConsumedEvent, handler: EventHandler, message: KafkaMessage, delivery: Delivery): Promise<MessageOutcome> {
    const blocked = new BlockedPartition(this.options.groupId, event, this.options.logger);
    try {
      for (let attempt = 1; ; ) {
        try {
          const outcome = await this.withHeartbeat(delivery.heartbeat, () => this.applyOnce(event, handler));
          if (outcome === 'applied') this.stats.applied += 1;
          else this.stats.duplicates += 1;
          blocked.recovered();
          return outcome;
        } catch (error) {
          const unavailable = unavailabilityOf(error);
          if (unavailable) {
            // An outage, not this message's fault: no attempt counted; wait (jittered, capped) and retry.
            this.stats.unavailable += 1;
            const retries = blocked.failed(unavailable);
            const ceiling = Math.min(this.unavailableBackoffMaxMs, this.retryBackoffMs * 2 ** Math.min(retries - 1, 30));
            if (!(await this.waitUnlessStopped(ceiling / 2 + (Math.random() * ceiling) / 2, delivery))) {
              blocked.abandoned();
              return 'interrupted';
            }
            continue;
          }
          const reason = `${(error as Error).name}: ${(error as Error).message}`;
          if (error instanceof PermanentEventError || attempt >= this.maxAttempts) {
            await this.deadLetter(event.topic, event.partition, message, reason, attempt);
            return 'dead-lettered';
          }
          this.options.logger.warn({ eventId: event.envelope.id, type: event.envelope.type, attempt, reason }, 'event failed, retrying');
          await this.withHeartbeat(delivery.heartbeat, () => sleep(this.retryBackoffMs * 2 ** (attempt - 1)));
          attempt += 1;
        }
      }
    } finally {
      blocked.clear();
    }
  }

  /**
   * Sleeps `ms` while heartbeating, so the group keeps this member. False as soon as the
   * consumer stops or the partition is taken away (or a heartbeat fails, e.g. a rebalance).
   */
  private async waitUnlessStopped(ms: number, delivery: Delivery): Promise<boolean> {
    const interval = this.options.heartbeatIntervalMs ?? 1_000;
    const deadline = Date.now() + ms;
    let nextHeartbeat = Date.now() + interval;
    while (Date.now() < deadline) {
      if (!delivery.active()) return false;
      await sleep(Math.min(STOP_CHECK_MS, deadline - Date.now()));
      if (Date.now() >= nextHeartbeat) {
        nextHeartbeat = Date.now() + interval;
        try {
          await delivery.heartbeat();
        } catch {
          return false;
        }
      }
    }
    return delivery.active();
  }

  private async applyOnce(event: ConsumedEvent, handler: EventHandler): Promise<'applied' | 'duplicate'> {
    let inHandler = false;
    try {
      return await this.options.dataSource.transaction(async (tx) => {
        const inserted: unknown[] = await tx.query(
          `INSERT INTO inbox (consumer, event_id, topic, kafka_partition, kafka_offset) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id`,
          [this.options.groupId, event.envelope.id, event.topic, event.partition, event.offset],
        );
        if (inserted.length === 0) return 'duplicate';
        inHandler = true;
        await handler(event, tx);
        inHandler = false;
        return 'applied';
      });
    } catch (error) {
      // A connection error outside the handler (connect, BEGIN, the inbox row, COMMIT) is PostgreSQL's.
      if (!inHandler && unavailabilityOf(error)?.dependency === 'connection') {
        throw new DependencyUnavailableError('postgresql', (error as Error).message, { cause: error });
      }
      throw error;
    }
  }

  /** Keeps the group membership alive while a long handler runs, so no rebalance redelivers the batch. */
  private async withHeartbeat<T>(heartbeat: () => Promise<void>, work: () => Promise<T>): Promise<T> {
    const interval = this.options.heartbeatIntervalMs ?? 1_000;
    const timer = setInterval(() => {
      heartbeat().catch(() => undefined);
    }, interval);
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }

  private async deadLetter(topic: string, partition: number, message: KafkaMessage, reason: string, attempts: number): Promise<void> {
    const safeReason = scrubText(reason).slice(0, 2_000);
    await this.options.publisher.sendRaw([
      {
        topic: deadLetterTopicOf(topic),
        messages: [
          {
            key: message.key,
            value: message.value,
            headers: {
              ...message.headers,
              'dlq-reason': safeReason,
              'dlq-original-topic': topic,
              'dlq-original-partition': String(partition),
              'dlq-original-offset': message.offset,
              'dlq-consumer': this.options.groupId,
              'dlq-attempts': String(attempts),
              'dlq-failed-at': new Date().toISOString(),
            },
          },
        ],
      },
    ]);
    this.stats.deadLettered += 1;
    this.options.logger.error({ topic, partition, offset: message.offset, reason: safeReason, attempts }, 'message sent to dead-letter topic');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * One message waiting for an unavailable dependency: the `messaging.consumer.blocked` gauge (for
 * how long, per partition), and a warning at most once a minute rather than once per retry.
 */
class BlockedPartition {
  private since?: number;
  private lastLog = 0;
  private retries = 0;
  private dependency = '';

  constructor(
    private readonly groupId: string,
    private readonly event: ConsumedEvent,
    private readonly logger: Logger,
  ) {}

  private get attributes(): Record<string, string | number> {
    return { topic: this.event.topic, consumer: this.groupId, partition: this.event.partition };
  }

  /** Records one failed attempt; returns how many in a row. */
  failed(unavailable: Unavailability): number {
    const now = Date.now();
    this.since ??= now;
    this.retries += 1;
    if (this.dependency !== unavailable.dependency) this.clear();
    this.dependency = unavailable.dependency;
    platformMetrics().consumerBlocked.set((now - this.since) / 1000, { ...this.attributes, dependency: this.dependency });
    if (this.retries === 1 || now - this.lastLog >= BLOCKED_LOG_INTERVAL_MS) {
      this.lastLog = now;
      const reason = scrubText(unavailable.reason).slice(0, 500);
      this.logger.warn(
        { ...this.attributes, offset: this.event.offset, eventId: this.event.envelope.id, type: this.event.envelope.type, dependency: this.dependency, reason, retries: this.retries, waitingMs: now - this.since },
        'a dependency is unavailable: the message is retried until it answers, the partition waits (not dead-lettered)',
      );
    }
    return this.retries;
  }

  recovered(): void {
    if (this.since === undefined) return;
    this.logger.info({ ...this.attributes, eventId: this.event.envelope.id, dependency: this.dependency, retries: this.retries, waitedMs: Date.now() - this.since }, 'dependency available again: the waiting message was applied');
  }

  abandoned(): void {
    this.logger.info({ ...this.attributes, eventId: this.event.envelope.id, dependency: this.dependency, retries: this.retries }, 'stopped while the message waited for a dependency: not committed, it is delivered again');
  }

  /** Back to 0 once the message is applied, given up or dead-lettered. */
  clear(): void {
    if (this.dependency) platformMetrics().consumerBlocked.set(0, { ...this.attributes, dependency: this.dependency });
  }
}
