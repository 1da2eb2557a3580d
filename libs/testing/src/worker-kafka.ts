/**
 * One Kafka broker per Jest worker. The end-to-end services read and write the fixed topics of
 * libs/contracts (`payments.events.v1`, `wallet.commands.v1`, …), so two test files on one broker
 * see each other's events; on a broker each, they can run at the same time. The tiers' global
 * set-up starts one broker per worker and lists them in TEST_KAFKA_WORKER_BROKERS; each worker's
 * test environment (worker-kafka-environment.ts) puts its own broker's variables in place of the
 * run-wide ones before any test code, or process it starts, reads them.
 */

/** What names one broker to the test files and the processes they start. */
export interface WorkerBroker {
  KAFKA_BROKERS: string;
  /** The run's own broker (tools/infra/test-kafka.ts): its pid and folder, for an outage test. */
  TEST_KAFKA_PID?: string;
  TEST_KAFKA_HOME?: string;
  /** Its SCRAM users' file, with SASL. */
  TEST_KAFKA_USERS_FILE?: string;
}

export const WORKER_BROKERS_VARIABLE = 'TEST_KAFKA_WORKER_BROKERS';

const FIELDS = ['KAFKA_BROKERS', 'TEST_KAFKA_PID', 'TEST_KAFKA_HOME', 'TEST_KAFKA_USERS_FILE'] as const;

/** TEST_KAFKA_WORKER_BROKERS's value: the brokers in worker order (worker 1 first). */
export function describeWorkerBrokers(brokers: readonly WorkerBroker[]): string {
  return JSON.stringify(brokers);
}

/**
 * The variables that point worker `workerId` (JEST_WORKER_ID, 1-based) at its own broker, from
 * TEST_KAFKA_WORKER_BROKERS; nothing when that is unset (one broker for the run, already in the
 * environment). A worker without a broker of its own is refused: it would share another's topics.
 */
export function workerBrokerEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const listed = env[WORKER_BROKERS_VARIABLE]?.trim();
  if (!listed) return {};
  const brokers = JSON.parse(listed) as WorkerBroker[];
  const workerId = Number(env.JEST_WORKER_ID ?? '1');
  const broker = Number.isInteger(workerId) && workerId >= 1 ? brokers[workerId - 1] : undefined;
  if (!broker?.KAFKA_BROKERS) {
    throw new Error(
      `Jest worker ${env.JEST_WORKER_ID} has no Kafka broker of its own: the global set-up started ${brokers.length} (one per worker, from --maxWorkers).`,
    );
  }
  return Object.fromEntries(FIELDS.flatMap((field) => (broker[field] === undefined ? [] : [[field, broker[field]]])));
}
