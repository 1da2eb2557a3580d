/**
 * Which PostgreSQL and Kafka the integration and end-to-end tiers use: a pure choice from the
 * environment and whether a Docker engine answers, made once by the tiers' global set-up.
 *
 * Kafka: KAFKA_BROKERS when set; else a broker started with testcontainers when Docker answers;
 * else a broker of the run's own, from the Maven-fetched jars, on free ports with a fresh data
 * directory (never the 127.0.0.1:9092 broker `npm start` uses, whose data outlives a run).
 * That broker of the run's own runs with SASL/SCRAM and the ACLs of libs/contracts topic-access
 * (every service and test client signs in as its principal, as in production) unless
 * TEST_KAFKA_SASL=0; TEST_KAFKA_SASL=1 asks for it also where Docker answers. SASL cannot be
 * asked for together with KAFKA_BROKERS (that broker's users are not ours).
 * PostgreSQL: TEST_DATABASE_URL when set; else DATABASE_URL's server, database `<its name>_test`;
 * else a testcontainers PostgreSQL when Docker answers; else the local server's test database.
 * The test database is never the development one.
 */

/** The database `npm start` uses, on the local server (tools/infra/postgres.ts LOCAL_DATABASE_URL). */
export const DEVELOPMENT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/payments';
/** The broker `npm start` uses (tools/infra/kafka.ts, the services' default KAFKA_BROKERS). */
export const DEVELOPMENT_KAFKA_BROKERS = ['127.0.0.1:9092'];
export const TEST_DATABASE_NAME = 'payments_test';
export const LOCAL_TEST_DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${TEST_DATABASE_NAME}`;

export type KafkaPlan =
  | { source: 'KAFKA_BROKERS'; brokers: string[] }
  | { source: 'testcontainers' }
  /** A broker of the run's own, from the jars (tools/infra/test-kafka.ts). */
  | { source: 'own broker'; sasl: boolean };

export type PostgresPlan =
  | { source: 'TEST_DATABASE_URL'; url: string }
  | { source: 'DATABASE_URL'; url: string }
  | { source: 'testcontainers' }
  | { source: 'local server'; url: string };

export interface TestInfrastructurePlan {
  kafka: KafkaPlan;
  postgres: PostgresPlan;
}

export type TestEnvironment = Partial<Record<'KAFKA_BROKERS' | 'DATABASE_URL' | 'TEST_DATABASE_URL' | 'TEST_KAFKA_SASL', string>>;

/** Whether the plan depends on Docker at all: asking a Docker engine costs time, so ask only then. */
export function needsDockerAnswer(env: TestEnvironment): boolean {
  const kafkaChosen = set(env.KAFKA_BROKERS) || saslAsked(env);
  return !kafkaChosen || (!set(env.TEST_DATABASE_URL) && !set(env.DATABASE_URL));
}

/** TEST_KAFKA_SASL: "1" (the run's own broker with SASL and ACLs, even where Docker answers). */
function saslAsked(env: TestEnvironment): boolean {
  return saslSetting(env) === 'on';
}

/** TEST_KAFKA_SASL: "1" on, "0" off, unset: on for the run's own broker, off for the others. */
function saslSetting(env: TestEnvironment): 'on' | 'off' | 'default' {
  const raw = env.TEST_KAFKA_SASL?.trim();
  if (raw === undefined || raw === '') return 'default';
  if (raw === '0') return 'off';
  if (raw === '1') return 'on';
  throw new Error(`TEST_KAFKA_SASL must be 1 (the run's broker with SASL/SCRAM and ACLs) or 0; got "${raw}".`);
}

export function planTestInfrastructure(env: TestEnvironment, dockerAnswers: boolean): TestInfrastructurePlan {
  return { kafka: planKafka(env, dockerAnswers), postgres: planPostgres(env, dockerAnswers) };
}

function planKafka(env: TestEnvironment, dockerAnswers: boolean): KafkaPlan {
  const brokers = env.KAFKA_BROKERS?.trim();
  const setting = saslSetting(env);
  const sasl = setting === 'on';
  if (brokers && sasl) {
    throw new Error(
      "TEST_KAFKA_SASL=1 starts a broker of the run's own with its users and ACLs; unset KAFKA_BROKERS, or TEST_KAFKA_SASL to use those brokers.",
    );
  }
  if (brokers) return { source: 'KAFKA_BROKERS', brokers: brokers.split(',').map((broker) => broker.trim()) };
  if (sasl) return { source: 'own broker', sasl: true };
  return dockerAnswers ? { source: 'testcontainers' } : { source: 'own broker', sasl: setting !== 'off' };
}

function planPostgres(env: TestEnvironment, dockerAnswers: boolean): PostgresPlan {
  const testUrl = env.TEST_DATABASE_URL?.trim();
  const developmentUrl = env.DATABASE_URL?.trim() || DEVELOPMENT_DATABASE_URL;
  if (testUrl) {
    if (sameDatabase(testUrl, developmentUrl)) {
      throw new Error(
        `TEST_DATABASE_URL names the development database (${databaseOf(testUrl)} on ${hostOf(testUrl)}); tests drop schemas there. Name another database, e.g. ${TEST_DATABASE_NAME}.`,
      );
    }
    return { source: 'TEST_DATABASE_URL', url: testUrl };
  }
  const configured = env.DATABASE_URL?.trim();
  if (configured) return { source: 'DATABASE_URL', url: withDatabase(configured, `${databaseOf(configured)}_test`) };
  return dockerAnswers ? { source: 'testcontainers' } : { source: 'local server', url: LOCAL_TEST_DATABASE_URL };
}

export function sameDatabase(a: string, b: string): boolean {
  return hostOf(a) === hostOf(b) && databaseOf(a) === databaseOf(b);
}

function set(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '';
}

function hostOf(url: string): string {
  const parsed = new URL(url);
  const host = parsed.hostname === 'localhost' ? '127.0.0.1' : parsed.hostname;
  return `${host}:${parsed.port || '5432'}`;
}

function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
