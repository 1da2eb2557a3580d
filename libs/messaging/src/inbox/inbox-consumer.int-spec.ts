import type { EventEnvelope } from '@pay/contracts';
import { createEvent, deadLetterTopicOf, defineEvent, serializeEvent } from '@pay/contracts';
import { createLogger } from '@pay/observability';
import type { TestSchema } from '@pay/testing';
import { createTestSchema, createTestTopics, deleteTestTopics, testKafka, uniqueName } from '@pay/testing';
import { IsInt, Min } from 'class-validator';
import type { KafkaMessage } from 'kafkajs';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { EventPublisher } from '../kafka/event-publisher';
import { InboxConsumer, PermanentEventError } from './inbox-consumer';
import { INBOX_TABLE_SQL } from './inbox.schema';

class ItemCounted {
  @IsInt()
  @Min(0)
  quantity!: number;
}

const topicName = (): string => uniqueName('it.items').replace(/_/g, '-');
const ItemCountedV1 = defineEvent({ type: 'test.item.counted', version: 1, topic: 'it.items', dataClass: ItemCounted, description: 'test event' });

class CreateTestTables1700000000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(INBOX_TABLE_SQL);
    // Counts how often each event's effect was applied: exactly once is the contract.
    await runner.query('CREATE TABLE applied (event_id uuid PRIMARY KEY, times integer NOT NULL, quantity integer NOT NULL)');
  }
  async down(): Promise<void> {}
}

const logger = createLogger('messaging-test', 'silent');

function item(quantity: number): EventEnvelope<ItemCounted> {
  return createEvent({ definition: ItemCountedV1, source: 'wallet', subject: `item-${quantity % 7}`, sequence: quantity + 1, data: { quantity } });
}

async function waitFor<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
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

  const appliedRows = async (): Promise<{ event_id: string; times: number }[]> =>
    db.dataSource.query('SELECT event_id, times FROM applied ORDER BY event_id');

  function consumer(groupId: string, handler?: (quantity: number) => Promise<void>): InboxConsumer {
    return new InboxConsumer({
      groupId,
      topics: [topic],
      kafka,
      dataSource: db.dataSource,
      publisher,
      logger,
      maxAttempts: 3,
      retryBackoffMs: 10,
      handlers: {
        [ItemCountedV1.type]: async (event, tx) => {
          const { quantity } = event.envelope.data as ItemCounted;
          await handler?.(quantity);
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
    await waitFor(async () => seen, (n) => n >= 15);
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
    const badAmount = { ...JSON.parse(serializeEvent(item(3))), data: { quantity: -5 } };
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
      await waitFor(async () => dlqMessages.length, (n) => n >= 4);
      const reasons = dlqMessages.map((m) => m.headers?.['dlq-reason']?.toString() ?? '');
      expect(reasons[0]).toMatch(/not valid JSON/);
      expect(reasons[1]).toMatch(/data\.quantity: quantity must not be less than 0/);
      expect(reasons[2]).toMatch(/unknown event type test\.item\.unknown/);
      expect(reasons[3]).toMatch(/downstream refused item 666/);
      expect(dlqMessages[3].headers?.['dlq-attempts']?.toString()).toBe('3');
      expect(dlqMessages[3].headers?.['dlq-original-topic']?.toString()).toBe(topic);
      expect(tries.get(666)).toBe(3);
      expect(worker.stats).toMatchObject({ applied: 2, deadLettered: 4 });
    } finally {
      await worker.stop();
      await dlqConsumer.disconnect();
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
      await waitFor(async () => worker.stats.deadLettered, (n) => n >= 1);
      expect(calls).toBe(1);
      expect(await appliedRows()).toEqual(expect.not.arrayContaining([expect.objectContaining({ event_id: rejected.id })]));
    } finally {
      await worker.stop();
    }
  });
});
