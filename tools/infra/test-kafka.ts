/**
 * A Kafka broker of one test run's own, from the same jars as the development broker
 * (tools/infra/kafka.ts) but on free ports, with a fresh data directory under
 * .cache/kafka-test/, stopped and removed by the run that started it. The development broker
 * (127.0.0.1:9092, .cache/kafka) is never touched: what the tests publish never reaches
 * `npm start`, and two runs never see each other's events.
 *
 * The broker is not detached: an interrupted run (Ctrl-C) takes it along. A run killed outright
 * leaves its folder, with its owner's pid, and the next run stops that broker and removes it.
 *
 * With `sasl`, the broker authenticates and authorizes as production's does (SASL/SCRAM-SHA-512,
 * KRaft's StandardAuthorizer): one SCRAM user per principal of libs/contracts topic-access with a
 * password of this run's, `admin` the super user, and the list's ACLs in force before the broker
 * is handed out. The users and passwords are written to the run's folder (readable by its owner
 * only) for the tests' clients and the services they start (libs/testing testKafkaCredentials).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { BrokerSecurity } from './kafka';
import { brokerFiles, ensureTopics, freePortPair, grantListedAcls, isKafkaBroker, KAFKA_HOST, newBrokerSecurity, startPrivateBroker } from './kafka';
import { isAlive, signal, waitForExit } from './local-process';

type Log = (line: string) => void;

export interface TestKafka {
  brokers: string[];
  pid: number;
  /** Its folder (data, configuration, pid): what killTestKafka and restartTestKafka are given. */
  home: string;
  /** With `sasl`: the file of its SCRAM users (BrokerSecurity as JSON), for TEST_KAFKA_USERS_FILE. */
  usersFile?: string;
  stop(): Promise<void>;
}

export interface TestKafkaOptions {
  /** SASL/SCRAM and ACLs, as production (see above). */
  sasl?: boolean;
}

const USERS_FILE = 'scram-users.json';

/** The users of a test broker started with `sasl` (undefined for one without). */
export async function readTestBrokerSecurity(home: string): Promise<BrokerSecurity | undefined> {
  const text = await readFile(join(home, USERS_FILE), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as BrokerSecurity);
}

const RUNS = resolve(__dirname, '..', '..', '.cache', 'kafka-test');
const OWNER_FILE = 'owner.pid';
const BROKER_PID_FILE = 'kafka.pid';
const STOP_TIMEOUT_MS = 15_000;

export async function startTestKafka(log: Log, options: TestKafkaOptions = {}): Promise<TestKafka> {
  await removeAbandonedRuns(log);
  await mkdir(RUNS, { recursive: true });
  const home = await mkdtemp(join(RUNS, `run-${process.pid}-`));
  await writeFile(join(home, OWNER_FILE), `${process.pid}\n`);
  const startedAt = Date.now();
  try {
    const port = await freePortPair();
    const brokers = [`${KAFKA_HOST}:${port}`];
    const security = options.sasl ? newBrokerSecurity() : undefined;
    const usersFile = security ? join(home, USERS_FILE) : undefined;
    if (security && usersFile) await writeFile(usersFile, JSON.stringify(security), { mode: 0o600 });
    const pid = await startPrivateBroker(brokerFiles(home), port, log, (spawned) => writeFile(join(home, BROKER_PID_FILE), `${spawned}\n`), security);
    await ensureTopics(brokers, log, security);
    if (security) await grantListedAcls(brokers, security);
    const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
    const secured = security ? ` with SASL/SCRAM and the ACLs of topic-access (${security.users.length} principals)` : '';
    log(`kafka: the run's own broker (pid ${pid}) ready on ${brokers.join(',')}${secured} after ${seconds} s; data in ${home}, removed at the end`);
    return { brokers, pid, home, ...(usersFile ? { usersFile } : {}), stop: () => stopRun(home, log) };
  } catch (error) {
    await stopRun(home, log);
    throw error;
  }
}

/**
 * An outage of the run's broker, for the tests that need one: SIGKILLed (no clean shutdown, as a
 * crashed node), its data and port kept for restartTestKafka. Returns once the process is gone.
 */
export async function killTestKafka(home: string): Promise<void> {
  const pid = Number((await readFile(join(home, BROKER_PID_FILE), 'utf8').catch(() => '')).trim());
  if (!isKafkaBroker(pid)) throw new Error(`no broker of this run is running in ${home}`);
  signal(pid, 'SIGKILL');
  if (!(await waitForExit(pid, isKafkaBroker, STOP_TIMEOUT_MS))) throw new Error(`the broker (pid ${pid}) did not exit after SIGKILL`);
}

/**
 * Starts the run's broker again on its data and port (after killTestKafka); returns its pid once
 * it answers. Its pid is recorded, so the run's teardown stops it as it would the first.
 */
export async function restartTestKafka(home: string, brokers: string[], log: Log): Promise<number> {
  const port = Number(/:(\d+)$/.exec(brokers[0] ?? '')?.[1]);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no broker port in ${brokers.join(',')}`);
  // A broker started with SASL keeps it: its configuration is rewritten from its users.
  const security = await readTestBrokerSecurity(home);
  return startPrivateBroker(brokerFiles(home), port, log, (spawned) => writeFile(join(home, BROKER_PID_FILE), `${spawned}\n`), security);
}

/** Stops the run's broker (if it still runs) and removes its folder. */
async function stopRun(home: string, log: Log): Promise<void> {
  const pid = Number((await readFile(join(home, BROKER_PID_FILE), 'utf8').catch(() => '')).trim());
  if (isKafkaBroker(pid)) {
    // The data is thrown away, but SIGTERM lets the broker close its ports before we return.
    signal(pid, 'SIGTERM');
    if (!(await waitForExit(pid, isKafkaBroker, STOP_TIMEOUT_MS))) {
      signal(pid, 'SIGKILL');
      await waitForExit(pid, isKafkaBroker, 5_000);
    }
    log(`kafka: the run's own broker (pid ${pid}) stopped`);
  }
  await rm(home, { recursive: true, force: true });
}

/** Folders of runs whose owner is gone (killed before its teardown): their brokers are stopped. */
async function removeAbandonedRuns(log: Log): Promise<void> {
  if (!existsSync(RUNS)) return;
  for (const entry of await readdir(RUNS, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const home = join(RUNS, entry.name);
    const owner = Number((await readFile(join(home, OWNER_FILE), 'utf8').catch(() => '')).trim());
    if (isAlive(owner)) continue;
    log(`kafka: removing ${home}, left by a test run that ended without its teardown`);
    await stopRun(home, log);
  }
}
