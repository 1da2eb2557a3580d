import type { KafkaConnection } from '@pay/messaging';
import { installRequestQueueTimerFix, kafkaSecurity } from '@pay/messaging';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';

/** A dependency that is unreachable or misconfigured at start-up; the message is safe to print. */
export class StartupError extends Error {
  override name = 'StartupError';
}

/** The URL without its password, for messages. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

export async function checkPostgres(url: string, timeoutMs = 5_000): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new StartupError(`cannot reach PostgreSQL at DATABASE_URL=${describeDatabaseUrl(url)}: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function checkKafka(connection: KafkaConnection, timeoutMs = 5_000): Promise<void> {
  installRequestQueueTimerFix();
  const { brokers } = connection;
  const kafka = new Kafka({
    clientId: 'preflight',
    brokers,
    ...kafkaSecurity(connection),
    connectionTimeout: timeoutMs,
    retry: { retries: 2, initialRetryTime: 300, maxRetryTime: 1_000 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (error) {
    const as = connection.sasl ? ` as ${connection.sasl.username}` : '';
    throw new StartupError(`cannot reach Kafka at KAFKA_BROKERS=${brokers.join(',')}${as}: ${(error as Error).message}`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
