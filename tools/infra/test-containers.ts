/**
 * The test tiers' PostgreSQL and Kafka as containers, where a Docker engine answers
 * (libs/testing/src/test-infrastructure-plan.ts decides). testcontainers is loaded only when
 * asked, so that a run that needs no container never pays for it. Not exercised on the
 * project's own machines, which have no Docker engine (docs/testing.md).
 */

type Log = (line: string) => void;

/** Kafka 3.9 in KRaft mode; the tests' clients speak the protocol kafkajs speaks to 4.x as well. */
const KAFKA_IMAGE = 'confluentinc/cp-kafka:7.9.1';
const POSTGRES_IMAGE = 'postgres:15-alpine';
const KAFKA_PORT = 9093;

export async function dockerEngineAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

export async function startKafkaContainer(log: Log): Promise<{ brokers: string[]; stop: () => Promise<void> }> {
  log(`kafka: starting ${KAFKA_IMAGE} with testcontainers`);
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const container = await new KafkaContainer(KAFKA_IMAGE).withKraft().start();
  const brokers = [`${container.getHost()}:${container.getMappedPort(KAFKA_PORT)}`];
  log(`kafka: container ready on ${brokers.join(',')}`);
  return { brokers, stop: async () => void (await container.stop()) };
}

export async function startPostgresContainer(log: Log): Promise<{ url: string; stop: () => Promise<void> }> {
  log(`postgres: starting ${POSTGRES_IMAGE} with testcontainers`);
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer(POSTGRES_IMAGE).withDatabase('payments_test').start();
  log(`postgres: container ready on ${container.getHost()}:${container.getPort()}`);
  return { url: container.getConnectionUri(), stop: async () => void (await container.stop()) };
}
