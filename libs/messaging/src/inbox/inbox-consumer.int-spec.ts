import type { EventEnvelope } from '@pay/contracts';
import { createEvent, deadLetterTopicOf, defineEvent, serializeEvent } from '@pay/contracts';
import { createLogger } from '@pay/observability';
import type { TestSchema } from '@pay/testing';
import { createTestSchema, createTestTopics, deleteTestTopics, testKafka, uniqueName, waitFor } from '@pay/testing';
import type { NamedStatement } from '@pay/platform';
import { commitWith, createServiceDataSource } from '@pay/platform';
import { Client as PgClient } from 'pg';
import { IsInt, Min } from 'class-validator';
import type { KafkaMessage } from 'kafkajs';
import type { Server, Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import type { EntityManager, MigrationInterface, QueryRunner } from 'typeorm';
import { EventPublisher } from '../kafka/event-publisher';
import { DependencyUnavailableError } from './dependency-unavailable';
import type { InboxConsumerOptions } from './inbox-consumer';
import type { BatchWork } from './inbox-consumer';
import { BatchedEventError, InboxConsumer, PermanentEventError } from './inbox-consumer';
import { INBOX_TABLE_SQL } from './inbox.schema';

class ItemCounted {
  @IsInt()
  @Min(0)
  quantity!: number;
}

const topicName = (): string => uniqueName('it.items').replace(/_/g, '-');
const ItemCountedV1 = defineEvent({ type: 'test.item.counted', version: 1, topic: 'it.items', dataClass: ItemCounted, description: 'test event' });
// A type the consumers below do not handle: acknowledged unread.
const ItemShelvedV1 = defineEvent({ type: 'test.item.shelved', version: 1, topic: 'it.items', dataClass: ItemCounted, description: 'test event' });

class CreateTestTables1700000000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(INBOX_TABLE_SQL);
    // Counts how often each event's effect was applied: exactly once is the contract.
    await runner.query('CREATE TABLE applied (event_id uuid PRIMARY KEY, times integer NOT NULL, quantity integer NOT NULL)');
  }
  async down(): Promise<void> {}
}

const logger = createLogger('messaging-test', process.env.IT_LOG_LEVEL ?? 'silent');

function item(quantity: number): EventEnvelope<ItemCounted> {
  return createEvent({ definition: ItemCountedV1, source: 'wallet', subject: `item-${quantity % 7}`, sequence: quantity + 1, data: { quantity } });
}

describe('InboxConsumer against real Kafka and PostgreSQL', () => {
  let db: TestSchema;
  let publisher: EventPublisher;
  const kafka = testKafka();
  const topics: string[] = [];
  // Each test reads its own topic from the beginning, so no test sees another's messages.
  let topic = '';

  beforeEach(async () => {
    topic = topicName();
    topics.push(topic, deadLetterTopicOf(topic));
    await createTestTopics([topic, deadLetterTopicOf(topic)], 3);
    await db.dataSource.query('TRUNCATE applied');
  });

  beforeAll(async () => {
    db = await createTestSchema('it_inbox', [CreateTestTables1700000000000]);
    publisher = new EventPublisher(kafka);
    await publisher.connect();
  });

  afterAll(async () => {
    await publisher.disconnect();
    await deleteTestTopics(topics);
    await db.drop();
  });

  const appliedRows = async (): Promise<{ event_id: string; times: number }[]> => db.dataSource.query('SELECT event_id, times FROM applied ORDER BY event_id');

  function consumer(
    groupId: string,
    handler?: (quantity: number, tx: EntityManager) => Promise<void>,
    options: Partial<InboxConsumerOptions> = {},
  ): InboxConsumer {
    return new InboxConsumer({
      groupId,
      topics: [topic],
      kafka,
      dataSource: db.dataSource,
      publisher,
      logger,
      maxAttempts: 3,
      retryBackoffMs: 10,
      ...options,
      handlers: {
        [ItemCountedV1.type]: async (event, tx) => {
          const { quantity } = event.envelope.data as ItemCounted;
          await handler?.(quantity, tx);
          await tx.query(
            `INSERT INTO applied (event_id, times, quantity) VALUES ($1, 1, $2)
             ON CONFLICT (event_id) DO UPDATE SET times = applied.times + 1`,
            [event.envelope.id, quantity],
          );
        },
      },
    });
  }

  it('applies each event exactly once when Kafka delivers it twice and the consumer stops mid-batch', async () => {
    const events = Array.from({ length: 60 }, (_, i) => item(i));
    // Every event is published twice: the second copy is a redelivery with the same id.
    await publisher.publish([...events, ...events].map((envelope) => ({ topic, envelope })));

    const groupId = uniqueName('it-exactly-once');
    let seen = 0;
    const first = consumer(groupId, async () => {
      seen += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
    });
    await first.start();
    await waitFor(
      async () => seen,
      (n) => n >= 15,
    );
    await first.stop(); // mid-batch: the rest of the batch was never applied
    const afterStop = await appliedRows();
    expect(afterStop.length).toBeGreaterThan(0);
    expect(afterStop.length).toBeLessThan(events.length);

    const second = consumer(groupId);
    await second.start();
    try {
      const rows = await waitFor(appliedRows, (r) => r.length === events.length);
      expect(rows.every((row) => row.times === 1)).toBe(true);
      expect(new Set(rows.map((r) => r.event_id))).toEqual(new Set(events.map((e) => e.id)));
      const inbox: { n: string }[] = await db.dataSource.query('SELECT count(*) AS n FROM inbox WHERE consumer = $1', [groupId]);
      expect(Number(inbox[0].n)).toBe(events.length);
    } finally {
      await second.stop();
    }
  });

  it('sends malformed and failing messages to the dead-letter topic with a reason, and goes on', async () => {
    const before = item(1);
    const after = item(2);
    const poison = item(666);
    const dlqMessages: KafkaMessage[] = [];
    const dlqConsumer = kafka.consumer({ groupId: uniqueName('it-dlq-reader') });
    await dlqConsumer.connect();
    await dlqConsumer.subscribe({ topic: deadLetterTopicOf(topic), fromBeginning: true });
    await dlqConsumer.run({ eachMessage: async ({ message }) => void dlqMessages.push(message) });

    const producer = kafka.producer();
    await producer.connect();
    const key = 'item-1'; // same key, so all land on one partition in this order
    // A dead letter must not copy secrets or contact details: this one carries both.
    // Wrong in the envelope and in the data: the reason names every problem, not the first.
    const badAmount = {
      ...JSON.parse(serializeEvent(item(3))),
      occurredAt: 'yesterday',
      data: { quantity: -5, stepUpProof: 'proof-secret-123', note: 'call ana@example.com' },
    };
    await producer.send({
      topic,
      messages: [
        { key, value: serializeEvent(before) },
        { key, value: '{not json' },
        { key, value: JSON.stringify(badAmount) },
        { key, value: JSON.stringify({ ...JSON.parse(serializeEvent(item(4))), type: 'test.item.unknown' }) },
        { key, value: serializeEvent(poison) },
        { key, value: serializeEvent(after) },
      ],
    });
    await producer.disconnect();

    const tries = new Map<number, number>();
    const worker = consumer(uniqueName('it-dlq'), async (quantity) => {
      tries.set(quantity, (tries.get(quantity) ?? 0) + 1);
      if (quantity === 666) throw new Error('downstream refused item 666');
    });
    await worker.start();
    try {
      const rows = await waitFor(appliedRows, (r) => r.length === 2);
      expect(rows.map((r) => r.event_id).sort()).toEqual([before.id, after.id].sort());
      expect(rows.every((row) => row.times === 1)).toBe(true);
      await waitFor(
        async () => dlqMessages.length,
        (n) => n >= 4,
      );
      const reasons = dlqMessages.map((m) => m.headers?.['dlq-reason']?.toString() ?? '');
      expect(reasons[0]).toMatch(/not valid JSON/);
      expect(reasons[1]).toMatch(/^invalid event \(\d+ problems\): occurredAt: /);
      for (const problem of [
        /occurredAt: /,
        /data\.quantity: quantity must not be less than 0/,
        /property stepUpProof should not exist/,
        /property note should not exist/,
      ])
        expect(reasons[1]).toMatch(problem);
      expect(reasons[2]).toMatch(/unknown event type test\.item\.unknown/);
      expect(reasons[3]).toMatch(/downstream refused item 666/);
      expect(dlqMessages[3].headers?.['dlq-attempts']?.toString()).toBe('3');
      expect(dlqMessages[3].headers?.['dlq-original-topic']?.toString()).toBe(topic);
      expect(dlqMessages[1].value?.toString()).not.toMatch(/proof-secret-123|ana@example\.com/);
      expect(JSON.parse(dlqMessages[1].value!.toString())).toMatchObject({ data: { quantity: -5, stepUpProof: '[REDACTED]', note: 'call [REDACTED:email]' } });
      expect(dlqMessages[1].headers?.['dlq-redacted']?.toString()).toBe('true');
      // Nothing to hide: kept byte for byte, so its replay is exact.
      expect(dlqMessages[3].value?.toString()).toBe(serializeEvent(poison));
      expect(dlqMessages[3].headers?.['dlq-redacted']?.toString()).toBe('false');
      expect(tries.get(666)).toBe(3);
      expect(worker.stats).toMatchObject({ applied: 2, deadLettered: 4 });
    } finally {
      await worker.stop();
      await dlqConsumer.disconnect();
    }
  });

  /** Sends the items to the given partitions, in this order. */
  async function sendTo(messages: { partition: number; envelope: EventEnvelope }[]): Promise<void> {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: messages.map(({ partition, envelope }) => ({ partition, key: envelope.subject, value: serializeEvent(envelope) })),
    });
    await producer.disconnect();
  }

  /** Reads a topic from the beginning while the test runs. */
  async function deadLettersOf(dlqTopic: string): Promise<{ messages: KafkaMessage[]; stop(): Promise<void> }> {
    const messages: KafkaMessage[] = [];
    const reader = kafka.consumer({ groupId: uniqueName('it-dlq-reader') });
    await reader.connect();
    await reader.subscribe({ topic: dlqTopic, fromBeginning: true });
    await reader.run({ eachMessage: async ({ message }) => void messages.push(message) });
    return { messages, stop: () => reader.disconnect() };
  }

  const deadLettersSoFar = async (): Promise<number> => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(deadLetterTopicOf(topic))).reduce((sum, p) => sum + Number(p.high), 0);
    } finally {
      await admin.disconnect();
    }
  };

  it('waits for an unavailable dependency without counting attempts: not dead-lettered, applied once when it answers, its partition in order behind it', async () => {
    const waiting = item(100);
    const behind = [item(101), item(102)];
    const elsewhere = item(200);
    await sendTo([{ partition: 0, envelope: waiting }, ...behind.map((envelope) => ({ partition: 0, envelope })), { partition: 1, envelope: elsewhere }]);
    let down = true;
    let tries = 0;
    const order: number[] = [];
    const worker = consumer(
      uniqueName('it-unavailable'),
      async (quantity) => {
        if (quantity === 100) {
          tries += 1;
          if (down) throw new DependencyUnavailableError('test-service', 'the test service does not answer');
        }
        order.push(quantity);
      },
      { unavailableBackoffMaxMs: 100 },
    );
    await worker.start();
    try {
      // Far more failures than maxAttempts (3) and far longer than its backoff (10 + 20 ms).
      await waitFor(
        async () => tries,
        (n) => n >= 12,
      );
      const during = await waitFor(appliedRows, (rows) => rows.length >= 1);
      // Another partition goes on; this one waits: nothing behind the waiting message is applied.
      expect(during.map((r) => r.event_id)).toEqual([elsewhere.id]);
      expect(worker.stats).toMatchObject({ applied: 1, deadLettered: 0 });
      // The first try may have been in a transaction shared with partition 1's chunk: that one is
      // not counted (both chunks are then tried on their own at once), every later one is.
      expect(worker.stats.unavailable).toBeGreaterThanOrEqual(11);

      down = false;
      const rows = await waitFor(appliedRows, (r) => r.length === 4);
      expect(rows.every((row) => row.times === 1)).toBe(true);
      expect(order.filter((quantity) => quantity < 200)).toEqual([100, 101, 102]);
      expect(worker.stats).toMatchObject({ applied: 4, deadLettered: 0 });
      expect(await deadLettersSoFar()).toBe(0);
    } finally {
      await worker.stop();
    }
  });

  it('stop() during the wait returns at once without committing the waiting message: the next member of the group gets it', async () => {
    const before = item(300);
    const waiting = item(301);
    await sendTo([
      { partition: 0, envelope: before },
      { partition: 0, envelope: waiting },
    ]);
    const groupId = uniqueName('it-unavailable-stop');
    let tries = 0;
    // The first wait after a failure is 10 to 20 s: stop() must not sit it out.
    const first = consumer(
      groupId,
      async (quantity) => {
        if (quantity === 301) {
          tries += 1;
          throw new DependencyUnavailableError('test-service', 'the test service does not answer');
        }
      },
      { retryBackoffMs: 20_000 },
    );
    await first.start();
    await waitFor(
      async () => tries,
      (n) => n >= 1,
    );
    const stopping = Date.now();
    await first.stop();
    expect(Date.now() - stopping).toBeLessThan(5_000);
    expect(tries).toBe(1);
    expect((await appliedRows()).map((r) => r.event_id)).toEqual([before.id]);

    const admin = kafka.admin();
    await admin.connect();
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    await admin.disconnect();
    // The next offset to read is the waiting message's (1), not the one after it.
    expect(committed.partitions.find((p) => p.partition === 0)?.offset).toBe('1');

    const second = consumer(groupId);
    await second.start();
    try {
      const rows = await waitFor(appliedRows, (r) => r.length === 2);
      expect(rows.every((row) => row.times === 1)).toBe(true);
      expect(second.stats).toMatchObject({ applied: 1, deadLettered: 0 });
      expect(await deadLettersSoFar()).toBe(0);
    } finally {
      await second.stop();
    }
  });

  it('waits while PostgreSQL is out of reach or shuts the connection down, but still dead-letters a constraint violation', async () => {
    const cutOff = item(400);
    const shutDown = item(401);
    const violating = item(402);
    const after = item(403);
    await sendTo([cutOff, shutDown, violating, after].map((envelope) => ({ partition: 0, envelope })));
    // The consumer reaches PostgreSQL through a proxy the test can pull.
    const url = new URL(db.url);
    const proxy = await TcpProxy.start(url.hostname, Number(url.port || 5432));
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const dataSource = createServiceDataSource({ url: url.toString(), schema: db.schema, migrations: [], poolSize: 2 });
    await dataSource.initialize();
    let cutOffs = 0;
    let adminShutdowns = 0;
    const worker = consumer(
      uniqueName('it-unavailable-pg'),
      async (quantity, tx) => {
        // Mid-handler the database goes away: the connection is cut, new ones are refused.
        if (quantity === 400 && cutOffs === 0) {
          cutOffs += 1;
          await proxy.close();
        }
        // The server terminates the session (57P01 admin_shutdown, e.g. a restart or failover), five times.
        if (quantity === 401 && adminShutdowns < 5) {
          adminShutdowns += 1;
          await tx.query('SELECT pg_terminate_backend(pg_backend_pid())');
        }
        if (quantity === 402) await tx.query('INSERT INTO applied (event_id, times, quantity) VALUES ($1, 1, 402), ($1, 1, 402)', [violating.id]);
      },
      { dataSource, unavailableBackoffMaxMs: 100 },
    );
    await worker.start();
    try {
      await waitFor(
        async () => worker.stats.unavailable,
        (n) => n >= 8,
      );
      expect(await appliedRows()).toEqual([]);
      expect(worker.stats).toMatchObject({ applied: 0, deadLettered: 0 });

      await proxy.listen();
      const rows = await waitFor(appliedRows, (r) => r.length === 3);
      expect(rows.map((r) => r.event_id).sort()).toEqual([cutOff.id, shutDown.id, after.id].sort());
      expect(rows.every((row) => row.times === 1)).toBe(true);
      expect(adminShutdowns).toBe(5);
      // Only the duplicate key went to the dead-letter topic, after its 3 attempts.
      await waitFor(
        async () => worker.stats.deadLettered,
        (n) => n === 1,
      );
      expect(await deadLettersSoFar()).toBe(1);
    } finally {
      await worker.stop();
      await dataSource.destroy();
      await proxy.close();
    }
  });

  it('applies a fetched batch in few transactions; a poison message inside it goes alone to the dead-letter topic with its reason, the rest are applied once', async () => {
    const good = Array.from({ length: 20 }, (_, i) => item(1_000 + i));
    const poison = item(1_666);
    // One partition, published before the consumer starts: Kafka hands them over as one batch.
    await sendTo([...good.slice(0, 10), poison, ...good.slice(10)].map((envelope) => ({ partition: 0, envelope })));
    const transactions = new Map<number, string>();
    let poisonTries = 0;
    const worker = consumer(uniqueName('it-batch-poison'), async (quantity, tx) => {
      if (quantity === 1_666) {
        poisonTries += 1;
        throw new Error('downstream refused item 1666');
      }
      const [row] = await tx.query<{ txid: string }[]>('SELECT txid_current()::text AS txid');
      transactions.set(quantity, row.txid);
    });
    const letters = await deadLettersOf(deadLetterTopicOf(topic));
    await worker.start();
    try {
      const rows = await waitFor(appliedRows, (r) => r.length === 20);
      expect(rows.every((row) => row.times === 1)).toBe(true);
      expect(new Set(rows.map((r) => r.event_id))).toEqual(new Set(good.map((e) => e.id)));
      await waitFor(
        async () => letters.messages.length,
        (n) => n === 1,
      );
      expect(JSON.parse(letters.messages[0].value?.toString() ?? '{}').id).toBe(poison.id);
      expect(letters.messages[0].headers?.['dlq-reason']?.toString()).toMatch(/downstream refused item 1666/);
      expect(letters.messages[0].headers?.['dlq-attempts']?.toString()).toBe('3');
      // Its first attempt was inside the batch; the two others alone.
      expect(poisonTries).toBe(3);
      // The 10 events before the poison committed together, the 10 after it together.
      const committedIn = new Set(good.map((e) => transactions.get(e.data.quantity)));
      expect(committedIn.size).toBeLessThanOrEqual(3);
      expect(worker.stats).toMatchObject({ applied: 20, deadLettered: 1 });
      expect(await deadLettersSoFar()).toBe(1);
    } finally {
      await worker.stop();
      await letters.stop();
    }
  });

  it('applies chunks of different partitions ready at once in one transaction, each partition in order, each event once', async () => {
    // 3 partitions × 8 events, published before the consumer starts: one fetch brings them all.
    const events = Array.from({ length: 24 }, (_, i) => ({ partition: i % 3, envelope: item(2_000 + i) }));
    await sendTo(events);
    const seen: { quantity: number; txid: string }[] = [];
    const worker = consumer(uniqueName('it-shared'), async (quantity, tx) => {
      const [row] = await tx.query<{ txid: string }[]>('SELECT txid_current()::text AS txid');
      seen.push({ quantity, txid: row.txid });
    });
    await worker.start();
    try {
      const rows = await waitFor(appliedRows, (r) => r.length === 24);
      expect(rows.every((row) => row.times === 1)).toBe(true);
      const partitionOf = (quantity: number): number => (quantity - 2_000) % 3;
      // Some transaction applied events of more than one partition.
      const partitionsByTx = new Map<string, Set<number>>();
      for (const { quantity, txid } of seen) partitionsByTx.set(txid, (partitionsByTx.get(txid) ?? new Set()).add(partitionOf(quantity)));
      expect(Math.max(...[...partitionsByTx.values()].map((partitions) => partitions.size))).toBeGreaterThan(1);
      expect(worker.sharing.transactions).toBeGreaterThan(0);
      expect(partitionsByTx.size).toBeLessThan(3 * 8);
      // Within each partition, applied in offset order.
      for (const partition of [0, 1, 2]) {
        const order = seen.filter(({ quantity }) => partitionOf(quantity) === partition).map(({ quantity }) => quantity);
        expect(order).toEqual([...order].sort((a, b) => a - b));
      }
    } finally {
      await worker.stop();
    }
  });

  it('when a shared transaction fails on a poison message, the chunks are applied on their own: the poison alone to the DLQ, the rest once', async () => {
    const events = Array.from({ length: 18 }, (_, i) => ({ partition: i % 3, envelope: item(3_000 + i) }));
    const poison = { partition: 1, envelope: item(3_666) };
    await sendTo([...events.slice(0, 9), poison, ...events.slice(9)]);
    const worker = consumer(uniqueName('it-shared-poison'), async (quantity) => {
      if (quantity === 3_666) throw new Error('downstream refused item 3666');
    });
    const letters = await deadLettersOf(deadLetterTopicOf(topic));
    await worker.start();
    try {
      const rows = await waitFor(appliedRows, (r) => r.length === 18);
      expect(rows.every((row) => row.times === 1)).toBe(true);
      expect(new Set(rows.map((r) => r.event_id))).toEqual(new Set(events.map((e) => e.envelope.id)));
      await waitFor(
        async () => letters.messages.length,
        (n) => n === 1,
      );
      expect(JSON.parse(letters.messages[0].value?.toString() ?? '{}').id).toBe(poison.envelope.id);
      expect(letters.messages[0].headers?.['dlq-reason']?.toString()).toMatch(/downstream refused item 3666/);
      expect(worker.stats).toMatchObject({ applied: 18, deadLettered: 1 });
    } finally {
      await worker.stop();
      await letters.stop();
    }
  });

  it('runs shared work once per transaction before COMMIT; a failure it blames on one event dead-letters that event alone', async () => {
    const events = Array.from({ length: 12 }, (_, i) => item(2_000 + i));
    const refused = events[7];
    await sendTo(events.map((envelope) => ({ partition: 0, envelope })));
    let flushes = 0;
    /** Writes the chunk's rows with one statement, as a ledger append would. */
    class Tally implements BatchWork {
      readonly pending: EventEnvelope<ItemCounted>[] = [];
      constructor(private readonly tx: EntityManager) {}
      async beforeCommit(): Promise<void> {
        flushes += 1;
        const bad = this.pending.find((e) => e.id === refused.id);
        if (bad) throw new BatchedEventError(bad.id, new PermanentEventError(`item ${bad.data.quantity} is refused by the tally`));
        await this.tx.query('INSERT INTO applied (event_id, times, quantity) SELECT id, 1, q FROM unnest($1::uuid[], $2::int[]) AS t(id, q)', [
          this.pending.map((e) => e.id),
          this.pending.map((e) => e.data.quantity),
        ]);
      }
    }
    const tallyKey = {};
    const worker = new InboxConsumer({
      groupId: uniqueName('it-batch-work'),
      topics: [topic],
      kafka,
      dataSource: db.dataSource,
      publisher,
      logger,
      maxAttempts: 3,
      retryBackoffMs: 10,
      handlers: {
        [ItemCountedV1.type]: async (event, tx, batch) => {
          batch.work(tallyKey, () => new Tally(tx)).pending.push(event.envelope as EventEnvelope<ItemCounted>);
        },
      },
    });
    const letters = await deadLettersOf(deadLetterTopicOf(topic));
    await worker.start();
    try {
      const rows = await waitFor(appliedRows, (r) => r.length === 11);
      expect(rows.every((row) => row.times === 1)).toBe(true);
      expect(rows.map((r) => r.event_id)).not.toContain(refused.id);
      await waitFor(
        async () => letters.messages.length,
        (n) => n === 1,
      );
      expect(letters.messages[0].headers?.['dlq-reason']?.toString()).toMatch(/PermanentEventError: item 2007 is refused by the tally/);
      expect(letters.messages[0].headers?.['dlq-attempts']?.toString()).toBe('1');
      // The whole batch (refused), the 7 before it, the refused one alone (refused at once), the 4 after it.
      expect(flushes).toBeLessThanOrEqual(6);
      expect(worker.stats).toMatchObject({ applied: 11, deadLettered: 1 });
    } finally {
      await worker.stop();
      await letters.stop();
    }
  });

  it("sends the last shared work's last statement with the COMMIT when the work offers it: the effects and the inbox rows commit together", async () => {
    const events = Array.from({ length: 6 }, (_, i) => item(2_100 + i));
    await sendTo(events.map((envelope) => ({ partition: 0, envelope })));
    const TALLY: NamedStatement = {
      name: 'it_inbox_tally_with_commit',
      text: 'INSERT INTO applied (event_id, times, quantity) SELECT id, 1, q FROM unnest($1::uuid[], $2::int[]) AS t(id, q)',
    };
    let separately = 0;
    class Tally implements BatchWork {
      readonly pending: EventEnvelope<ItemCounted>[] = [];
      async beforeCommit(): Promise<void> {
        separately += 1;
      }
      async beforeCommitAndCommit(runner: QueryRunner): Promise<void> {
        await commitWith(runner, TALLY, [this.pending.map((e) => e.id), this.pending.map((e) => e.data.quantity)]);
      }
    }
    const tallyKey = {};
    const groupId = uniqueName('it-batch-commit');
    const worker = new InboxConsumer({
      groupId,
      topics: [topic],
      kafka,
      dataSource: db.dataSource,
      publisher,
      logger,
      maxAttempts: 3,
      retryBackoffMs: 10,
      handlers: {
        [ItemCountedV1.type]: async (event, _tx, batch) => {
          batch.work(tallyKey, () => new Tally()).pending.push(event.envelope as EventEnvelope<ItemCounted>);
        },
      },
    });
    // What this process sends to PostgreSQL meanwhile, one entry per round trip (the test's own reads are autocommitted).
    const sent: string[] = [];
    const query = PgClient.prototype.query;
    const send = jest.spyOn(PgClient.prototype, 'query').mockImplementation(function (this: PgClient, ...args: unknown[]) {
      const config = args[0] as string | { text?: string };
      sent.push(typeof config === 'string' ? config : String(config?.text));
      return (query as (...a: unknown[]) => unknown).apply(this, args) as never;
    });
    await worker.start();
    try {
      const rows = await waitFor(appliedRows, (r) => r.length === events.length);
      expect(rows.every((row) => row.times === 1)).toBe(true);
      const [{ n }] = await db.dataSource.query<{ n: number }[]>('SELECT count(*)::int AS n FROM inbox WHERE consumer = $1', [groupId]);
      expect(n).toBe(events.length);
      // Each transaction ended with the tally's statement and its COMMIT, in one round trip: never a COMMIT of its own.
      expect(sent.filter((text) => /^EXECUTE it_inbox_tally_with_commit_begun\(.*\); COMMIT$/s.test(text)).length).toBeGreaterThanOrEqual(1);
      expect(sent.filter((text) => text === 'COMMIT')).toEqual([]);
      expect(separately).toBe(0);
    } finally {
      send.mockRestore();
      await worker.stop();
    }
  });

  it("plans its transactions' prepared statements once (generic plans) unless the consumer asks PostgreSQL to choose", async () => {
    const modes = async (options: Partial<InboxConsumerOptions>, quantities: number[]): Promise<string[]> => {
      await db.dataSource.query('TRUNCATE applied');
      const seen: string[] = [];
      const worker = consumer(
        uniqueName('it-plans'),
        async (_quantity, tx) => {
          const [row] = await tx.query<Array<{ plan_cache_mode: string }>>('SHOW plan_cache_mode');
          seen.push(row.plan_cache_mode);
        },
        { fromBeginning: true, ...options },
      );
      await publisher.publish(quantities.map((quantity) => ({ topic, envelope: item(quantity) })));
      await worker.start();
      try {
        await waitFor(appliedRows, (rows) => rows.length === quantities.length);
      } finally {
        await worker.stop();
      }
      // Outside the consumer's transactions the connections are as the pool gave them.
      expect(await db.dataSource.query('SHOW plan_cache_mode')).toEqual([{ plan_cache_mode: 'auto' }]);
      return [...new Set(seen)];
    };
    expect(await modes({}, [3_001, 3_002])).toEqual(['force_generic_plan']);
    topic = topicName();
    topics.push(topic, deadLetterTopicOf(topic));
    await createTestTopics([topic, deadLetterTopicOf(topic)], 3);
    expect(await modes({ plans: 'auto' }, [3_003])).toEqual(['auto']);
  });

  it('acknowledges event types it does not handle without validating them, by header or by the JSON type', async () => {
    const producer = kafka.producer();
    await producer.connect();
    const invalidShelved = {
      ...JSON.parse(serializeEvent(createEvent({ definition: ItemShelvedV1, source: 'wallet', subject: 's', sequence: 1, data: { quantity: 1 } }))),
      data: { quantity: 'lots' },
    };
    const after = item(3_001);
    await producer.send({
      topic,
      messages: [
        { key: 's', value: JSON.stringify(invalidShelved), headers: { 'event-type': ItemShelvedV1.type } },
        { key: 's', value: JSON.stringify({ ...invalidShelved, id: 'not-a-uuid' }) },
        { key: 's', value: serializeEvent(after) },
      ],
    });
    await producer.disconnect();
    const worker = consumer(uniqueName('it-ignored'));
    await worker.start();
    try {
      await waitFor(appliedRows, (r) => r.length === 1);
      await waitFor(
        async () => worker.stats.ignored,
        (n) => n === 2,
      );
      expect(worker.stats).toMatchObject({ applied: 1, ignored: 2, deadLettered: 0 });
    } finally {
      await worker.stop();
    }
  });

  it('dead-letters a permanent failure at once, without retries', async () => {
    const rejected = item(5005);
    await publisher.publish([{ topic, envelope: rejected }]);
    let calls = 0;
    const worker = consumer(uniqueName('it-permanent'), async (quantity) => {
      if (quantity === 5005) {
        calls += 1;
        throw new PermanentEventError('item 5 is refused by rule');
      }
    });
    await worker.start();
    try {
      await waitFor(
        async () => worker.stats.deadLettered,
        (n) => n >= 1,
      );
      expect(calls).toBe(1);
      expect(await appliedRows()).toEqual(expect.not.arrayContaining([expect.objectContaining({ event_id: rejected.id })]));
    } finally {
      await worker.stop();
    }
  });
});

/** A TCP proxy that can be closed (connections cut, new ones refused) and opened again. */
class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const proxy = new TcpProxy(targetHost, targetPort, port);
    await proxy.listen();
    return proxy;
  }

  async listen(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
