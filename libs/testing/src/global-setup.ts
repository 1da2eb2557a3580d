// First: Jest loads this file outside its module mapper; path-aliases.ts resolves the @pay/* aliases below.
import './path-aliases';
import { ensureDatabase, ensureTopics } from '@pay/local-infra';
import { dockerEngineAnswers, startKafkaContainer, startPostgresContainer, startTestKafka } from '@pay/local-infra/test-tiers';
import type { TestInfrastructurePlan } from './test-infrastructure-plan';
import { DEVELOPMENT_KAFKA_BROKERS, needsDockerAnswer, planTestInfrastructure } from './test-infrastructure-plan';
import type { WorkerBroker } from './worker-kafka';
import { describeWorkerBrokers, WORKER_BROKERS_VARIABLE } from './worker-kafka';

type Stop = () => Promise<void>;

/** Shared by both tiers' set-ups and teardowns when one Jest run selects both. */
interface RunInfrastructure {
  users: number;
  stops: Stop[];
}

const KEY = '__payTestInfrastructure';
const log = (line: string): void => void process.stderr.write(`[test infra] ${line}\n`);

export function runInfrastructure(): RunInfrastructure | undefined {
  return (globalThis as Record<string, unknown>)[KEY] as RunInfrastructure | undefined;
}

/**
 * Runs once before the integration or end-to-end tier: a PostgreSQL test database and a Kafka
 * broker of the run's own (test-infrastructure-plan.ts says which), announced to the test files
 * through TEST_DATABASE_URL, DATABASE_URL and KAFKA_BROKERS (TEST_KAFKA_SOURCE says where the
 * broker came from); global-teardown.ts stops what this started. A broker with SASL
 * (TEST_KAFKA_SASL=1) adds KAFKA_SASL_MECHANISM and TEST_KAFKA_USERS_FILE, the file of its users
 * and passwords that testKafka() and testKafkaCredentials(user) read (never the passwords
 * themselves in the environment, which every child process inherits).
 *
 * A run with several workers (`--maxWorkers`, Jest's globalConfig) gets one broker per worker,
 * started side by side, each with the same users, ACLs and topics: TEST_KAFKA_WORKER_BROKERS lists
 * them and each worker's test environment takes its own (worker-kafka.ts). The end-to-end files
 * share the fixed topics of libs/contracts, so on one broker they could only run one at a time.
 */
export default async function globalSetup(globalConfig?: { maxWorkers?: number }): Promise<void> {
  const running = runInfrastructure();
  if (running) {
    running.users += 1;
    return;
  }
  const state: RunInfrastructure = { users: 1, stops: [] };
  (globalThis as Record<string, unknown>)[KEY] = state;

  const dockerAnswers = needsDockerAnswer(process.env) ? await dockerEngineAnswers() : false;
  const plan = planTestInfrastructure(process.env, dockerAnswers);
  log(describePlan(plan, dockerAnswers));
  if (
    plan.kafka.source === 'KAFKA_BROKERS' &&
    plan.kafka.brokers.some((broker) => DEVELOPMENT_KAFKA_BROKERS.includes(broker.replace(/^localhost:/, '127.0.0.1:')))
  ) {
    log(
      'WARNING: KAFKA_BROKERS names the broker `npm start` uses; the services it starts will read the events these tests leave. Unset it to give the run a broker of its own.',
    );
  }
  try {
    const databaseUrl = await providePostgres(plan, state.stops);
    await ensureDatabase(databaseUrl);
    const workers = Math.max(1, globalConfig?.maxWorkers ?? 1);
    if (plan.kafka.source === 'KAFKA_BROKERS' && workers > 1) {
      log(
        `WARNING: KAFKA_BROKERS names one broker for ${workers} workers: end-to-end files, which share the fixed topics, will see each other's events. Run them with --maxWorkers=1.`,
      );
    }
    const count = plan.kafka.source === 'KAFKA_BROKERS' ? 1 : workers;
    // Settled, not Promise.all: when one fails, the catch below must stop every one that started.
    const started = await Promise.allSettled(Array.from({ length: count }, () => provideKafka(plan, state.stops)));
    const brokers = started.map((outcome) => {
      if (outcome.status === 'rejected') throw outcome.reason;
      return outcome.value;
    });
    // Test files and every process they start inherit these: a child that forgets to set
    // DATABASE_URL lands in the test database, never the development one. The run-wide Kafka
    // variables name the first broker; each worker's environment replaces them with its own.
    process.env.TEST_DATABASE_URL = databaseUrl;
    process.env.DATABASE_URL = databaseUrl;
    Object.assign(process.env, brokers[0]);
    if (count > 1) {
      process.env[WORKER_BROKERS_VARIABLE] = describeWorkerBrokers(brokers);
      log(`kafka: one broker per worker (${count}): ${brokers.map((broker) => broker.KAFKA_BROKERS).join(', ')}`);
    }
    process.env.TEST_KAFKA_SOURCE = plan.kafka.source;
    if (plan.kafka.source === 'own broker' && plan.kafka.sasl) process.env.KAFKA_SASL_MECHANISM = 'scram-sha-512';
  } catch (error) {
    await stopAll(state.stops);
    throw error;
  }
}

export async function stopAll(stops: Stop[]): Promise<void> {
  for (const stop of stops.splice(0).reverse()) await stop();
}

function describePlan(plan: TestInfrastructurePlan, dockerAnswers: boolean): string {
  const kafka = {
    KAFKA_BROKERS: 'Kafka: KAFKA_BROKERS',
    testcontainers: 'Kafka: testcontainers (a Docker engine answers)',
    'own broker': `Kafka: a broker of this run's own, from the jars${dockerAnswers ? '' : ' (no Docker engine answers)'}`,
  }[plan.kafka.source];
  const sasl = plan.kafka.source === 'own broker' && plan.kafka.sasl ? ', with SASL/SCRAM and ACLs (TEST_KAFKA_SASL=0: without)' : '';
  const postgres = {
    TEST_DATABASE_URL: 'PostgreSQL: TEST_DATABASE_URL',
    DATABASE_URL: "PostgreSQL: DATABASE_URL's server, its _test database",
    testcontainers: 'PostgreSQL: testcontainers (a Docker engine answers)',
    'local server': 'PostgreSQL: the local server, database payments_test',
  }[plan.postgres.source];
  return `${kafka}${sasl}; ${postgres}`;
}

async function providePostgres(plan: TestInfrastructurePlan, stops: Stop[]): Promise<string> {
  if (plan.postgres.source !== 'testcontainers') return plan.postgres.url;
  const container = await startPostgresContainer(log);
  stops.push(container.stop);
  return container.url;
}

/** One broker (its stop pushed on `stops` once it runs) and the variables that name it. */
async function provideKafka(plan: TestInfrastructurePlan, stops: Stop[]): Promise<WorkerBroker> {
  switch (plan.kafka.source) {
    case 'KAFKA_BROKERS':
      await ensureTopics(plan.kafka.brokers, log);
      return { KAFKA_BROKERS: plan.kafka.brokers.join(',') };
    case 'testcontainers': {
      const container = await startKafkaContainer(log);
      stops.push(container.stop);
      await ensureTopics(container.brokers, log);
      return { KAFKA_BROKERS: container.brokers.join(',') };
    }
    case 'own broker': {
      const kafka = await startTestKafka(log, { sasl: plan.kafka.sasl });
      stops.push(kafka.stop);
      return {
        KAFKA_BROKERS: kafka.brokers.join(','),
        TEST_KAFKA_PID: String(kafka.pid),
        TEST_KAFKA_HOME: kafka.home,
        ...(kafka.usersFile ? { TEST_KAFKA_USERS_FILE: kafka.usersFile } : {}),
      };
    }
  }
}
