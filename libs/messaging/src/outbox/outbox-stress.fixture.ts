/**
 * One process of outbox-relay.stress.int-spec.ts: writers of the outbox (STRESS_WRITERS concurrent
 * loops, 0 for none) and/or its relay (STRESS_RELAY=1), as payment-orchestration runs both in one
 * process. It loads everything, prints `ready`, and starts when told `go` on stdin; told `quiet`,
 * its writers stop after the transaction in hand (the relay goes on). It says `sending` as the relay
 * hands a batch to Kafka. The test SIGKILLs it.
 *
 * Each writer loop runs transactions of the shapes the services use, some of them committing late
 * (a transaction id taken early, rows inserted, then a pause before COMMIT): a plain transaction,
 * rows inserted in a savepoint (a subtransaction), the transaction id taken before the rows, and a
 * lone autocommitted INSERT. The pauses shape the load (late commits); nothing waits on them.
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { createLogger } from '@pay/observability';
import { Pool } from 'pg';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { EventPublisher } from '../kafka/event-publisher';
import type { KafkaConnection } from '../kafka/kafka-client';
import { createKafka } from '../kafka/kafka-client';
import { OutboxRelay } from './outbox-relay';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `count` outbox rows of one transaction: payload.id is the event id the relay puts in `event-id`. */
async function insertRows(client: PoolClient | Pool, topic: string, count: number): Promise<void> {
  const ids = Array.from({ length: count }, () => randomUUID());
  await client.query(
    `INSERT INTO outbox (topic, message_key, event_id, payload)
     SELECT $1, id::text, id, jsonb_build_object('id', id::text, 'type', 'test.stress.written')
       FROM unnest($2::uuid[]) AS id`,
    [topic, ids],
  );
}

async function oneTransaction(pool: Pool, topic: string): Promise<void> {
  const shape = Math.floor(Math.random() * 5);
  const rows = 1 + Math.floor(Math.random() * 3);
  if (shape === 4) return insertRows(pool, topic, rows); // autocommitted
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    if (shape === 1) await client.query('SELECT pg_current_xact_id()'); // its id taken before the rows
    if (shape === 2) await client.query('SAVEPOINT rows');
    await insertRows(client, topic, rows);
    if (shape === 2) await client.query('RELEASE SAVEPOINT rows');
    // Late commits: other transactions with higher ids commit (and are published) meanwhile.
    if (shape === 1 || shape === 3) await pause(Math.floor(Math.random() * 300));
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

/**
 * Says `sending` on stdout as each batch goes to Kafka (a pipe's write is synchronous on Linux: the
 * line is out before the batch), so the test can SIGKILL the relay in the middle of a send.
 */
class AnnouncingPublisher extends EventPublisher {
  override async sendRaw(topicMessages: Parameters<EventPublisher['sendRaw']>[0]): Promise<void> {
    process.stdout.write('sending\n');
    await super.sendRaw(topicMessages);
  }
}

async function main(): Promise<void> {
  const url = required('DATABASE_URL');
  const schema = required('STRESS_SCHEMA');
  const topic = required('STRESS_TOPIC');
  const writers = Number(process.env.STRESS_WRITERS ?? '0');
  const withRelay = process.env.STRESS_RELAY === '1';
  const logger = createLogger('outbox-stress', 'warn');
  let pool: Pool;
  let relay: OutboxRelay | undefined;
  if (withRelay) {
    const sasl = JSON.parse(process.env.STRESS_SASL ?? '{}') as Pick<KafkaConnection, 'sasl'>;
    const kafka = createKafka({ clientId: 'outbox-stress', brokers: required('KAFKA_BROKERS').split(','), ...sasl });
    const dataSource = new DataSource({ type: 'postgres', url, schema, poolSize: writers + 3, extra: { options: `-c search_path=${schema}` } });
    await dataSource.initialize();
    // The writers take their connections from the relay's pool, as a service's code and its relay share one.
    pool = (dataSource.driver as unknown as { master: Pool }).master;
    const publisher = new AnnouncingPublisher(kafka);
    await publisher.connect();
    relay = new OutboxRelay({ name: 'stress', dataSource, publisher, logger, batchSize: 50 });
  } else pool = new Pool({ connectionString: url, max: writers, options: `-c search_path=${schema}` });
  process.stdout.write('ready\n');
  let writing = true;
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) =>
    lines.on('line', (line) => {
      if (line === 'go') resolve();
      if (line === 'quiet') writing = false;
    }),
  );
  await relay?.start();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (writing) await oneTransaction(pool, topic);
    }),
  );
  process.stdout.write('quiet\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`outbox stress fixture failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
