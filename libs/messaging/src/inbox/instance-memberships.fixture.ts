/**
 * One process of a consuming service, for instance-memberships.int-spec.ts: an InboxConsumer of
 * MEMBER_FIXTURE_GROUP on MEMBER_FIXTURE_TOPIC in the schema MEMBER_FIXTURE_SCHEMA, whose
 * instance is MEMBER_FIXTURE_INSTANCE (its member ids kept by InstanceMemberships, as the services
 * do with KAFKA_GROUP_INSTANCE_ID). It loads everything, prints `ready`, and starts consuming when
 * told `go` on stdin (so that a test times the join, not the loading). It logs as a service
 * does (JSON lines on stdout) and records each event it applies with its pid. SIGTERM stops it
 * cleanly (the group left).
 */
import { createInterface } from 'node:readline';
import { parseWholeNumber } from '@pay/config';
import { defineEvent } from '@pay/contracts';
import { createLogger } from '@pay/observability';
import { IsInt, Min } from 'class-validator';
import { DataSource } from 'typeorm';
import { EventPublisher } from '../kafka/event-publisher';
import type { KafkaConnection } from '../kafka/kafka-client';
import { createKafka } from '../kafka/kafka-client';
import { InboxConsumer } from './inbox-consumer';
import { InstanceMemberships } from './instance-memberships';

class ParcelCounted {
  @IsInt()
  @Min(0)
  quantity!: number;
}

const ParcelCountedV1 = defineEvent({ type: 'test.parcel.counted', version: 1, topic: 'it.parcels', dataClass: ParcelCounted, description: 'test event' });

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

async function main(): Promise<void> {
  const url = required('DATABASE_URL');
  const schema = required('MEMBER_FIXTURE_SCHEMA');
  const groupId = required('MEMBER_FIXTURE_GROUP');
  const instanceId = required('MEMBER_FIXTURE_INSTANCE');
  const logger = createLogger('member-fixture', 'info');
  const sasl = JSON.parse(process.env.MEMBER_FIXTURE_SASL ?? '{}') as Pick<KafkaConnection, 'sasl'>;
  const kafka = createKafka({ clientId: 'member-fixture', brokers: required('KAFKA_BROKERS').split(','), ...sasl });
  const dataSource = new DataSource({ type: 'postgres', url, schema, poolSize: 3, extra: { options: `-c search_path=${schema}` } });
  await dataSource.initialize();
  const publisher = new EventPublisher(kafka);
  await publisher.connect();
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => lines.on('line', (line) => line === 'go' && resolve()));
  const memberIds = await InstanceMemberships.claim({ connectionString: url, schema, instanceId, logger });
  const consumer = new InboxConsumer({
    groupId,
    topics: [required('MEMBER_FIXTURE_TOPIC')],
    kafka,
    dataSource,
    publisher,
    logger,
    sessionTimeoutMs: parseWholeNumber('MEMBER_FIXTURE_SESSION_MS', process.env.MEMBER_FIXTURE_SESSION_MS, { min: 6_000, max: 300_000, fallback: 30_000 }),
    memberIds,
    handlers: {
      [ParcelCountedV1.type]: async (event, tx) => {
        await tx.query('INSERT INTO applied (event_id, pid) VALUES ($1, $2)', [event.envelope.id, process.pid]);
      },
    },
  });
  process.on('SIGTERM', () => {
    void (async () => {
      await consumer.stop();
      await memberIds?.release();
      await publisher.disconnect();
      await dataSource.destroy();
      process.exit(0);
    })();
  });
  await consumer.start();
}

main().catch((error: unknown) => {
  process.stderr.write(`member fixture failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
