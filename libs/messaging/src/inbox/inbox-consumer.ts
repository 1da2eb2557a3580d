import type { EventEnvelope } from '@pay/contracts';
import { deadLetterTopicOf, InvalidEventError, parseEvent } from '@pay/contracts';
import type { Logger } from '@pay/observability';
import { contextFromHeaders, platformMetrics, scrubText, tracer } from '@pay/observability';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';
import type { EventPublisher } from '../kafka/event-publisher';

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
  /** Attempts at one message before it is dead-lettered (default 5). */
  maxAttempts?: number;
  retryBackoffMs?: number;
  /** Partitions processed in parallel by one instance (default 3). */
  partitionsConsumedConcurrently?: number;
  /** How often a long handler's heartbeat is sent (default 1 s). */
  heartbeatIntervalMs?: number;
  fromBeginning?: boolean;
  /** The broker drops a member silent for this long (default 30 s; broker minimum 6 s). */
  sessionTimeoutMs?: number;
}

export type MessageOutcome = 'applied' | 'duplicate' | 'ignored' | 'dead-lettered';

export interface ConsumerStats {
  applied: number;
  duplicates: number;
  ignored: number;
  deadLettered: number;
}

/**
 * A Kafka consumer that applies each event exactly once: the effect and the inbox row commit
 * in one PostgreSQL transaction, and the offset is committed only after that. A message that
 * fails validation, or keeps failing, goes to `<topic>.dlq` with the reason in its headers and
 * the consumer moves on: one poison message never blocks a partition.
 */
export class InboxConsumer {
  private consumer?: Consumer;
  readonly stats: ConsumerStats = { applied: 0, duplicates: 0, ignored: 0, deadLettered: 0 };
  private readonly maxAttempts: number;
  private readonly retryBackoffMs: number;

  constructor(private readonly options: InboxConsumerOptions) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.retryBackoffMs = options.retryBackoffMs ?? 200;
  }

  async start(): Promise<void> {
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

  /** Stops after the message in hand; its offset is committed, later ones are redelivered. */
  async stop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    if (!consumer) return;
    this.options.logger.info({ consumer: this.options.groupId }, 'consumer stopping: finishing the messages in hand and committing their offsets');
    await consumer.disconnect();
    this.options.logger.info({ consumer: this.options.groupId, ...this.stats }, 'consumer stopped: offsets committed, group left');
  }

  private async processBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const heartbeat = (): Promise<void> => payload.heartbeat();
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
        const outcome = await this.processMessage(batch.topic, batch.partition, message, heartbeat);
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

  /** Applies one message; returns what became of it. Exposed for the DLQ replay tool. */
  async processMessage(topic: string, partition: number, message: KafkaMessage, heartbeat: () => Promise<void>): Promise<MessageOutcome> {
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
        this.applyWithRetries({ envelope, topic, partition, offset: message.offset }, handler, message, heartbeat),
      );
      if (outcome === 'dead-lettered') span.setStatus({ code: SpanStatusCode.ERROR, message: 'dead-lettered' });
      return outcome;
    } finally {
      span.end();
    }
  }

  private async applyWithRetries(event: ConsumedEvent, handler: EventHandler, message: KafkaMessage, heartbeat: () => Promise<void>): Promise<MessageOutcome> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const outcome = await this.withHeartbeat(heartbeat, () => this.applyOnce(event, handler));
        if (outcome === 'applied') this.stats.applied += 1;
        else this.stats.duplicates += 1;
        return outcome;
      } catch (error) {
        const permanent = error instanceof PermanentEventError;
        const reason = `${(error as Error).name}: ${(error as Error).message}`;
        if (permanent || attempt >= this.maxAttempts) {
          await this.deadLetter(event.topic, event.partition, message, reason, attempt);
          return 'dead-lettered';
        }
        this.options.logger.warn({ eventId: event.envelope.id, type: event.envelope.type, attempt, reason }, 'event failed, retrying');
        await this.withHeartbeat(heartbeat, () => sleep(this.retryBackoffMs * 2 ** (attempt - 1)));
      }
    }
  }

  private async applyOnce(event: ConsumedEvent, handler: EventHandler): Promise<'applied' | 'duplicate'> {
    return this.options.dataSource.transaction(async (tx) => {
      const inserted: unknown[] = await tx.query(
        `INSERT INTO inbox (consumer, event_id, topic, kafka_partition, kafka_offset) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id`,
        [this.options.groupId, event.envelope.id, event.topic, event.partition, event.offset],
      );
      if (inserted.length === 0) return 'duplicate';
      await handler(event, tx);
      return 'applied';
    });
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
