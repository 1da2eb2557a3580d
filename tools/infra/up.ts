/**
 * `npm run infra:up`: PostgreSQL and a real Kafka broker, ready for the services and tests.
 * Running it again when everything is up is a quick no-op.
 */
import type { BrokerSecurity } from './kafka';
import { ensureKafka } from './kafka';
import { ensurePostgres } from './postgres';

export interface Infrastructure {
  databaseUrl: string;
  kafkaBrokers: string[];
  /** The local broker's SCRAM users when it runs with SASL (.cache/dev-kafka-users.json): each service signs in as its own. */
  kafkaUsers?: BrokerSecurity;
}

const log = (line: string): void => void process.stderr.write(`[infra] ${line}\n`);

export async function infraUp(): Promise<Infrastructure> {
  const postgres = await ensurePostgres(log);
  const kafka = await ensureKafka(log);
  return { databaseUrl: postgres.url, kafkaBrokers: kafka.brokers, ...(kafka.security ? { kafkaUsers: kafka.security } : {}) };
}

if (require.main === module) {
  infraUp()
    .then((infra) => {
      log(`ready: DATABASE_URL=${new URL(infra.databaseUrl).host} KAFKA_BROKERS=${infra.kafkaBrokers.join(',')}`);
    })
    .catch((error: unknown) => {
      log(`failed: ${(error as Error).message}`);
      process.exit(1);
    });
}
