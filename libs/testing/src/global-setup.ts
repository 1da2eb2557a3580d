import { Client } from 'pg';
// Jest loads global set-up outside its module mapper, so the infra script is reached by path.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ensureKafka } from '../../../tools/infra/kafka';
import { testDatabaseUrl } from './database-url';

/**
 * Runs once before the integration tier: the test database exists and a real Kafka broker
 * answers (started from its jars when KAFKA_BROKERS is not set).
 */
export default async function globalSetup(): Promise<void> {
  await ensureTestDatabase(testDatabaseUrl());
  const kafka = await ensureKafka((line) => process.stderr.write(`[infra] ${line}\n`));
  process.env.KAFKA_BROKERS = kafka.brokers.join(',');
}

async function ensureTestDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const database = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}
