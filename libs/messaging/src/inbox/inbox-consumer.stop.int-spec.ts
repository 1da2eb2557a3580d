/**
 * Stopping an InboxConsumer while its group waits for a member that died without leaving it
 * (SIGKILL): the rebalance cannot end before the dead member's session times out, and kafkajs'
 * disconnect waits for the join in flight. stop() must still return within seconds, and nothing
 * consumed may be lost or applied twice. Real Kafka and PostgreSQL; the dead member is a real
 * kafkajs consumer in a child process.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createEvent, deadLetterTopicOf, defineEvent } from '@pay/contracts';
import { createLogger } from '@pay/observability';
import type { TestSchema } from '@pay/testing';
import { createTestSchema, createTestTopics, deleteTestTopics, testKafka, testKafkaBrokers, testKafkaSasl, uniqueName, waitFor } from '@pay/testing';
import { IsInt, Min } from 'class-validator';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { EventPublisher } from '../kafka/event-publisher';
import { InboxConsumer } from './inbox-consumer';
import { INBOX_TABLE_SQL } from './inbox.schema';

class ParcelCounted {
  @IsInt()
  @Min(0)
  quantity!: number;
}

const ParcelCountedV1 = defineEvent({ type: 'test.parcel.counted', version: 1, topic: 'it.parcels', dataClass: ParcelCounted, description: 'test event' });

class CreateTestTables1700000000001 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(INBOX_TABLE_SQL);
    await runner.query('CREATE TABLE applied (event_id uuid PRIMARY KEY, times integer NOT NULL)');
  }
  async down(): Promise<void> {}
}

const ROOT = resolve(__dirname, '../../../..');
/** Its session: how long the group waits for it once it is dead. */
const DEAD_MEMBER_SESSION_MS = 20_000;

/** A kafkajs member of `groupId` on its own topic (so it takes none of the test's partitions); prints `joined`. */
function startMemberToKill(groupId: string, topic: string): ChildProcess {
  const script = `
    const { Kafka, logLevel } = require('kafkajs');
    const kafka = new Kafka({ clientId: 'dead-member', brokers: ${JSON.stringify(testKafkaBrokers())}, logLevel: logLevel.NOTHING, ...JSON.parse(process.env.DEAD_MEMBER_SASL) });
    const consumer = kafka.consumer({ groupId: ${JSON.stringify(groupId)}, sessionTimeout: ${DEAD_MEMBER_SESSION_MS}, rebalanceTimeout: ${DEAD_MEMBER_SESSION_MS} });
    consumer.on(consumer.events.GROUP_JOIN, () => console.log('joined'));
    (async () => {
      await consumer.connect();
      await consumer.subscribe({ topics: [${JSON.stringify(topic)}] });
      await consumer.run({ eachMessage: async () => undefined });
    })();`;
  // Its stderr is dropped: a bare kafkajs warns there (TimeoutNegativeWarning) where the services install their fix.
  // Its credentials (a broker with SASL) through its environment, not its command line.
  return spawn(process.execPath, ['-e', script], {
    cwd: ROOT,
    env: { ...process.env, DEAD_MEMBER_SASL: JSON.stringify(testKafkaSasl()) },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

describe('InboxConsumer.stop while its group waits for a dead member', () => {
  let db: TestSchema;
  let publisher: EventPublisher;
  const kafka = testKafka();
  const logger = createLogger('messaging-test', process.env.IT_LOG_LEVEL ?? 'silent');
  const topic = uniqueName('it.parcels').replace(/_/g, '-');
  const otherTopic = `${topic}-other`;
  let dead: ChildProcess | undefined;

  beforeAll(async () => {
    await createTestTopics([topic, deadLetterTopicOf(topic), otherTopic], 3);
    db = await createTestSchema('it_inbox_stop', [CreateTestTables1700000000001]);
    publisher = new EventPublisher(kafka);
    await publisher.connect();
  });

  afterAll(async () => {
    dead?.kill('SIGKILL');
    await publisher.disconnect();
    await deleteTestTopics([topic, deadLetterTopicOf(topic), otherTopic]);
    await db.drop();
  });

  const consumer = (groupId: string): InboxConsumer =>
    new InboxConsumer({
      groupId,
      topics: [topic],
      kafka,
      dataSource: db.dataSource,
      publisher,
      logger,
      handlers: {
        [ParcelCountedV1.type]: async (event, tx) => {
          await tx.query('INSERT INTO applied (event_id, times) VALUES ($1, 1) ON CONFLICT (event_id) DO UPDATE SET times = applied.times + 1', [
            event.envelope.id,
          ]);
        },
      },
    });
  const publish = async (count: number, from: number): Promise<string[]> => {
    const events = Array.from({ length: count }, (_, i) =>
      createEvent({ definition: ParcelCountedV1, source: 'wallet', subject: `parcel-${from + i}`, sequence: 1, data: { quantity: from + i } }),
    );
    await publisher.publish(events.map((envelope) => ({ topic, envelope })));
    return events.map((event) => event.id);
  };
  const applied = async (): Promise<{ event_id: string; times: number }[]> => db.dataSource.query('SELECT event_id, times FROM applied');
  const groupState = async (groupId: string): Promise<string> => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return (await admin.describeGroups([groupId])).groups[0].state;
    } finally {
      await admin.disconnect();
    }
  };

  it('returns within seconds, a running member and a starting one alike, and nothing is lost or applied twice', async () => {
    const groupId = uniqueName('it-stop-rebalancing');
    const first = await publish(30, 0);
    const running = consumer(groupId);
    await running.start();
    await waitFor(applied, (rows) => rows.length === first.length, { what: 'the first events applied', timeoutMs: 30_000 });

    // A second member joins, then dies without leaving (SIGKILL): the group holds it until its session ends.
    dead = startMemberToKill(groupId, otherTopic);
    let deadOutput = '';
    dead.stdout?.on('data', (chunk: Buffer) => (deadOutput += chunk.toString()));
    await waitFor(
      () => deadOutput,
      (text) => text.includes('joined'),
      { what: 'the member to kill joined', timeoutMs: 30_000 },
    );
    await waitFor(
      () => running.isJoiningGroup,
      (joining) => !joining,
      { what: 'the running member back in the group', timeoutMs: 30_000 },
    );
    dead.kill('SIGKILL');
    const killedAt = Date.now();

    // A new member joins: the rebalance it starts waits for the dead one; the running member rejoins and waits too.
    const second = await publish(30, 100);
    const starting = consumer(groupId);
    const started = starting.start();
    await waitFor(
      () => running.isJoiningGroup,
      (joining) => joining,
      { what: 'the running member rejoining', timeoutMs: 15_000 },
    );
    expect(await groupState(groupId)).toBe('PreparingRebalance');

    const stopAt = Date.now();
    await Promise.all([running.stop(), starting.stop()]);
    const stopMs = Date.now() - stopAt;
    // The old stop waited for the rebalance, i.e. for the dead member's session (20 s from the kill).
    expect(stopMs).toBeLessThan(5_000);
    expect(Date.now() - killedAt).toBeLessThan(DEAD_MEMBER_SESSION_MS);
    // Still rebalancing: the stop did not just happen to come after the dead member was dropped.
    expect(await groupState(groupId)).toBe('PreparingRebalance');
    await started.catch(() => undefined);

    // A member that starts later applies what was published meanwhile, each event once; nothing before is applied again.
    const later = consumer(groupId);
    await later.start();
    try {
      const rows = await waitFor(applied, (r) => r.length === first.length + second.length, {
        what: 'every event applied',
        timeoutMs: 90_000,
      });
      expect(rows.filter((row) => row.times !== 1)).toEqual([]);
      expect(new Set(rows.map((row) => row.event_id))).toEqual(new Set([...first, ...second]));
    } finally {
      await later.stop();
    }
  }, 180_000);
});
