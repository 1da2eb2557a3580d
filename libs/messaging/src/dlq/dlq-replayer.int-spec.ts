import { createEvent, deadLetterTopicOf, defineEvent } from '@pay/contracts';
import { createLogger } from '@pay/observability';
import type { TestSchema } from '@pay/testing';
import { createTestSchema, createTestTopics, deleteTestTopics, isTrue, testKafka, uniqueName, waitFor } from '@pay/testing';
import { IsInt } from 'class-validator';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { EventPublisher } from '../kafka/event-publisher';
import { InboxConsumer } from '../inbox/inbox-consumer';
import { INBOX_TABLE_SQL } from '../inbox/inbox.schema';
import { replayDeadLetters } from './dlq-replayer';

class Order {
  @IsInt()
  n!: number;
}

const OrderV1 = defineEvent({ type: 'test.order.placed', version: 1, topic: 'it.orders', dataClass: Order, description: 'test' });

class CreateTables1700000000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(INBOX_TABLE_SQL);
    await runner.query('CREATE TABLE applied (event_id uuid PRIMARY KEY, times integer NOT NULL)');
  }
  async down(): Promise<void> {}
}

describe('dlq:replay re-delivers dead letters after a fix, each applied once', () => {
  let db: TestSchema;
  let publisher: EventPublisher;
  const kafka = testKafka();
  const topic = uniqueName('it.orders').replace(/_/g, '-');
  const dlq = deadLetterTopicOf(topic);

  beforeAll(async () => {
    db = await createTestSchema('it_dlq_replay', [CreateTables1700000000000]);
    await createTestTopics([topic, dlq], 2);
    publisher = new EventPublisher(kafka);
  });

  afterAll(async () => {
    await publisher.disconnect();
    await deleteTestTopics([topic, dlq]);
    await db.drop();
  });

  it('replays what a bug dead-lettered; the consumer applies each once; a second replay does nothing', async () => {
    let bugFixed = false;
    const groupId = uniqueName('it-orders');
    const consumer = new InboxConsumer({
      groupId,
      topics: [topic],
      kafka,
      dataSource: db.dataSource,
      publisher,
      logger: createLogger('dlq-test', 'silent'),
      maxAttempts: 2,
      retryBackoffMs: 5,
      handlers: {
        [OrderV1.type]: async (event, tx) => {
          const { n } = event.envelope.data as Order;
          if (n % 2 === 1 && !bugFixed) throw new Error(`bug: odd order ${n} refused`);
          await tx.query('INSERT INTO applied (event_id, times) VALUES ($1, 1) ON CONFLICT (event_id) DO UPDATE SET times = applied.times + 1', [
            event.envelope.id,
          ]);
        },
      },
    });
    const orders = Array.from({ length: 10 }, (_, n) => createEvent({ definition: OrderV1, source: 'app', subject: `o-${n}`, sequence: 1, data: { n } }));
    await publisher.publish(orders.map((envelope) => ({ topic, envelope })));
    await consumer.start();
    try {
      const count = async (): Promise<number> => Number((await db.dataSource.query('SELECT count(*) AS n FROM applied'))[0].n);
      await waitFor(() => consumer.stats.deadLettered === 5, isTrue, { what: 'five dead letters', timeoutMs: 30_000 });
      expect(await count()).toBe(5);

      const dryRun = await replayDeadLetters({ kafka, publisher, deadLetterTopic: dlq, dryRun: true });
      expect(dryRun).toEqual({ replayed: 5, skipped: 0, notReplayed: [] });
      const other = await replayDeadLetters({ kafka, publisher, deadLetterTopic: dlq, onlyConsumer: 'someone-else', dryRun: true });
      expect(other).toEqual({ replayed: 0, skipped: 5, notReplayed: [] });

      bugFixed = true; // the fix is deployed
      expect(await replayDeadLetters({ kafka, publisher, deadLetterTopic: dlq, onlyConsumer: groupId })).toEqual({ replayed: 5, skipped: 0, notReplayed: [] });
      await waitFor(count, (applied) => applied === 10, { what: 'all ten orders applied', timeoutMs: 30_000 });
      const rows: { times: number }[] = await db.dataSource.query('SELECT times FROM applied');
      expect(rows).toHaveLength(10);
      expect(rows.every((row) => row.times === 1)).toBe(true);

      expect(await replayDeadLetters({ kafka, publisher, deadLetterTopic: dlq })).toEqual({ replayed: 0, skipped: 0, notReplayed: [] });
    } finally {
      await consumer.stop();
    }
  });

  it('refuses a topic that is not a dead-letter topic', async () => {
    await expect(replayDeadLetters({ kafka, publisher, deadLetterTopic: topic })).rejects.toThrow(/is not a dead-letter topic/);
  });
});
