import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import type { EventEnvelope } from '@pay/contracts';
import { FundsReservedV1, PaymentCapturedV1, PaymentRefundedV1, PurchaseRequestedV1, WalletOpenedV1 } from '@pay/contracts';
import { createLogger } from '@pay/observability';
import type { Kafka } from 'kafkajs';
import { of, throwError } from 'rxjs';
import type { DataSource, EntityManager } from 'typeorm';
import { runnerOf } from '@pay/sql';
import type { EventPublisher } from '../kafka/event-publisher';
import { DependencyUnavailableError } from './dependency-unavailable';
import type { ConsumedEvent, ConsumerStats, InboxBatch, InboxConsumerOptions } from './inbox-consumer';
import { PermanentEventError } from './inbox-consumer';
import type { InboxSubscription, InboxTransportOptions, SubscriptionConsumer } from './inbox-transport';
import { connectInboxTransport, InboxContext, InboxTransport } from './inbox-transport';

/** A consumer that records what it was given and starts as the test says; no Kafka, no PostgreSQL. */
class StandInConsumer implements SubscriptionConsumer {
  readonly stats: ConsumerStats = { applied: 0, duplicates: 0, ignored: 0, deadLettered: 0, unavailable: 0 };
  started = false;
  stopped = false;

  constructor(
    readonly options: InboxConsumerOptions,
    private readonly starting: () => Promise<void>,
  ) {}

  async start(): Promise<void> {
    await this.starting();
    this.started = true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.resolve();
  }
}

/** Collects log lines as JSON objects. */
function capturedLogs(): { lines: Array<Record<string, unknown>>; logger: ReturnType<typeof createLogger> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger('inbox-transport-spec', 'info', { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { lines, logger };
}

function transportWith(
  subscriptions: InboxSubscription[],
  overrides: Partial<InboxTransportOptions> = {},
): { transport: InboxTransport; consumers: StandInConsumer[] } {
  const consumers: StandInConsumer[] = [];
  const transport = new InboxTransport({
    kafka: {} as Kafka,
    dataSource: {} as DataSource,
    publisher: {} as EventPublisher,
    logger: capturedLogs().logger,
    subscriptions,
    createConsumer: (options) => {
      const consumer = new StandInConsumer(options, () => Promise.resolve());
      consumers.push(consumer);
      return consumer;
    },
    ...overrides,
  });
  return { transport, consumers };
}

function consumed(type: string, data: object = {}): ConsumedEvent {
  const envelope = { id: '00000000-0000-4000-8000-000000000001', type, version: 1, subject: 's', data } as unknown as EventEnvelope;
  return { envelope, topic: 't', partition: 0, offset: '7' };
}

const tx = { name: 'the inbox transaction', queryRunner: { name: 'its query runner' } } as unknown as EntityManager;
const batch: InboxBatch = { work: (_key, create) => create() };

type Seen = Array<{ method: string; event: ConsumedEvent; tx: EntityManager; batch: InboxBatch; runner?: unknown }>;
const seen: Seen = [];

@Controller()
class PaymentsLedgerHandlers {
  @EventPattern(PaymentCapturedV1.type)
  captured(@Payload() event: ConsumedEvent, @Ctx() context: InboxContext): void {
    seen.push({ method: 'captured', event, tx: context.getTransaction(), batch: context.getBatch(), runner: runnerOf(context.getSql()) });
  }

  @EventPattern(PaymentRefundedV1.type)
  async refunded(@Payload() event: ConsumedEvent): Promise<void> {
    await Promise.resolve();
    if ((event.envelope.data as { fail?: string }).fail === 'permanent') throw new PermanentEventError('refund larger than the capture');
    if ((event.envelope.data as { fail?: string }).fail === 'outage') throw new DependencyUnavailableError('ledger', 'chain lock timeout');
    throw new TypeError('a bug');
  }
}

@Controller()
class WalletEventHandlers {
  @EventPattern([WalletOpenedV1.type, FundsReservedV1.type], { subscription: 'wallet-events' })
  walletEvent(@Payload() event: ConsumedEvent, @Ctx() context: InboxContext): unknown {
    seen.push({ method: 'walletEvent', event, tx: context.getTransaction(), batch: context.getBatch() });
    if ((event.envelope.data as { fail?: boolean }).fail) return throwError(() => new PermanentEventError('from an observable'));
    return of('ignored result');
  }

  @EventPattern(PurchaseRequestedV1.type, { subscription: 'purchase-requests' })
  purchaseRequested(@Payload() event: ConsumedEvent): void {
    seen.push({ method: 'purchaseRequested', event, tx, batch });
  }
}

async function appWith(controllers: Array<new (...args: never[]) => unknown>, transport: InboxTransport): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ controllers }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  connectInboxTransport(app, transport);
  await app.init();
  await app.startAllMicroservices();
  return app;
}

describe('InboxTransport: @EventPattern handlers become the InboxConsumer handlers of their subscription', () => {
  beforeEach(() => {
    seen.length = 0;
  });

  it('gives each handler the event as payload and the transaction and batch through InboxContext', async () => {
    const { transport, consumers } = transportWith([
      {
        name: 'payments-ledger',
        groupId: 'wallet.payments-ledger',
        topics: ['payments.events.v1'],
        options: { partitionsConsumedConcurrently: 2, maxEventsPerTransaction: 100 },
      },
    ]);
    const app = await appWith([PaymentsLedgerHandlers], transport);
    try {
      expect(consumers).toHaveLength(1);
      const [consumer] = consumers;
      expect(consumer.options).toMatchObject({
        groupId: 'wallet.payments-ledger',
        topics: ['payments.events.v1'],
        partitionsConsumedConcurrently: 2,
        maxEventsPerTransaction: 100,
      });
      expect(Object.keys(consumer.options.handlers).sort()).toEqual([PaymentCapturedV1.type, PaymentRefundedV1.type].sort());

      const event = consumed(PaymentCapturedV1.type);
      await consumer.options.handlers[PaymentCapturedV1.type](event, tx, batch);
      // getSql(): the same transaction as the one Sql interface, on its query runner.
      expect(seen).toEqual([{ method: 'captured', event, tx, batch, runner: tx.queryRunner }]);
    } finally {
      await app.close();
    }
  });

  it("hands a handler's error to the InboxConsumer as thrown, so it can tell permanent, outage and transient apart", async () => {
    const { transport, consumers } = transportWith([{ name: 'payments-ledger', groupId: 'g', topics: ['t'] }]);
    const app = await appWith([PaymentsLedgerHandlers], transport);
    try {
      const refunded = consumers[0].options.handlers[PaymentRefundedV1.type];
      await expect(refunded(consumed(PaymentRefundedV1.type, { fail: 'permanent' }), tx, batch)).rejects.toBeInstanceOf(PermanentEventError);
      await expect(refunded(consumed(PaymentRefundedV1.type, { fail: 'outage' }), tx, batch)).rejects.toMatchObject({
        name: 'DependencyUnavailableError',
        dependency: 'ledger',
      });
      await expect(refunded(consumed(PaymentRefundedV1.type), tx, batch)).rejects.toBeInstanceOf(TypeError);
    } finally {
      await app.close();
    }
  });

  it('routes each handler to the subscription its extras name, and awaits an Observable result', async () => {
    const { transport, consumers } = transportWith([
      { name: 'purchase-requests', groupId: 'orchestration.purchase-requests', topics: ['payments.purchase-requests.v1'] },
      { name: 'wallet-events', groupId: 'orchestration.wallet-events', topics: ['wallet.events.v1'] },
    ]);
    const app = await appWith([WalletEventHandlers], transport);
    try {
      const byGroup = new Map(consumers.map((consumer) => [consumer.options.groupId, Object.keys(consumer.options.handlers).sort()]));
      expect(byGroup).toEqual(
        new Map([
          ['orchestration.purchase-requests', [PurchaseRequestedV1.type]],
          ['orchestration.wallet-events', [FundsReservedV1.type, WalletOpenedV1.type].sort()],
        ]),
      );
      const wallet = consumers.find((consumer) => consumer.options.groupId === 'orchestration.wallet-events')!;
      await wallet.options.handlers[WalletOpenedV1.type](consumed(WalletOpenedV1.type), tx, batch);
      expect(seen.map((entry) => entry.method)).toEqual(['walletEvent']);
      await expect(wallet.options.handlers[FundsReservedV1.type](consumed(FundsReservedV1.type, { fail: true }), tx, batch)).rejects.toBeInstanceOf(
        PermanentEventError,
      );
    } finally {
      await app.close();
    }
  });

  it('refuses, at start-up, handlers it could not route', async () => {
    const twoSubscriptions = [
      { name: 'a', groupId: 'a', topics: ['a'] },
      { name: 'b', groupId: 'b', topics: ['b'] },
    ];
    await expect(appWith([PaymentsLedgerHandlers], transportWith(twoSubscriptions).transport)).rejects.toThrow(/say which subscription applies it/);
    await expect(appWith([PaymentsLedgerHandlers], transportWith([]).transport)).rejects.toThrow(/declares no inbox subscription/);
    await expect(appWith([WalletEventHandlers], transportWith([{ name: 'wallet-events', groupId: 'g', topics: ['t'] }]).transport)).rejects.toThrow(
      /no subscription named "purchase-requests"/,
    );

    @Controller()
    class Typo {
      @EventPattern('payments.payment.capturd')
      handle(): void {}
    }
    await expect(appWith([Typo], transportWith([{ name: 'a', groupId: 'a', topics: ['a'] }]).transport)).rejects.toThrow(/no event of this type is defined/);

    @Controller()
    class Twice {
      @EventPattern(PaymentCapturedV1.type)
      one(): void {}

      @EventPattern(PaymentCapturedV1.type)
      two(): void {}
    }
    await expect(appWith([Twice], transportWith([{ name: 'a', groupId: 'a', topics: ['a'] }]).transport)).rejects.toThrow(
      /already has a handler for this type/,
    );

    @Controller()
    class RequestReply {
      @MessagePattern(PaymentCapturedV1.type)
      handle(): string {
        return 'reply';
      }
    }
    await expect(appWith([RequestReply], transportWith([{ name: 'a', groupId: 'a', topics: ['a'] }]).transport)).rejects.toThrow(/delivers events only/);
  });

  it('refuses a subscription without handlers, and does not consume a disabled one', async () => {
    const empty = transportWith([
      { name: 'payments-ledger', groupId: 'g', topics: ['t'] },
      { name: 'idle', groupId: 'i', topics: ['i'] },
    ]);
    @Controller()
    class Ledger {
      @EventPattern(PaymentCapturedV1.type, { subscription: 'payments-ledger' })
      handle(): void {}
    }
    await expect(appWith([Ledger], empty.transport)).rejects.toThrow(/"idle" has no @EventPattern handler/);

    const disabled = transportWith([{ name: 'payments-ledger', groupId: 'g', topics: ['t'], enabled: false }]);
    const app = await appWith([PaymentsLedgerHandlers], disabled.transport);
    await app.close();
    expect(disabled.consumers).toEqual([]);
  });
});

describe('InboxTransport: one start policy', () => {
  const subscription: InboxSubscription = { name: 'history', groupId: 'history-projection', topics: ['payments.events.v1'] };

  /** A transport whose consumers fail to start `failures` times, then start when `joined` is resolved. */
  function flakyTransport(failures: number): {
    transport: InboxTransport;
    consumers: StandInConsumer[];
    lines: Array<Record<string, unknown>>;
    join: () => void;
    joining: Promise<void>;
  } {
    const { lines, logger } = capturedLogs();
    const consumers: StandInConsumer[] = [];
    let join!: () => void;
    const joined = new Promise<void>((resolve) => (join = resolve));
    let notifyJoining!: () => void;
    const joining = new Promise<void>((resolve) => (notifyJoining = resolve));
    const transport = new InboxTransport({
      kafka: {} as Kafka,
      dataSource: {} as DataSource,
      publisher: {} as EventPublisher,
      logger,
      subscriptions: [subscription],
      startBackoff: { baseMs: 1, maxMs: 4 },
      createConsumer: (options) => {
        const attempt = consumers.length + 1;
        const consumer = new StandInConsumer(options, async () => {
          if (attempt <= failures) throw new Error(`broker not reachable (attempt ${attempt})`);
          notifyJoining();
          await joined;
        });
        consumers.push(consumer);
        return consumer;
      },
    });
    transport.addHandler(PaymentCapturedV1.type, () => Promise.resolve(), true);
    return { transport, consumers, lines, join, joining };
  }

  /** Resolves once `condition` holds, checked after each turn of the event loop (no I/O here: a few turns). */
  function until(condition: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      let turns = 0;
      const check = (): void => {
        if (condition()) resolve();
        else if ((turns += 1) > 10_000) reject(new Error('condition never held'));
        else setImmediate(check);
      };
      check();
    });
  }

  function listen(transport: InboxTransport): Promise<void> {
    return new Promise((resolve, reject) => transport.listen((error) => (error ? reject(error) : resolve())));
  }

  it('returns from listen before the consumer has joined, and retries a failed start, logging each failure once', async () => {
    const { transport, consumers, lines, join, joining } = flakyTransport(2);
    await listen(transport);
    await joining;
    expect(consumers.map((consumer) => consumer.started)).toEqual([false, false, false]);
    join();
    await until(() => lines.some((line) => line.msg === 'consumer started'));
    await transport.close();
    expect(consumers[2].started).toBe(true);
    // Each failed consumer was stopped (its half-open connections closed), and the running one on close.
    expect(consumers.map((consumer) => consumer.stopped)).toEqual([true, true, true]);
    const failures = lines.filter((line) => line.msg === 'consumer could not start; retrying');
    expect(failures.map((line) => [line.attempt, line.reason])).toEqual([
      [1, 'broker not reachable (attempt 1)'],
      [2, 'broker not reachable (attempt 2)'],
    ]);
    for (const line of failures) expect(line.retryInMs).toBeLessThanOrEqual(4);
    expect(lines.filter((line) => line.msg === 'consumer started')).toHaveLength(1);
  });

  it('on close, stops retrying at once and stops the consumer that is running', async () => {
    const { lines, logger } = capturedLogs();
    const consumers: StandInConsumer[] = [];
    const transport = new InboxTransport({
      kafka: {} as Kafka,
      dataSource: {} as DataSource,
      publisher: {} as EventPublisher,
      logger,
      subscriptions: [subscription],
      // A long pause: close() must not wait for it.
      startBackoff: { baseMs: 3_600_000, maxMs: 3_600_000 },
      createConsumer: (options) => {
        const consumer = new StandInConsumer(options, () => Promise.reject(new Error('no broker')));
        consumers.push(consumer);
        return consumer;
      },
    });
    transport.addHandler(PaymentCapturedV1.type, () => Promise.resolve(), true);
    await listen(transport);
    await until(() => lines.some((line) => line.msg === 'consumer could not start; retrying'));
    await transport.close();
    expect(consumers).toHaveLength(1);
    expect(consumers[0].stopped).toBe(true);
    // close() is idempotent (Nest calls it again when the application is disposed).
    await transport.close();
  });

  it('reports the stats of the running consumer, zeros before it exists', async () => {
    const { transport, join, joining, consumers } = flakyTransport(0);
    expect(transport.stats('history')).toEqual({ applied: 0, duplicates: 0, ignored: 0, deadLettered: 0, unavailable: 0 });
    await listen(transport);
    await joining;
    consumers[0].stats.applied = 3;
    expect(transport.stats('history').applied).toBe(3);
    join();
    await transport.close();
  });
});
