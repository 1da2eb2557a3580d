import type { ArgumentsHost, INestApplication, INestMicroservice, RpcExceptionFilter } from '@nestjs/common';
import { Catch } from '@nestjs/common';
import type { CustomStrategy, CustomTransportStrategy, MessageHandler, NestMicroservice } from '@nestjs/microservices';
import { BaseRpcContext, Server } from '@nestjs/microservices';
import { eventDefinitions } from '@pay/contracts';
import type { Logger } from '@pay/observability';
import type { Kafka } from 'kafkajs';
import type { Sql } from '@pay/sql';
import { sqlOfTransaction } from '@pay/sql';
import type { Observable } from 'rxjs';
import { isObservable, lastValueFrom, throwError } from 'rxjs';
import type { DataSource, EntityManager } from 'typeorm';
import type { EventPublisher } from '../kafka/event-publisher';
import type { BackoffPolicy } from '../retry/backoff';
import { backoffDelayMs } from '../retry/backoff';
import type { ConsumedEvent, ConsumerStats, EventHandler, InboxBatch, InboxConsumerOptions } from './inbox-consumer';
import { InboxConsumer } from './inbox-consumer';
import type { GroupMemberIds } from './instance-memberships';

/** How an InboxConsumer of a subscription may be tuned (the rest is the transport's). */
export type InboxSubscriptionOptions = Pick<
  InboxConsumerOptions,
  | 'maxAttempts'
  | 'retryBackoffMs'
  | 'unavailableBackoffMaxMs'
  | 'maxEventsPerTransaction'
  | 'partitionsConsumedConcurrently'
  | 'heartbeatIntervalMs'
  | 'fromBeginning'
  | 'sessionTimeoutMs'
  | 'gatherMs'
  | 'offsetCommitIntervalMs'
  | 'deadLetterHeaders'
>;

/** One consumer group of a service: the topics it reads, applied exactly once by an InboxConsumer. */
export interface InboxSubscription {
  /** Names it in `@EventPattern(type, { subscription })` (needed when a service has several) and in stats. */
  readonly name: string;
  /** Consumer group, and the inbox's consumer name. */
  readonly groupId: string;
  readonly topics: readonly string[];
  /** false: its handlers are declared but nothing is consumed (a replica that only serves queries). */
  readonly enabled?: boolean;
  readonly options?: InboxSubscriptionOptions;
}

/** The extras of `@EventPattern(type, extras)` this transport reads. */
export interface InboxPatternExtras {
  /** The subscription whose consumer applies the event; may be left out when the service has one. */
  readonly subscription?: string;
}

/**
 * The second argument of an `@EventPattern` handler (`@Ctx()`); the first (`@Payload()`) is the
 * ConsumedEvent. The handler runs inside the inbox's transaction: write its effects through
 * `getSql()`, throw to roll them back (a PermanentEventError dead-letters the event at
 * once, a DependencyUnavailableError makes it wait for the dependency).
 */
export class InboxContext extends BaseRpcContext<[ConsumedEvent, EntityManager, InboxBatch]> {
  getEvent(): ConsumedEvent {
    return this.args[0];
  }

  /** The inbox's transaction: the event's inbox row commits with whatever the handler writes here. */
  getTransaction(): EntityManager {
    return this.args[1];
  }

  /** The inbox's transaction as the one SQL interface (`Sql`, libs/sql): what handlers write through. */
  getSql(): Sql {
    return sqlOfTransaction(this.args[1]);
  }

  /** Work shared by the handlers of the events applied in the same transaction (InboxBatch.work). */
  getBatch(): InboxBatch {
    return this.args[2];
  }
}

/** What the transport needs of a consumer: the InboxConsumer, or a stand-in in unit tests. */
export type SubscriptionConsumer = Pick<InboxConsumer, 'start' | 'stop' | 'stats'>;

export interface InboxTransportOptions {
  kafka: Kafka;
  dataSource: DataSource;
  /** Publishes dead letters. */
  publisher: EventPublisher;
  logger: Logger;
  subscriptions: readonly InboxSubscription[];
  /** Delay between failed starts of a subscription's consumer (default 1 s doubling up to 30 s, jittered). */
  startBackoff?: BackoffPolicy;
  /** The instance's member ids across process restarts (InstanceMemberships); none: consumers join as new members. */
  memberIds?: GroupMemberIds;
  /** Makes a subscription's consumer (an InboxConsumer by default). */
  createConsumer?: (options: InboxConsumerOptions) => SubscriptionConsumer;
}

/** Nest's handlers of `@EventPattern` methods are registered on transports with this id (or none). */
export const INBOX_TRANSPORT = Symbol('inbox');

const DEFAULT_START_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 30_000 };
const NO_STATS: ConsumerStats = Object.freeze({ applied: 0, duplicates: 0, ignored: 0, deadLettered: 0, unavailable: 0 });

/**
 * The one consumer lifecycle of every service, as a NestJS custom transport: controller methods
 * declared with `@EventPattern('<event type>')` become the handlers of an InboxConsumer per
 * subscription (exactly once: inbox row and effects in one transaction, offsets committed after
 * it, poison messages to the DLQ). Nest neither commits nor retries anything here
 * (nestjs/nest#14664): the InboxConsumer does.
 *
 * `listen` returns at once and starts the consumers in the background: joining a group can wait
 * for a rebalance, and HTTP need not wait for it (committed offsets make sure nothing is missed
 * meanwhile). A start that fails is retried with capped, jittered backoff, logged once per
 * failure. `close` stops them after the messages in hand, committing what was applied; the
 * platform calls it before any other shutdown hook, so before pools and the ledger close.
 */
export class InboxTransport extends Server implements CustomTransportStrategy {
  override readonly transportId = INBOX_TRANSPORT;
  /** Handlers by subscription name, then by event type. */
  private readonly routes = new Map<string, Map<string, EventHandler>>();
  private readonly consumers = new Map<string, SubscriptionConsumer>();
  private readonly knownTypes: Set<string>;
  private closing = false;
  private closed?: Promise<void>;
  private readonly pauses = new Set<() => void>();

  constructor(private readonly options: InboxTransportOptions) {
    super();
    const names = new Set<string>();
    for (const subscription of options.subscriptions) {
      if (names.has(subscription.name)) throw new Error(`inbox subscription "${subscription.name}" is declared twice`);
      names.add(subscription.name);
      this.routes.set(subscription.name, new Map());
    }
    this.knownTypes = new Set(eventDefinitions().map((definition) => definition.type));
  }

  /**
   * Called by Nest for each `@EventPattern` pattern found on a controller: files the handler under
   * its subscription and event type. A pattern that is not a registered event type, names no or an
   * unknown subscription, or is handled twice in one subscription fails the start-up here.
   */
  override addHandler(pattern: unknown, callback: MessageHandler, isEventHandler = false, extras: InboxPatternExtras = {}): void {
    const where = `@EventPattern(${JSON.stringify(pattern)})`;
    if (!isEventHandler) throw new Error(`${where}: the inbox transport delivers events only; use @EventPattern, not @MessagePattern`);
    if (typeof pattern !== 'string') throw new Error(`${where}: the pattern must be an event type (a string), e.g. PaymentCapturedV1.type`);
    if (!this.knownTypes.has(pattern)) throw new Error(`${where}: no event of this type is defined in @pay/contracts`);
    const name = extras.subscription ?? this.onlySubscription(where);
    const handlers = this.routes.get(name);
    if (!handlers) throw new Error(`${where}: no subscription named "${name}"; this service declares: ${[...this.routes.keys()].join(', ') || 'none'}`);
    if (handlers.has(pattern)) throw new Error(`${where}: the subscription "${name}" already has a handler for this type`);
    handlers.set(pattern, toEventHandler(callback));
  }

  private onlySubscription(where: string): string {
    if (this.routes.size === 1) return [...this.routes.keys()][0];
    throw new Error(
      this.routes.size === 0
        ? `${where}: this service declares no inbox subscription (ServiceDefinition.consumers)`
        : `${where}: say which subscription applies it, e.g. { subscription: '${[...this.routes.keys()][0]}' }; this service declares: ${[...this.routes.keys()].join(', ')}`,
    );
  }

  /** The handlers filed for a subscription, by event type (what its InboxConsumer is given). */
  handlersOf(subscription: string): Record<string, EventHandler> {
    return Object.fromEntries(this.routes.get(subscription) ?? []);
  }

  /** What the subscription's consumer did so far (zeros before it started). */
  stats(subscription: string): ConsumerStats {
    return this.consumers.get(subscription)?.stats ?? NO_STATS;
  }

  listen(callback: (error?: Error) => void): void {
    for (const subscription of this.options.subscriptions) {
      if ((subscription.enabled ?? true) && this.routes.get(subscription.name)?.size === 0) {
        callback(new Error(`inbox subscription "${subscription.name}" has no @EventPattern handler: it would acknowledge every event unread`));
        return;
      }
    }
    for (const subscription of this.options.subscriptions) {
      if (subscription.enabled ?? true) void this.keepStarting(subscription);
      else
        this.options.logger.info({ consumer: subscription.name, groupId: subscription.groupId }, 'consumer disabled: this instance applies none of its events');
    }
    callback();
  }

  /** Starts the subscription's consumer, retrying a failed start until it runs or the transport closes. */
  private async keepStarting(subscription: InboxSubscription): Promise<void> {
    const { name, groupId } = subscription;
    const topics = [...subscription.topics];
    const create = this.options.createConsumer ?? ((options: InboxConsumerOptions) => new InboxConsumer(options));
    for (let attempt = 1; !this.closing; attempt += 1) {
      const consumer = create({
        ...subscription.options,
        groupId,
        topics,
        handlers: this.handlersOf(name),
        kafka: this.options.kafka,
        dataSource: this.options.dataSource,
        publisher: this.options.publisher,
        logger: this.options.logger,
        memberIds: this.options.memberIds,
      });
      this.consumers.set(name, consumer);
      try {
        await consumer.start();
        if (!this.closing) this.options.logger.info({ consumer: name, groupId, topics }, 'consumer started');
        return;
      } catch (error) {
        await consumer.stop().catch(() => undefined);
        if (this.closing) return;
        const retryInMs = Math.round(backoffDelayMs(attempt, this.options.startBackoff ?? DEFAULT_START_BACKOFF));
        this.options.logger.error(
          { consumer: name, groupId, topics, attempt, retryInMs, reason: (error as Error).message },
          'consumer could not start; retrying',
        );
        await this.pause(retryInMs);
      }
    }
  }

  /** Stops every consumer after the messages in hand, their offsets committed; idempotent. */
  close(): Promise<void> {
    this.closed ??= this.stopAll();
    return this.closed;
  }

  private async stopAll(): Promise<void> {
    this.closing = true;
    for (const wake of this.pauses) wake();
    // A consumer still starting is stopped too: InboxConsumer.stop lets its join finish in the
    // background and leaves the group then, without holding the shutdown for a rebalance.
    await Promise.all(
      [...this.consumers].map(([name, consumer]) =>
        consumer
          .stop()
          .catch((error: unknown) => this.options.logger.warn({ consumer: name, reason: (error as Error).message }, 'consumer did not stop cleanly')),
      ),
    );
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.pauses.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.pauses.add(wake);
    });
  }

  on(): never {
    throw new Error("the inbox transport emits no events; read its consumers' stats or metrics");
  }

  unwrap<T>(): T {
    return this.consumers as T;
  }
}

/**
 * The InboxConsumer's handler for a Nest handler: the event as payload, an InboxContext as
 * context; the result is awaited (a Promise or an Observable) so that a failure reaches the
 * InboxConsumer and rolls the transaction back.
 */
function toEventHandler(callback: MessageHandler): EventHandler {
  return async (event, tx, batch) => {
    const result: unknown = await callback(event, new InboxContext([event, tx, batch]));
    if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined }).catch(rethrowAsError);
  };
}

function rethrowAsError(error: unknown): never {
  if (error instanceof Error) throw error;
  // Nest's default filter replaces an error by { status, message }: only if the transport was connected without InboxErrors.
  throw new Error(`the handler failed: ${JSON.stringify(error)}`);
}

/**
 * Hands a handler's error to the InboxConsumer as it was thrown. Nest's default filter would
 * replace it by `{ status: 'error', message: 'Internal server error' }`, and the consumer could no
 * longer tell a permanent failure (dead-letter now) from an outage (wait) or a transient one (retry).
 */
@Catch()
export class InboxErrors implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => exception);
  }
}

/**
 * Connects the transport to the application (`app.connectMicroservice`), with InboxErrors as its
 * only global filter; `app.startAllMicroservices()` then starts it. Call before `app.init()`.
 */
export function connectInboxTransport(app: INestApplication, transport: InboxTransport): INestMicroservice {
  // Deferred so that the filter is in place before Nest wraps the handlers; the rest is what
  // connectMicroservice does itself, and the app's own init runs the lifecycle hooks once.
  const microservice = app.connectMicroservice<CustomStrategy>({ strategy: transport }, { deferInitialization: true }) as NestMicroservice;
  microservice.useGlobalFilters(new InboxErrors());
  microservice.registerListeners();
  microservice.setIsInitialized(true);
  microservice.setIsInitHookCalled(true);
  return microservice;
}
