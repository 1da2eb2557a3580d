import type { EventEnvelope } from '@pay/contracts';
import { deadLetterTopicOf, eventDefinitions, InvalidEventError, parseEvent } from '@pay/contracts';
import type { Logger } from '@pay/observability';
import { contextFromHeaders, platformMetrics, scrubText, tracer } from '@pay/observability';
import type { Span } from '@opentelemetry/api';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { NamedStatement } from '@pay/sql';
import type { TransactionPlans } from '@pay/sql';
import { beginWith } from '@pay/sql';
import type { EventPublisher } from '../kafka/event-publisher';
import { deadLetterValue } from '../dlq/dead-letter-value';
import type { GroupCommitOptions } from '../group-commit/group-commit';
import { GroupCommit } from '../group-commit/group-commit';
import { offerPreviousMemberId, withdrawPreviousMemberId } from '../kafka/kafkajs-member-id';
import type { GroupMemberIds } from './instance-memberships';
import { backoffDelayMs } from '../retry/backoff';
import { ConsumerStateTracker } from './consumer-state';
import type { PartitionOffset } from './offset-commits';
import { OffsetCommits } from './offset-commits';
import type { Unavailability } from './dependency-unavailable';
import { DependencyUnavailableError, unavailabilityOf } from './dependency-unavailable';

export interface ConsumedEvent<T extends object = object> {
  envelope: EventEnvelope<T>;
  topic: string;
  partition: number;
  offset: string;
  /** The record's headers, as Kafka delivered them (a handler that authenticates its producer reads them). */
  headers?: KafkaMessage['headers'];
  /** The record's timestamp (ms since the epoch, as text): the producer's, or the broker's on a LogAppendTime topic. */
  timestamp?: string;
  /** The record's value as delivered (a handler that checks an attestation of exactly these bytes reads it). */
  value?: Buffer | null;
}

/** A header's value as text (the first, when repeated); undefined when absent. */
export function headerText(headers: KafkaMessage['headers'], name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/**
 * Headers never copied into a dead letter: a producer's credentials (a purchase request's
 * `authorization`) must not outlive the message in a topic operators read.
 */
export const CREDENTIAL_HEADERS: readonly string[] = ['authorization'];

/**
 * Applies one event inside the consumer-owned transaction `tx`; throw to roll back. The same
 * transaction applies the other new events of the chunk (up to `maxEventsPerTransaction`, in
 * partition order); `batch` lets handlers share work across them.
 */
export type EventHandler = (event: ConsumedEvent, tx: EntityManager, batch: InboxBatch) => Promise<void>;

/** Work that handlers of one transaction share; the consumer finishes it once, before COMMIT. */
export interface BatchWork {
  /**
   * Runs once, inside the transaction, after the last handler of the chunk (in order of first
   * use). A failure that belongs to one event must be thrown as a BatchedEventError naming it,
   * so that only that event is retried or dead-lettered; any other error fails the chunk, which
   * is then applied one event per transaction.
   */
  beforeCommit(): Promise<void>;
  /**
   * Optional: what beforeCommit does, with its last statement sent with the transaction's COMMIT
   * (libs/sql's commitWith on `runner`): one round trip less per transaction. Called instead of
   * beforeCommit when this is the transaction's last work. Whatever it sends must end the
   * transaction or leave it open (nothing to write: the consumer commits); its failures are
   * beforeCommit's (the transaction is rolled back, a BatchedEventError blames one event). For
   * statements whose rows nothing checks before COMMIT.
   */
  beforeCommitAndCommit?(runner: QueryRunner): Promise<void>;
}

/** What the handlers of one chunk share: per-transaction work, made on first use. */
export interface InboxBatch {
  /** The work registered under `key` for this transaction, made by `create` the first time. */
  work<T extends BatchWork>(key: object, create: () => T): T;
}

/** A failure of shared work (BatchWork.beforeCommit) caused by one event of the chunk. */
export class BatchedEventError extends Error {
  override name = 'BatchedEventError';

  constructor(
    /** The envelope id of the event that failed. */
    readonly eventId: string,
    /** What went wrong: a PermanentEventError dead-letters the event at once, like a handler's. */
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** A failure that retrying cannot fix (a business rule, not an outage): dead-letter at once. */
export class PermanentEventError extends Error {
  override name = 'PermanentEventError';
}

/**
 * How long the broker waits for a member that went silent (a SIGKILLed or lost process) before
 * the group rebalances without it. A replacement that joins meanwhile (the supervisor's restart)
 * waits for it: the messages of the dead member's partitions wait as long (issue 15: with 30 s,
 * purchases in flight at a crash of orchestration were captured ~50 s after publishing). Heartbeats
 * go every 3 s, and every second while a handler runs, so a live member is never dropped for a slow batch.
 */
export const DEFAULT_SESSION_TIMEOUT_MS = 10_000;

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
  /** First retry delay (default 200 ms), doubled after each failed attempt, jittered into its upper half (backoffDelayMs). */
  retryBackoffMs?: number;
  /** Cap of the delay between attempts, failed or waiting for an unavailable dependency (default 30 s). */
  unavailableBackoffMaxMs?: number;
  /**
   * Events applied in one PostgreSQL transaction (default 500): a Kafka batch is applied in
   * chunks of at most this many messages. 1 gives one transaction per event.
   */
  maxEventsPerTransaction?: number;
  /** Partitions processed in parallel by one instance (default 3). */
  partitionsConsumedConcurrently?: number;
  /**
   * Chunks of different partitions that are ready at the same moment share one transaction
   * (default true): a fetch spread over many partitions then costs one commit, not one per
   * partition. Each partition's order is kept; if the shared transaction fails, each chunk is
   * applied on its own as without sharing (nothing of the shared one committed).
   */
  shareTransactionsAcrossPartitions?: boolean;
  /**
   * How the prepared statements of the consumer's transactions (the inbox's and the handlers'
   * named statements) are planned: `generic` (the default) plans each once per connection,
   * `auto` leaves it to PostgreSQL, which plans most batch statements again at every run
   * (TransactionPlans of @pay/sql). `auto` for handlers whose statements' best plans depend on
   * their values.
   */
  plans?: TransactionPlans;
  /**
   * How long the broker may hold a fetch to gather more messages (default: none, a fetch returns
   * as soon as one message is there). A consumer whose readers tolerate this much delay gets
   * bigger chunks, so fewer transactions, statements and fetches per message.
   */
  gatherMs?: number;
  /**
   * Offsets of applied messages are committed at most this often (default 1 s; 0: after every
   * chunk), all partitions in one request, a trailing commit after the last batch. A message
   * applied but not yet committed is redelivered after a crash and skipped by the inbox.
   */
  offsetCommitIntervalMs?: number;
  /** How often a long handler's heartbeat is sent (default 1 s). */
  heartbeatIntervalMs?: number;
  fromBeginning?: boolean;
  /** The broker drops a member silent for this long (default DEFAULT_SESSION_TIMEOUT_MS, 10 s; broker minimum 6 s). */
  sessionTimeoutMs?: number;
  /**
   * On stop, once the messages in hand are applied and committed, how long to wait for the group
   * to be left (default 2 s; a LeaveGroup takes milliseconds). Longer means the member is waiting
   * for a rebalance to be answered, which waits for a dead member's session to expire: stop()
   * then returns without it (nothing is in hand; the broker drops this member in its turn).
   */
  leaveGroupWaitMs?: number;
  /**
   * Headers a dead letter gets besides the message's own (whose credentials are never copied): e.g.
   * its sender's identity, verified and attested by this service, so that a replay can stand for the
   * sender without its token. They replace the message's headers of the same name; a name mapped to
   * undefined is removed (a producer cannot supply it). A failure (logged): nothing is added.
   */
  deadLetterHeaders?: (message: KafkaMessage) => Promise<Record<string, string | undefined> | undefined>;
  /**
   * The member ids of this instance across process restarts (InstanceMemberships, ADR 0015): the
   * consumer joins as the member its instance's previous process was, so a restart after a crash
   * does not wait for the dead member's session; the member it joins as is recorded. None: every
   * start joins as a new member.
   */
  memberIds?: GroupMemberIds;
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

/** A message of a chunk, as read cheaply: what is to become of it before any transaction. */
type Decoded =
  | { kind: 'ignored'; message: KafkaMessage }
  | { kind: 'invalid'; message: KafkaMessage; reason: string }
  | { kind: 'apply'; message: KafkaMessage; event: ConsumedEvent; handler: EventHandler; span?: Span };

type Apply = Extract<Decoded, { kind: 'apply' }>;

/** A chunk's transaction failed: at one event (`at`, its index in the chunk) or not attributable. */
class ChunkFailure {
  constructor(
    readonly error: unknown,
    readonly at: number | undefined,
  ) {}
}

/** A committed chunk: how many of its entries are final, and what became of its events. */
interface ChunkApplied {
  completed: number;
  outcomes: Map<Decoded, 'applied' | 'duplicate'>;
}

/** A partition's chunk waiting to share a transaction with other partitions' chunks. */
interface SharedChunk {
  entries: Decoded[];
  delivery: Delivery;
}

type SharedResult = ChunkApplied | ChunkFailure | 'alone';

/**
 * Chunks of several partitions share a transaction: those handed over in the same turn of the
 * event loop, or while the shared transaction in flight runs (one at a time), whatever their number.
 */
const SHARED_TRANSACTIONS: GroupCommitOptions = { maxBatchSize: Number.POSITIVE_INFINITY, maxWaitMs: 0, maxConcurrentBatches: 1 };

/** Reports each message's final outcome, in partition order. */
type Settle = (message: KafkaMessage, outcome: MessageOutcome) => Promise<void>;

/** How often a message waiting for a dependency checks for stop() and a rebalance. */
const STOP_CHECK_MS = 100;
/** While a message waits for a dependency, a warning at most this often. */
const BLOCKED_LOG_INTERVAL_MS = 60_000;

/**
 * A Kafka consumer that applies each event exactly once: the effect and the inbox row commit
 * in one PostgreSQL transaction, and the offset is committed only after that. A fetched batch is
 * applied in chunks, one transaction each: one statement records the chunk's new events in the
 * inbox (redeliveries are skipped there), their handlers run in partition order, COMMIT, then
 * the offsets. A message that fails validation, or keeps failing, goes to `<topic>.dlq` with the
 * reason in its headers and the consumer moves on: one poison message never blocks a partition,
 * and a chunk it fails is applied again without it (the events before it together, it alone
 * with retries, the rest as the next chunk). An outage is different: while a dependency is
 * unavailable (DependencyUnavailableError, or PostgreSQL out of reach) the message is retried
 * without limit and its partition waits behind it, in order.
 */
export class InboxConsumer {
  private consumer?: Consumer;
  private commits?: OffsetCommits;
  private stopping = false;
  /** consumer.run() until it has joined the group: kafkajs' disconnect must not cut a join in flight. */
  private starting?: Promise<void>;
  /** The batches being applied; stop() waits for them, however long they take. */
  private readonly batchesInHand = new Set<Promise<void>>();
  private readonly leaveGroupWaitMs: number;
  private joining = false;
  /** The previous process's member id this consumer was started with, until its first join says whether it was taken. */
  private rejoiningAs?: string;
  readonly stats: ConsumerStats = { applied: 0, duplicates: 0, ignored: 0, deadLettered: 0, unavailable: 0 };
  private readonly maxAttempts: number;
  private readonly retryBackoffMs: number;
  private readonly unavailableBackoffMaxMs: number;
  private readonly maxEventsPerTransaction: number;
  /** Every registered event type: a type no one defined is refused, a known one not handled here is skipped unread. */
  private knownTypes = new Set<string>();
  /** Chunks of other partitions waiting for the shared transaction in flight to end. */
  private readonly shared = new GroupCommit<SharedChunk, SharedResult>((chunks) => this.runShared(chunks), SHARED_TRANSACTIONS);
  /** Transactions that applied chunks of more than one partition, and the chunks in them (for tests and the bench). */
  readonly sharing = { transactions: 0, chunks: 0 };
  /** Joining, connected, rebalancing, disconnected, crashed, stopped: one log line and metric per change. */
  private readonly lifecycle: ConsumerStateTracker;

  constructor(private readonly options: InboxConsumerOptions) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.retryBackoffMs = options.retryBackoffMs ?? 200;
    this.unavailableBackoffMaxMs = options.unavailableBackoffMaxMs ?? 30_000;
    this.maxEventsPerTransaction = Math.max(1, options.maxEventsPerTransaction ?? 500);
    this.leaveGroupWaitMs = options.leaveGroupWaitMs ?? 2_000;
    this.lifecycle = new ConsumerStateTracker(options.groupId, options.logger);
  }

  /** Where this consumer is in its life (undefined before start()). */
  get state(): ConsumerStateTracker['state'] {
    return this.lifecycle.state;
  }

  async start(): Promise<void> {
    this.stopping = false;
    this.knownTypes = new Set(eventDefinitions().map((definition) => definition.type));
    const consumer = this.options.kafka.consumer({
      groupId: this.options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: this.options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS,
      heartbeatInterval: Math.min(3_000, Math.floor((this.options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS) / 3)),
      // An idle fetch returns after this long; a rebalance waits for it, so keep it short.
      maxWaitTimeInMs: this.options.gatherMs ?? 500,
      // Gathering: the broker answers when this much is there or the wait is over.
      minBytes: this.options.gatherMs ? GATHER_BYTES : 1,
      retry: { retries: 10 },
    });
    this.consumer = consumer;
    const commits = new OffsetCommits(
      this.options.offsetCommitIntervalMs ?? 1_000,
      async (offsets) => void (await consumer.commitOffsets(offsets)),
      (error) =>
        this.options.logger.warn(
          { consumer: this.options.groupId, reason: (error as Error).message },
          'committing offsets failed; retried with the next commit',
        ),
    );
    this.commits = commits;
    this.joining = true;
    this.lifecycle.enter('joining', { topics: this.options.topics });
    consumer.on(consumer.events.REBALANCING, () => {
      this.joining = true;
      if (!this.stopping) this.lifecycle.enter('rebalancing');
      // What this member applied is committed before its partitions may move (else redelivered and skipped).
      commits
        .flush()
        .catch((error: unknown) =>
          this.options.logger.debug({ consumer: this.options.groupId, reason: (error as Error).message }, 'offsets not committed before a rebalance'),
        );
    });
    const previous = this.options.memberIds?.previous(this.options.groupId);
    this.rejoiningAs = previous;
    if (previous) offerPreviousMemberId(this.options.groupId, previous);
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      this.joining = false;
      this.recordMember(event.payload.memberId);
      if (!this.stopping) this.lifecycle.enter('connected', { partitions: partitionCount(event.payload.memberAssignment) });
    });
    // kafkajs restarts a consumer that failed with a retriable error (the broker out of reach, the
    // group's coordinator moved) by itself, after `retryTime`; any other error ends it for good.
    consumer.on(consumer.events.CRASH, (event) => {
      if (this.stopping) return;
      const { error, restart } = event.payload;
      const reason = `${error.name}: ${error.message}`;
      const retryInMs = (error as { retryTime?: number }).retryTime;
      this.lifecycle.enter(restart ? 'disconnected' : 'crashed', { reason, ...(restart && retryInMs !== undefined ? { retryInMs } : {}) });
    });
    this.starting = (async () => {
      await consumer.connect();
      await consumer.subscribe({ topics: this.options.topics, fromBeginning: this.options.fromBeginning ?? true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
        eachBatch: (payload) => this.inHand(this.processBatch(consumer, payload)),
      });
    })();
    await this.starting;
  }

  /** Records the member this consumer joined as; says once whether it took its predecessor's place. */
  private recordMember(memberId: string): void {
    const previous = this.rejoiningAs;
    if (previous !== undefined) {
      this.rejoiningAs = undefined;
      const { logger, groupId } = this.options;
      if (memberId === previous) logger.info({ consumer: groupId }, "consumer rejoined as its instance's previous member: no wait for that member's session");
      else logger.info({ consumer: groupId }, "the instance's previous member had left or expired: joined as a new member");
    }
    this.options.memberIds?.joined(this.options.groupId, memberId);
  }

  /** Joining its group (at start, or again in a rebalance): no message is in hand meanwhile. */
  get isJoiningGroup(): boolean {
    return this.joining && this.consumer !== undefined;
  }

  private inHand(batch: Promise<void>): Promise<void> {
    this.batchesInHand.add(batch);
    const settled = (): void => void this.batchesInHand.delete(batch);
    batch.then(settled, settled);
    return batch;
  }

  /**
   * Stops after the event in hand: what its chunk applied so far commits, with its offsets;
   * later messages are redelivered. A message waiting for an unavailable dependency is given up
   * at once, its offset not committed.
   */
  async stop(): Promise<void> {
    const consumer = this.consumer;
    const commits = this.commits;
    this.consumer = undefined;
    this.stopping = true;
    if (this.rejoiningAs !== undefined) withdrawPreviousMemberId(this.options.groupId, this.rejoiningAs);
    if (!consumer) return;
    const { logger, groupId } = this.options;
    logger.info({ consumer: groupId }, 'consumer stopping: finishing the messages in hand and committing their offsets');
    // Offsets waiting for their interval go while the consumer still runs (kafkajs commits nothing after).
    await commits?.flush().catch((error: unknown) => logger.warn({ consumer: groupId, reason: (error as Error).message }, 'offsets not committed on stop'));
    // kafkajs' disconnect leaves the group only once a join in flight is answered, and a join
    // waits for every member of the group: one that died without leaving holds it until its
    // session times out (up to 30 s). A start still joining is let finish in the same way.
    const starting = this.starting;
    const left = (async () => {
      await starting?.catch(() => undefined);
      await consumer.disconnect();
    })();
    // The messages in hand are never cut short: applied and committed, however long they take.
    while (this.batchesInHand.size > 0) await Promise.allSettled([...this.batchesInHand]);
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<'rebalancing'>((resolve) => (timer = setTimeout(() => resolve('rebalancing'), this.leaveGroupWaitMs)));
    const outcome = await Promise.race([left.then(() => 'left' as const), waited]).finally(() => clearTimeout(timer));
    if (outcome === 'left') {
      this.options.memberIds?.left(groupId);
      this.lifecycle.enter('stopped', { ...this.stats }, 'consumer stopped: offsets committed, group left');
      return;
    }
    // Nothing is in hand and every applied message is committed: nothing is lost or applied twice.
    // The member leaves when the rebalance is answered, or the broker drops it after its session timeout.
    left.catch((error: unknown) => logger.warn({ consumer: groupId, reason: (error as Error).message }, 'consumer did not leave its group cleanly'));
    this.lifecycle.enter(
      'stopped',
      { waitedMs: this.leaveGroupWaitMs, ...this.stats },
      'consumer stopped: offsets committed; the group is rebalancing (a member that died has not timed out yet), so it was not waited for',
    );
  }

  private async processBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const heartbeat = (): Promise<void> => payload.heartbeat();
    const delivery: Delivery = { heartbeat, active: () => payload.isRunning() && !payload.isStale() && !this.stopping };
    let uncommitted: string | undefined;
    /** A dead letter went out: its offset is committed at once, so a restart does not send it again. */
    let deadLettered = false;
    const commits =
      this.commits ??
      new OffsetCommits(
        0,
        async (offsets) => void (await consumer.commitOffsets(offsets)),
        () => undefined,
      );
    const commit = async (): Promise<void> => {
      if (uncommitted === undefined) return;
      const offset = { topic: batch.topic, partition: batch.partition, offset: (BigInt(uncommitted) + 1n).toString() };
      uncommitted = undefined;
      if (payload.isRunning()) {
        // Retried by kafkajs on a transient error; a batch cut short (stop, rebalance) commits at once.
        await commits.offer(offset, deadLettered || !delivery.active());
      } else {
        // Stopping: kafkajs' consumer.commitOffsets is then a silent no-op, but the batch's own
        // commit still reaches the group, which this member leaves only after the batch returns.
        await commits.offer(offset, true, (offsets) => payload.commitOffsetsIfNecessary({ topics: byTopic(offsets) }));
      }
    };
    const attributes = { topic: batch.topic, consumer: this.options.groupId };
    let chunkStarted = performance.now();
    const settle: Settle = async (message, outcome) => {
      // A chunk's messages share its transaction: each is charged its share of the time since the previous one settled.
      const now = performance.now();
      platformMetrics().processDuration.record((now - chunkStarted) / 1000, attributes);
      chunkStarted = now;
      platformMetrics().messagesProcessed.add(1, { ...attributes, outcome });
      platformMetrics().consumerLag.set(Number(BigInt(batch.highWatermark) - BigInt(message.offset) - 1n), { ...attributes, partition: batch.partition });
      payload.resolveOffset(message.offset);
      uncommitted = message.offset;
      if (outcome === 'dead-lettered') deadLettered = true;
    };
    try {
      for (let next = 0; next < batch.messages.length;) {
        if (!delivery.active()) break;
        const chunk = batch.messages.slice(next, next + this.maxEventsPerTransaction).map((message) => this.decode(batch.topic, batch.partition, message));
        chunkStarted = performance.now();
        const settled = await this.processChunk(batch.topic, batch.partition, chunk, delivery, settle);
        await heartbeat();
        // Stopped, taken away or interrupted: the rest is not committed and is delivered again.
        if (settled < chunk.length) break;
        next += settled;
      }
    } finally {
      // Whatever was applied is committed, also when the batch ends early (stop or rebalance).
      await commit();
    }
  }

  /**
   * What a message is, read as cheaply as possible: an event type this consumer does not handle
   * is acknowledged from the `event-type` header (or the JSON's `type`) without validation;
   * a handled one is parsed and validated in full.
   */
  private decode(topic: string, partition: number, message: KafkaMessage): Decoded {
    const header = message.headers?.['event-type'];
    let type = typeof header === 'string' ? header : Buffer.isBuffer(header) ? header.toString() : undefined;
    let raw: unknown;
    try {
      if (!type) {
        raw = JSON.parse(message.value?.toString() ?? 'null');
        const rawType = (raw as { type?: unknown } | null)?.type;
        type = typeof rawType === 'string' ? rawType : undefined;
      }
      if (type !== undefined && !this.handlerOf(type) && this.knownTypes.has(type)) return { kind: 'ignored', message };
      raw ??= JSON.parse(message.value?.toString() ?? 'null');
    } catch (error) {
      return { kind: 'invalid', message, reason: `not valid JSON: ${(error as Error).message}` };
    }
    let envelope: EventEnvelope;
    try {
      envelope = parseEvent(raw);
    } catch (error) {
      if (!(error instanceof InvalidEventError)) throw error;
      return { kind: 'invalid', message, reason: error.message };
    }
    const handler = this.handlerOf(envelope.type);
    if (!handler) return { kind: 'ignored', message };
    return {
      kind: 'apply',
      message,
      event: { envelope, topic, partition, offset: message.offset, headers: message.headers, timestamp: message.timestamp, value: message.value },
      handler,
    };
  }

  private handlerOf(type: string): EventHandler | undefined {
    return Object.hasOwn(this.options.handlers, type) ? this.options.handlers[type] : undefined;
  }

  /**
   * Applies a chunk and settles its messages in order; returns how many were settled (fewer
   * than the chunk when the consumer stopped, lost the partition or gave up a waiting message).
   * The chunk is tried in one transaction; when one event fails it, the events before it are
   * applied again together, it alone goes through retries (and the DLQ), and the rest follow as
   * a chunk of their own. A failure no event can be blamed for (the inbox statement, COMMIT, a
   * lost connection) applies the chunk one event per transaction.
   */
  private async processChunk(topic: string, partition: number, chunk: Decoded[], delivery: Delivery, settle: Settle): Promise<number> {
    let done = 0;
    while (done < chunk.length) {
      const rest = chunk.slice(done);
      let result: ChunkApplied | ChunkFailure;
      try {
        // A chunk's first try may share a transaction with other partitions' chunks; a retry after a failure never does.
        const shared =
          done === 0 && this.options.shareTransactionsAcrossPartitions !== false
            ? await this.withHeartbeat(delivery.heartbeat, () => this.applyShared(rest, delivery))
            : 'alone';
        result = shared !== 'alone' ? shared : await this.withHeartbeat(delivery.heartbeat, () => this.applyTogether(rest, delivery));
      } catch (error) {
        // Nothing was committed; only an unexpected error gets here (not a handler's).
        this.endSpans(rest, 'interrupted');
        throw error;
      }
      if (!(result instanceof ChunkFailure)) {
        for (const entry of rest.slice(0, result.completed))
          await settle(entry.message, await this.outcomeOf(topic, partition, entry, result.outcomes.get(entry)));
        this.endSpans(rest.slice(result.completed), 'interrupted');
        return done + result.completed;
      }
      const { at, error } = result;
      if (at === undefined) {
        this.options.logger.debug(
          { topic, partition, events: rest.length, reason: (error as Error).message },
          'a chunk failed as a whole: applying its events one by one',
        );
        for (const entry of rest) {
          if (!(await this.settleAlone(topic, partition, entry, delivery, settle))) return done;
          done += 1;
        }
        return done;
      }
      if (at > 0) {
        const before = await this.processChunk(topic, partition, rest.slice(0, at), delivery, settle);
        done += before;
        if (before < at) return done;
      }
      if (!(await this.settleAlone(topic, partition, rest[at], delivery, settle, error))) return done;
      done += 1;
    }
    return done;
  }

  /** The final outcome of an entry whose chunk committed: invalid messages are dead-lettered now, in order. */
  private async outcomeOf(topic: string, partition: number, entry: Decoded, applied: 'applied' | 'duplicate' | undefined): Promise<MessageOutcome> {
    if (entry.kind === 'ignored') {
      this.stats.ignored += 1;
      return 'ignored';
    }
    if (entry.kind === 'invalid') {
      await this.deadLetter(topic, partition, entry.message, entry.reason, 1);
      return 'dead-lettered';
    }
    const outcome = applied ?? 'duplicate';
    if (outcome === 'applied') this.stats.applied += 1;
    else this.stats.duplicates += 1;
    this.endSpans([entry], outcome);
    return outcome;
  }

  /** One message in a transaction of its own, with retries; false when it was given up (not settled). */
  private async settleAlone(topic: string, partition: number, entry: Decoded, delivery: Delivery, settle: Settle, firstError?: unknown): Promise<boolean> {
    if (entry.kind !== 'apply') {
      await settle(entry.message, await this.outcomeOf(topic, partition, entry, undefined));
      return true;
    }
    const span = this.spanOf(entry);
    const outcome = await context.with(trace.setSpan(this.parentOf(entry), span), () => this.applyWithRetries(entry, delivery, firstError));
    this.endSpans([entry], outcome);
    if (outcome === 'interrupted') return false;
    await settle(entry.message, outcome);
    return true;
  }

  /**
   * Applies a partition's chunk together with the chunks other partitions have ready at the same
   * moment (group commit: chunks handed over in the same turn of the event loop, or while a
   * transaction of this consumer's runs, go into one transaction). A chunk alone is tried as
   * without sharing (its result, failure included, is returned). 'alone' means a shared
   * transaction failed, or the chunk's partition went away before it ran: nothing of it was
   * applied, and the caller applies the chunk on its own.
   */
  private applyShared(entries: Decoded[], delivery: Delivery): Promise<SharedResult> {
    return this.shared.submit({ entries, delivery });
  }

  /** The shared transaction of what queued (GroupCommit's batch): one result per chunk. */
  private async runShared(waiting: readonly SharedChunk[]): Promise<Array<PromiseSettledResult<SharedResult>>> {
    const results = new Map<SharedChunk, PromiseSettledResult<SharedResult>>();
    const settled = (): Array<PromiseSettledResult<SharedResult>> => waiting.map((chunk) => results.get(chunk) ?? { status: 'fulfilled', value: 'alone' });
    const live = waiting.filter((chunk) => chunk.delivery.active());
    if (live.length === 0) return settled();
    if (live.length === 1) {
      const [only] = live;
      try {
        results.set(only, { status: 'fulfilled', value: await this.applyTogether(only.entries, only.delivery) });
      } catch (error) {
        results.set(only, { status: 'rejected', reason: error });
      }
      return settled();
    }
    // Once the shared transaction began, a partition taken away meanwhile still completes its
    // chunk (the new owner's inbox skips the redelivered events); stop() ends it after the event in
    // hand, and each chunk keeps the prefix of it that ran.
    const all: Delivery = { heartbeat: async () => undefined, active: () => !this.stopping };
    try {
      const result = await this.applyTogether(
        live.flatMap((chunk) => chunk.entries),
        all,
      );
      // A failed shared transaction: each chunk is applied on its own ('alone', the default).
      if (result instanceof ChunkFailure) return settled();
      this.sharing.transactions += 1;
      this.sharing.chunks += live.length;
      let before = 0;
      for (const chunk of live) {
        results.set(chunk, {
          status: 'fulfilled',
          value: { completed: Math.max(0, Math.min(chunk.entries.length, result.completed - before)), outcomes: result.outcomes },
        });
        before += chunk.entries.length;
      }
    } catch (error) {
      for (const chunk of live) results.set(chunk, { status: 'rejected', reason: error });
    }
    return settled();
  }

  /**
   * One try at a chunk in one transaction: once it committed, how many of its entries are final
   * (all, unless the consumer stopped between two handlers) and what became of each event; or
   * what failed it (the transaction rolled back: nothing of it was applied).
   */
  private async applyTogether(entries: Decoded[], delivery: Delivery): Promise<ChunkApplied | ChunkFailure> {
    const outcomes = new Map<Decoded, 'applied' | 'duplicate'>();
    const applies = entries.filter((entry): entry is Apply => entry.kind === 'apply');
    if (applies.length === 0) return { completed: entries.length, outcomes };
    for (const entry of applies) this.spanOf(entry);
    let failedAt: number | undefined;
    let completed = entries.length;
    // The transaction begins with the inbox's statement, in one round trip (beginWith); the
    // handlers run on its runner's manager, as in `dataSource.transaction`.
    const runner = this.options.dataSource.createQueryRunner('master');
    try {
      const fresh = await this.recordInInbox(runner, applies);
      const tx = runner.manager;
      const works = new Map<object, BatchWork>();
      const batch: InboxBatch = {
        work: <T extends BatchWork>(key: object, create: () => T): T => {
          let work = works.get(key);
          if (!work) {
            work = create();
            works.set(key, work);
          }
          return work as T;
        },
      };
      const unrun: string[] = [];
      for (const [index, entry] of entries.entries()) {
        if (entry.kind !== 'apply') continue;
        if (completed === entries.length && !delivery.active()) completed = index;
        if (completed < entries.length) {
          // Stopping: the chunk ends before this event; it is delivered again, so not recorded either.
          if (fresh.has(entry)) unrun.push(entry.event.envelope.id);
          continue;
        }
        if (!fresh.has(entry)) {
          outcomes.set(entry, 'duplicate');
          continue;
        }
        failedAt = index;
        // The handler runs inside the producer's trace (W3C context from the Kafka headers).
        await context.with(trace.setSpan(this.parentOf(entry), this.spanOf(entry)), () => entry.handler(entry.event, tx, batch));
        failedAt = undefined;
        outcomes.set(entry, 'applied');
      }
      if (unrun.length > 0) await tx.query('DELETE FROM inbox WHERE consumer = $1 AND event_id = ANY($2::uuid[])', [this.options.groupId, unrun]);
      // The last work may send its last statement with the COMMIT (BatchWork.beforeCommitAndCommit).
      const finishing = [...works.values()];
      const last = finishing.pop();
      for (const work of finishing) await work.beforeCommit();
      if (last?.beforeCommitAndCommit) await last.beforeCommitAndCommit(runner);
      else await last?.beforeCommit();
      if (runner.isTransactionActive) await runner.commitTransaction();
    } catch (error) {
      // Also when BEGIN or the inbox's statement failed (the runner is in its transaction once it was sent).
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      if (error instanceof BatchedEventError) {
        const at = entries.findIndex((entry) => entry.kind === 'apply' && entry.event.envelope.id === error.eventId);
        if (at >= 0) return new ChunkFailure(error.cause, at);
      }
      if (failedAt !== undefined) return new ChunkFailure(error, failedAt);
      // A connection error outside the handlers (connect, BEGIN, the inbox, COMMIT) is PostgreSQL's.
      if (unavailabilityOf(error)?.dependency === 'connection') {
        return new ChunkFailure(new DependencyUnavailableError('postgresql', (error as Error).message, { cause: error }), undefined);
      }
      return new ChunkFailure(error, undefined);
    } finally {
      await runner.release();
    }
    return { completed, outcomes };
  }

  /**
   * Begins the chunk's transaction on `runner` and records its events in the inbox, in one round
   * trip; returns those seen for the first time (a redelivery, or a second copy in the same chunk, is not).
   */
  private async recordInInbox(runner: QueryRunner, applies: Apply[]): Promise<Set<Decoded>> {
    const first = new Map<string, Apply>();
    for (const entry of applies) {
      const id = entry.event.envelope.id.toLowerCase();
      if (!first.has(id)) first.set(id, entry);
    }
    const rows = [...first.values()];
    const inserted = await beginWith<{ event_id: string }>(
      runner,
      INBOX_RECORD,
      [
        this.options.groupId,
        [...first.keys()],
        rows.map((entry) => entry.event.topic),
        rows.map((entry) => entry.event.partition),
        rows.map((entry) => entry.event.offset),
      ],
      this.options.plans ?? 'generic',
    );
    return new Set(inserted.map((row) => first.get(String(row.event_id).toLowerCase())).filter((entry): entry is Apply => entry !== undefined));
  }

  /** The message's consumer span, started the first time it is needed and kept across attempts. */
  private spanOf(entry: Apply): Span {
    entry.span ??= tracer('messaging').startSpan(
      `${entry.event.topic} process`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.destination.name': entry.event.topic,
          'messaging.consumer.group.name': this.options.groupId,
          'messaging.message.id': entry.event.envelope.id,
          'event.type': entry.event.envelope.type,
        },
      },
      this.parentOf(entry),
    );
    return entry.span;
  }

  private parentOf(entry: Apply): ReturnType<typeof contextFromHeaders> {
    return contextFromHeaders(entry.message.headers);
  }

  private endSpans(entries: Decoded[], outcome: MessageOutcome): void {
    for (const entry of entries) {
      if (entry.kind !== 'apply' || !entry.span) continue;
      if (outcome === 'dead-lettered' || outcome === 'interrupted') entry.span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
      entry.span.end();
      entry.span = undefined;
    }
  }

  /**
   * Applies one event in transactions of its own until it is applied, dead-lettered, or given up
   * (stopped while waiting for a dependency). `firstError`: its first attempt already failed so,
   * inside a chunk.
   */
  private async applyWithRetries(entry: Apply, delivery: Delivery, firstError?: unknown): Promise<MessageOutcome> {
    const { event, message } = entry;
    const blocked = new BlockedPartition(this.options.groupId, event, this.options.logger);
    let pending = firstError;
    try {
      for (let attempt = 1; ;) {
        let error = pending;
        pending = undefined;
        if (error === undefined) {
          const result = await this.withHeartbeat(delivery.heartbeat, () => this.applyTogether([entry], delivery));
          if (!(result instanceof ChunkFailure)) {
            // Stopped before the handler ran: nothing applied, delivered again.
            if (result.completed === 0) return 'interrupted';
            const outcome = result.outcomes.get(entry) ?? 'duplicate';
            if (outcome === 'applied') this.stats.applied += 1;
            else this.stats.duplicates += 1;
            blocked.recovered();
            return outcome;
          }
          error = result.error;
        }
        const unavailable = unavailabilityOf(error);
        if (unavailable) {
          // An outage, not this message's fault: no attempt counted; wait (jittered, capped) and retry.
          this.stats.unavailable += 1;
          const retries = blocked.failed(unavailable);
          const waitMs = backoffDelayMs(retries, { baseMs: this.retryBackoffMs, maxMs: this.unavailableBackoffMaxMs });
          if (!(await this.waitUnlessStopped(waitMs, delivery))) {
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
        await this.withHeartbeat(delivery.heartbeat, () =>
          sleep(backoffDelayMs(attempt, { baseMs: this.retryBackoffMs, maxMs: this.unavailableBackoffMaxMs })),
        );
        attempt += 1;
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
    const { value, redacted } = deadLetterValue(message.value);
    const extra = await this.options.deadLetterHeaders?.(message).catch((error: unknown) => {
      this.options.logger.warn({ topic, partition, offset: message.offset, reason: (error as Error).message }, 'no extra dead-letter headers');
      return undefined;
    });
    await this.options.publisher.sendRaw([
      {
        topic: deadLetterTopicOf(topic),
        messages: [
          {
            key: message.key,
            value,
            headers: {
              ...withoutCredentials(withReplaced(message.headers, extra)),
              'dlq-reason': safeReason,
              'dlq-redacted': String(redacted),
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

function withoutCredentials(headers: KafkaMessage['headers']): KafkaMessage['headers'] {
  if (!headers) return headers;
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !CREDENTIAL_HEADERS.includes(name.toLowerCase())));
}

/** What a gathering fetch waits for at most (or its time): far more than a chunk's events. */
const GATHER_BYTES = 1024 * 1024;

/** A chunk's events into the inbox, the new ones returned: every chunk runs it, so it is prepared once per connection. */
const INBOX_RECORD: NamedStatement = {
  name: 'inbox_record',
  text: `INSERT INTO inbox (consumer, event_id, topic, kafka_partition, kafka_offset)
       SELECT $1, e.event_id, e.topic, e.kafka_partition, e.kafka_offset
         FROM unnest($2::uuid[], $3::text[], $4::int[], $5::bigint[]) AS e(event_id, topic, kafka_partition, kafka_offset)
       ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id`,
};

function byTopic(offsets: readonly PartitionOffset[]): Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }> {
  const topics = new Map<string, Array<{ partition: number; offset: string }>>();
  for (const { topic, partition, offset } of offsets) topics.set(topic, [...(topics.get(topic) ?? []), { partition, offset }]);
  return [...topics].map(([topic, partitions]) => ({ topic, partitions }));
}

/** Partitions assigned to this member, from a GROUP_JOIN's assignment (topic -> partitions). */
function partitionCount(assignment: Record<string, number[]>): number {
  return Object.values(assignment).reduce((sum, partitions) => sum + partitions.length, 0);
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
        {
          ...this.attributes,
          offset: this.event.offset,
          eventId: this.event.envelope.id,
          type: this.event.envelope.type,
          dependency: this.dependency,
          reason,
          retries: this.retries,
          waitingMs: now - this.since,
        },
        'a dependency is unavailable: the message is retried until it answers, the partition waits (not dead-lettered)',
      );
    }
    return this.retries;
  }

  recovered(): void {
    if (this.since === undefined) return;
    this.logger.info(
      { ...this.attributes, eventId: this.event.envelope.id, dependency: this.dependency, retries: this.retries, waitedMs: Date.now() - this.since },
      'dependency available again: the waiting message was applied',
    );
  }

  abandoned(): void {
    this.logger.info(
      { ...this.attributes, eventId: this.event.envelope.id, dependency: this.dependency, retries: this.retries },
      'stopped while the message waited for a dependency: not committed, it is delivered again',
    );
  }

  /** Back to 0 once the message is applied, given up or dead-lettered. */
  clear(): void {
    if (this.dependency) platformMetrics().consumerBlocked.set(0, { ...this.attributes, dependency: this.dependency });
  }
}

/** The headers with `replaced`'s in place of those of the same name (undefined: removed). */
function withReplaced(headers: KafkaMessage['headers'], replaced: Record<string, string | undefined> | undefined): KafkaMessage['headers'] {
  if (!replaced) return headers;
  const names = new Set(Object.keys(replaced).map((name) => name.toLowerCase()));
  const kept = Object.entries(headers ?? {}).filter(([name]) => !names.has(name.toLowerCase()));
  const added = Object.entries(replaced).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return Object.fromEntries([...kept, ...added]);
}
