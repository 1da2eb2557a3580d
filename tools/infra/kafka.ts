/**
 * A real Apache Kafka broker for local development, without Docker.
 *
 * Maven fetches the broker's jars (tools/infra/kafka/pom.xml) into .cache/kafka/libs once; the
 * broker then runs from that classpath as one KRaft node that is both broker and controller.
 * It is started detached so that it outlives the script that started it: `npm run infra:up`
 * returns, and the services keep using the same broker until `stopKafka`. The test tiers run
 * brokers of their own from the same jars (startPrivateBroker, tools/infra/test-kafka.ts).
 *
 * Set KAFKA_BROKERS to use a broker you run yourself instead; KAFKA_PORT moves the local one.
 *
 * A new local broker authenticates and authorizes as production's does: SASL/SCRAM-SHA-512, one
 * user per principal of libs/contracts topic-access and `admin`, their passwords made once and
 * kept in .cache/dev-kafka-users.json (mode 600, as the development signing keys are), the list's
 * ACLs applied on every start. A broker whose storage was formatted before that file existed has no
 * SCRAM users and keeps running without SASL (it says so; `npm run infra:down` and removing
 * .cache/kafka/data gives a new one).
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, ITopicConfig, SASLOptions } from 'kafkajs';
// The entries that import no decorators: the test tiers' global set-up loads this file before anything else.
import { aclBindings, TOPIC_ACCESS } from '@pay/contracts/topic-access';
import type { TopicSpec } from '@pay/contracts/topics';
import { allTopicSpecs } from '@pay/contracts/topics';
import { installRequestQueueTimerFix } from '@pay/messaging/kafkajs-request-queue';
import { grantAcls } from './kafka-acls';
import type { ProcessIdentity, StartLock } from './local-process';
import { isListening, isLiveProcess, logTail, processOutput, signal, sleep, waitForExit, withStartLock } from './local-process';

export interface KafkaInfo {
  brokers: string[];
  /** True when this call started the broker (false when it was already running, or external). */
  startedNow: boolean;
  /** True when KAFKA_BROKERS named the brokers and nothing local was touched. */
  external: boolean;
  /** The local broker's SCRAM users when it runs with SASL (.cache/dev-kafka-users.json). */
  security?: BrokerSecurity;
}

type Log = (line: string) => void;

/** Must match <kafka.version> in kafka/pom.xml: it names the jar that proves the fetch is done. */
const KAFKA_VERSION = '4.4.0';
export const KAFKA_HOST = '127.0.0.1';
const HOST = KAFKA_HOST;
/** How long a starting broker may go without answering and without writing a line to its log (a stall). */
const READY_TIMEOUT_MS = 90_000;
/** However it progresses, a start that takes longer than this has failed. */
const READY_LIMIT_MS = 300_000;
const STOP_TIMEOUT_MS = 30_000;
/** Long enough for another process's first start: a Maven fetch, then up to READY_LIMIT_MS. */
const START_LOCK_TIMEOUT_MS = 480_000;
const TOPIC_METADATA_TIMEOUT_MS = 30_000;
const POLL_MS = 500;
const LOG_TAIL_LINES = 40;

const REPO_ROOT = resolve(__dirname, '..', '..');
const POM = join(__dirname, 'kafka', 'pom.xml');
const HOME = join(REPO_ROOT, '.cache', 'kafka');
/** The development broker's SCRAM users and passwords (BrokerSecurity as JSON). */
export const DEV_KAFKA_USERS_FILE = join(REPO_ROOT, '.cache', 'dev-kafka-users.json');
/** Where one broker keeps its configuration, data and log. */
export interface BrokerFiles {
  home: string;
  data: string;
  serverLog: string;
  properties: string;
  log4j: string;
}

export function brokerFiles(home: string): BrokerFiles {
  return {
    home,
    data: join(home, 'data'),
    serverLog: join(home, 'server.log'),
    properties: join(home, 'server.properties'),
    log4j: join(home, 'log4j2.xml'),
  };
}

/** The development broker's files; the jars in `libs` serve every broker. */
const PATHS = {
  ...brokerFiles(HOME),
  libs: join(HOME, 'libs'),
  pidFile: join(HOME, 'kafka.pid'),
  startLock: join(HOME, 'start.lock'),
} as const;

const execFileAsync = promisify(execFile);
/**
 * Two scripts ensuring Kafka at once (nx runs targets in parallel) must not both launch a
 * broker: the second would die on the data directory's lock after overwriting the pid file,
 * orphaning the first.
 */
const START_LOCK: StartLock = { file: PATHS.startLock, what: 'Kafka', timeoutMs: START_LOCK_TIMEOUT_MS, pollMs: POLL_MS };
/** Our broker: after a reboot the pid file can name an unrelated process. */
const KAFKA_PROCESS: ProcessIdentity = {
  cmdline: (cmdline) => cmdline.includes('kafka.Kafka'),
  ps: (line) => line.includes('kafka.Kafka'),
};

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

export async function ensureKafka(log: Log): Promise<KafkaInfo> {
  const external = externalBrokers();
  if (external) {
    log(`kafka: using external brokers ${external.join(',')} (KAFKA_BROKERS)`);
    await ensureTopics(external, log);
    return { brokers: external, startedNow: false, external: true };
  }

  const port = brokerPort();
  const brokers = [`${HOST}:${port}`];
  const { startedNow, security } = await withStartLock(START_LOCK, () => ensureLocalBroker(port, log));
  await ensureTopics(brokers, log, security);
  if (security) await grantListedAcls(brokers, security);
  return { brokers, startedNow, external: false, ...(security ? { security } : {}) };
}

/** A password of letters and digits (the broker's JAAS line and the storage tool take it unquoted). */
function newPassword(): string {
  return randomBytes(24)
    .toString('base64url')
    .replace(/[^A-Za-z0-9]/g, 'x');
}

/** `admin` and one user per principal of topic-access, each with a new password. */
export function newBrokerSecurity(): BrokerSecurity {
  return {
    admin: { name: 'admin', password: newPassword() },
    users: TOPIC_ACCESS.map((principal) => ({ name: principal.user, password: newPassword() })),
  };
}

/** The ACLs of topic-access, applied as the super user (only the missing ones); returns once the broker enforces them. */
export async function grantListedAcls(brokers: string[], security: BrokerSecurity): Promise<void> {
  const admin = adminClient(brokers, logLevel.NOTHING, security);
  await admin.connect();
  try {
    await grantAcls(admin, aclBindings());
  } finally {
    await admin.disconnect();
  }
}

async function readDevUsers(): Promise<BrokerSecurity | undefined> {
  const text = await readFile(DEV_KAFKA_USERS_FILE, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as BrokerSecurity);
}

/**
 * The users the development broker starts with: those of the file; new ones (written to it) for
 * storage not formatted yet; none for storage formatted without them, which has no SCRAM users.
 * Principals added to topic-access since the file was made are not users of that broker yet.
 */
async function developmentSecurity(log: Log): Promise<BrokerSecurity | undefined> {
  const known = await readDevUsers();
  const formatted = existsSync(join(PATHS.data, 'meta.properties'));
  if (known) return known;
  if (formatted) {
    log(
      `kafka: WARNING this broker's storage was formatted without SCRAM users: it runs without SASL. For one with SASL and ACLs: npm run infra:down, remove ${PATHS.data}, start again.`,
    );
    return undefined;
  }
  const security = newBrokerSecurity();
  await mkdir(dirname(DEV_KAFKA_USERS_FILE), { recursive: true });
  await writeFile(DEV_KAFKA_USERS_FILE, JSON.stringify(security, null, 2), { mode: 0o600 });
  log(`kafka: SCRAM users of the development broker (one per principal of topic-access, and admin) in ${DEV_KAFKA_USERS_FILE}`);
  return security;
}

/** The running broker's users: its server.properties says whether it listens with SASL. */
async function runningSecurity(): Promise<BrokerSecurity | undefined> {
  const properties = await readFile(PATHS.properties, 'utf8').catch(() => '');
  return /^listeners=SASL_PLAINTEXT:/m.test(properties) ? readDevUsers() : undefined;
}

export async function ensureTopics(brokers: string[], log: Log, security?: BrokerSecurity): Promise<void> {
  const replicationFactor = replicationFactorFromEnv();
  // Failures surface as the thrown error; kafkajs's own lines would only repeat each retry.
  const admin = adminClient(brokers, logLevel.NOTHING, security);
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`Could not reach Kafka at ${brokers.join(',')}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const existing = new Set(await admin.listTopics());
    const specs = allTopicSpecs();
    const missing = specs.filter((spec) => !existing.has(spec.name));
    if (missing.length > 0) {
      const topics: ITopicConfig[] = missing.map((spec) => ({
        topic: spec.name,
        numPartitions: spec.partitions,
        replicationFactor,
      }));
      // Returns false (rather than throwing) when another process created them meanwhile.
      await admin.createTopics({ topics, waitForLeaders: true });
      log(`kafka: created ${missing.length} topic(s): ${missing.map((s) => s.name).join(', ')}`);
    }
    await waitForTopicLeaders(
      admin,
      specs.map((spec) => spec.name),
    );
    await warnOnPartitionMismatch(admin, specs, log);
  } finally {
    await admin.disconnect();
  }
}

export async function stopKafka(log: Log): Promise<void> {
  const pid = await runningPid();
  if (pid === undefined) {
    await rm(PATHS.pidFile, { force: true });
    log('kafka: not running');
    return;
  }
  log(`kafka: stopping pid ${pid}`);
  // SIGTERM lets the broker flush and close its logs, so the next start skips log recovery.
  signal(pid, 'SIGTERM');
  if (!(await waitForExit(pid, isKafkaProcess, STOP_TIMEOUT_MS))) {
    log(`kafka: pid ${pid} still alive after ${STOP_TIMEOUT_MS / 1000} s, killing it`);
    signal(pid, 'SIGKILL');
    await waitForExit(pid, isKafkaProcess, 5_000);
  }
  await rm(PATHS.pidFile, { force: true });
  log('kafka: stopped');
}

/**
 * A broker of a test run's own (tools/infra/test-kafka.ts), in `files.home`: not detached, so
 * that it ends with the run even when the run is interrupted. Returns its pid once it answers.
 */
export async function startPrivateBroker(
  files: BrokerFiles,
  port: number,
  log: Log,
  onSpawn: (pid: number) => Promise<void>,
  security?: BrokerSecurity,
): Promise<number> {
  const java = javaExecutable();
  await ensurePortsFree(port);
  // The jars are shared with the development broker: fetch them under its lock.
  await withStartLock(START_LOCK, () => ensureJars(log));
  await writeConfig(port, files, security);
  await formatStorageIfNeeded(java, log, files, security);
  const pid = await spawnBroker(java, files, { detached: false });
  await onSpawn(pid);
  try {
    await waitUntilReady([`${HOST}:${port}`], pid, files, security);
  } catch (error) {
    signal(pid, 'SIGKILL');
    throw error;
  }
  await warmUpCoordinators([`${HOST}:${port}`], security);
  return pid;
}

/** A SCRAM user of a broker with authentication on. */
export interface ScramUser {
  readonly name: string;
  readonly password: string;
}

/**
 * A broker that authenticates every client (SASL/SCRAM-SHA-512) and authorizes each request
 * against ACLs (KRaft's StandardAuthorizer), as production's Strimzi cluster does. `admin` is the
 * super user (the operator's and the broker's own); `users` are created when the storage is
 * formatted. The controller listener stays PLAINTEXT on 127.0.0.1 (the broker's own requests to
 * its controller, as ANONYMOUS, a super user).
 */
export interface BrokerSecurity {
  readonly admin: ScramUser;
  readonly users: readonly ScramUser[];
}

export const SCRAM_MECHANISM = 'scram-sha-512';

/** kafkajs settings of a client that signs in as `user`. */
export function scramClient(user: ScramUser): { sasl: SASLOptions } {
  return { sasl: { mechanism: SCRAM_MECHANISM, username: user.name, password: user.password } };
}

/** Whether `pid` is a live Kafka broker (not a reused pid). */
export function isKafkaBroker(pid: number): boolean {
  return isKafkaProcess(pid);
}

// ---------------------------------------------------------------------------------------------
// Configuration from the environment
// ---------------------------------------------------------------------------------------------

/** host:port, host being a name or an IPv4 address (kafkajs cannot parse bracketed IPv6). */
const BROKER_ADDRESS = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?:(\d{1,5})$/;

function externalBrokers(): string[] | undefined {
  const raw = process.env.KAFKA_BROKERS?.trim();
  if (!raw) return undefined;
  const brokers = raw.split(',').map((entry) => entry.trim());
  for (const broker of brokers) {
    const port = BROKER_ADDRESS.exec(broker)?.[1];
    if (port === undefined || !isPort(Number(port))) {
      throw new Error(
        `KAFKA_BROKERS must be a comma-separated list of host:port (e.g. "kafka-1:9092,kafka-2:9092"); ` + `entry "${broker}" in "${raw}" is not.`,
      );
    }
  }
  return brokers;
}

/** The client port; the controller listens on the next one. */
function brokerPort(): number {
  const raw = process.env.KAFKA_PORT?.trim();
  if (!raw) return 9092;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || !isPort(port) || !isPort(port + 1)) {
    throw new Error(`KAFKA_PORT must be a TCP port below 65535 (the controller takes the next one); got "${raw}".`);
  }
  return port;
}

function replicationFactorFromEnv(): number {
  const raw = process.env.KAFKA_REPLICATION_FACTOR?.trim();
  if (!raw) return 1;
  const factor = Number(raw);
  if (!/^\d+$/.test(raw) || factor < 1) {
    throw new Error(`KAFKA_REPLICATION_FACTOR must be a positive integer; got "${raw}".`);
  }
  return factor;
}

function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

// ---------------------------------------------------------------------------------------------
// Starting the broker
// ---------------------------------------------------------------------------------------------

/** Starts the broker unless ours already runs; startedNow when it started it, and its users when it has SASL. */
async function ensureLocalBroker(port: number, log: Log): Promise<{ startedNow: boolean; security?: BrokerSecurity }> {
  const running = await runningPid();
  if (running === undefined) {
    const security = await startBroker(port, log);
    return { startedNow: true, ...(security ? { security } : {}) };
  }
  await ensureRunningOnPort(port, running);
  const security = await runningSecurity();
  const brokers = [`${HOST}:${port}`];
  // A live broker that does not answer is most likely still starting (its starter was killed
  // before it was ready, or is a slower machine's): wait rather than start a second one.
  if (!(await answers(brokers, security))) {
    log(`kafka: broker pid ${running} is running but not answering yet, waiting`);
    await waitUntilReady(brokers, running, PATHS, security);
  }
  log(`kafka: already running (pid ${running}) on ${brokers.join(',')}${security ? ' with SASL/SCRAM and ACLs' : ''}`);
  return { startedNow: false, ...(security ? { security } : {}) };
}

async function startBroker(port: number, log: Log): Promise<BrokerSecurity | undefined> {
  const java = javaExecutable();
  await ensurePortsFree(port);
  await ensureJars(log);
  const security = await developmentSecurity(log);
  await writeConfig(port, PATHS, security);
  await formatStorageIfNeeded(java, log, PATHS, security);

  const startedAt = Date.now();
  const pid = await spawnBroker(java, PATHS, { detached: true });
  await writeFile(PATHS.pidFile, `${pid}\n`);
  log(`kafka: starting ${KAFKA_VERSION} (pid ${pid}), log in ${PATHS.serverLog}`);
  try {
    await waitUntilReady([`${HOST}:${port}`], pid, PATHS, security);
  } catch (error) {
    // Leave nothing half-started behind: the next ensureKafka starts from a clean slate.
    await stopKafka(log);
    throw error;
  }
  await warmUpCoordinators([`${HOST}:${port}`], security);
  log(`kafka: ready on ${HOST}:${port}${security ? ' with SASL/SCRAM' : ''} after ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  return security;
}

/** server.properties is rewritten on each start, so it tells which port the running broker has. */
async function ensureRunningOnPort(port: number, pid: number): Promise<void> {
  const properties = await readFile(PATHS.properties, 'utf8').catch(() => '');
  const runningPort = /^advertised\.listeners=(?:SASL_)?PLAINTEXT:\/\/[^:]+:(\d+)$/m.exec(properties)?.[1];
  if (runningPort !== undefined && Number(runningPort) !== port) {
    throw new Error(
      `The local Kafka broker (pid ${pid}) runs on port ${runningPort}, not ${port}. ` +
        `Set KAFKA_PORT=${runningPort}, or stop it first (stopKafka / npm run infra:down).`,
    );
  }
}

/** JAVA_HOME wins over PATH, as in Kafka's own scripts. */
function javaExecutable(): string {
  const javaHome = process.env.JAVA_HOME;
  return javaHome ? join(javaHome, 'bin', 'java') : 'java';
}

/**
 * A port held by someone else would make the broker die at bind time; say so plainly instead
 * of pointing at a log file. (Our own broker was already ruled out by the pid file.)
 */
async function ensurePortsFree(port: number): Promise<void> {
  for (const candidate of [port, port + 1]) {
    if (await isListening(HOST, candidate)) {
      throw new Error(
        `Port ${candidate} on ${HOST} is already in use, but not by a broker started from ${PATHS.pidFile}. ` +
          `Stop that process, set KAFKA_PORT to move the local broker (it also takes KAFKA_PORT+1), ` +
          `or set KAFKA_BROKERS to use an existing Kafka.`,
      );
    }
  }
}

/**
 * Maven copies into a scratch folder that is renamed when complete, so an interrupted fetch
 * never leaves a classpath that looks usable. The version-named jar tells a current folder
 * from one left by another Kafka version, whose jars must not mix with these.
 */
async function ensureJars(log: Log): Promise<void> {
  if (existsSync(join(PATHS.libs, `kafka_2.13-${KAFKA_VERSION}.jar`))) return;
  const scratch = `${PATHS.libs}.partial`;
  await rm(scratch, { recursive: true, force: true });
  log(`kafka: fetching Kafka ${KAFKA_VERSION} jars with Maven (once; cached in ${PATHS.libs})`);
  const startedAt = Date.now();
  try {
    await execFileAsync('mvn', ['-q', '-B', '-f', POM, 'dependency:copy-dependencies', `-DoutputDirectory=${scratch}`], { maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const hint = 'is mvn installed and Maven Central reachable?';
    throw new Error(`Fetching the Kafka jars with Maven failed (${hint}):\n${processOutput(error)}`, { cause: error });
  }
  await rm(PATHS.libs, { recursive: true, force: true });
  await rename(scratch, PATHS.libs);
  log(`kafka: jars fetched in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
}

/** Rewritten on every start so that a changed KAFKA_PORT takes effect. */
async function writeConfig(port: number, files: BrokerFiles = PATHS, security?: BrokerSecurity): Promise<void> {
  await mkdir(files.data, { recursive: true });
  await writeFile(files.properties, serverProperties(port, files, security));
  await writeFile(files.log4j, LOG4J2_XML);
}

function serverProperties(port: number, files: BrokerFiles, security?: BrokerSecurity): string {
  const controller = `${HOST}:${port + 1}`;
  const settings: Record<string, string | number | boolean> = {
    // One process is the whole cluster: broker and its own KRaft controller.
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.bootstrap.servers': controller,
    listeners: `PLAINTEXT://${HOST}:${port},CONTROLLER://${controller}`,
    'advertised.listeners': `PLAINTEXT://${HOST}:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': files.data,
    // Internal topics default to replication factor 3, which one broker cannot satisfy, and to
    // 50 partitions each, which only slows a one-node broker's first group or transaction.
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    // Topics come from libs/contracts only; a typo in a topic name must fail, not create one.
    'auto.create.topics.enable': false,
    // The default 3 s delay before the first rebalance would slow every test's consumer start.
    'group.initial.rebalance.delay.ms': 0,
    'num.partitions': 1,
    ...(security ? securedListeners(port, controller, security) : {}),
  };
  const lines = Object.entries(settings).map(([key, value]) => `${key}=${value}`);
  return `# Written by tools/infra/kafka.ts on each start; edits are overwritten.\n${lines.join('\n')}\n`;
}

function securedListeners(port: number, controller: string, security: BrokerSecurity): Record<string, string> {
  const quoted = (value: string): string => {
    if (!/^[A-Za-z0-9._-]+$/.test(value)) throw new Error('SCRAM user names and passwords here must be of A-Z, a-z, 0-9, ".", "_" and "-"');
    return value;
  };
  return {
    listeners: `SASL_PLAINTEXT://${HOST}:${port},CONTROLLER://${controller}`,
    'advertised.listeners': `SASL_PLAINTEXT://${HOST}:${port}`,
    'inter.broker.listener.name': 'SASL_PLAINTEXT',
    'listener.security.protocol.map': 'SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
    'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username="${quoted(security.admin.name)}" password="${quoted(security.admin.password)}";`,
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users': `User:${quoted(security.admin.name)};User:ANONYMOUS`,
    'allow.everyone.if.no.acl.found': 'false',
  };
}

/**
 * The broker's log4j output goes to stderr, which is server.log (truncated on each start, so
 * its tail is about this run). stderr rather than stdout keeps the storage tool's stdout to its
 * answer alone. Request and partition state-change logs are kept to warnings: at INFO they
 * drown what matters when a start fails.
 */
const LOG4J2_XML = `<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by tools/infra/kafka.ts on each start; edits are overwritten. -->
<!-- shutdownHook: Kafka logs its own shutdown from a JVM hook; log4j's hook would stop first. -->
<Configuration status="WARN" shutdownHook="disable">
  <Appenders>
    <Console name="stderr" target="SYSTEM_ERR">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Root level="INFO"><AppenderRef ref="stderr"/></Root>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
  </Loggers>
</Configuration>
`;

function jvmArgs(heap: { min: string; max: string }, files: BrokerFiles): string[] {
  return [
    `-Xms${heap.min}`,
    `-Xmx${heap.max}`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    // The client compiler only: this broker lives for a test run, a bench or a working day, where
    // C2's background compiling costs more than its faster code gains. Measured with four idle
    // consumers (2026-12-06): 59–66 ms of CPU per second with C2, 36–40 with C1 only, and ready
    // after 10 s instead of 19.5 s on a loaded machine. Production brokers are not started here.
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${files.log4j}`,
    '-cp',
    join(PATHS.libs, '*'),
  ];
}

/** `kafka-storage.sh`: the storage tool runs briefly, so a small heap is plenty. */
async function storageTool(java: string, args: string[], files: BrokerFiles): Promise<string> {
  try {
    const jvm = jvmArgs({ min: '64m', max: '256m' }, files);
    const { stdout } = await execFileAsync(java, [...jvm, 'kafka.tools.StorageTool', ...args]);
    return stdout;
  } catch (error) {
    throw new Error(`kafka-storage ${args[0]} failed:\n${processOutput(error)}`, { cause: error });
  }
}

/**
 * KRaft refuses to start on unformatted storage, and formatting twice would fail, so format
 * only when meta.properties is absent. --standalone makes this node the single voter of a
 * dynamic quorum, which is what controller.quorum.bootstrap.servers expects.
 */
async function formatStorageIfNeeded(java: string, log: Log, files: BrokerFiles = PATHS, security?: BrokerSecurity): Promise<void> {
  if (existsSync(join(files.data, 'meta.properties'))) return;
  const clusterId = (await storageTool(java, ['random-uuid'], files)).trim();
  if (!/^[A-Za-z0-9_-]{22}$/.test(clusterId)) {
    throw new Error(`kafka-storage random-uuid printed "${clusterId}", not a cluster id.`);
  }
  const scram = security
    ? [security.admin, ...security.users].flatMap((user) => ['--add-scram', `SCRAM-SHA-512=[name=${user.name},password=${user.password}]`])
    : [];
  await storageTool(java, ['format', '--standalone', '-t', clusterId, '-c', files.properties, ...scram], files);
  log(`kafka: formatted storage in ${files.data} (cluster id ${clusterId})`);
}

/** `kafka-server-start.sh`, unreferenced; detached, the broker outlives this process. */
async function spawnBroker(java: string, files: BrokerFiles, { detached }: { detached: boolean }): Promise<number> {
  const logFile = await open(files.serverLog, 'w');
  try {
    const child = spawn(java, [...jvmArgs({ min: '256m', max: '512m' }, files), 'kafka.Kafka', files.properties], {
      cwd: files.home,
      detached,
      stdio: ['ignore', logFile.fd, logFile.fd],
    });
    await new Promise<void>((done, fail) => {
      const hint = 'is Java 17+ installed?';
      child.once('error', (error) => fail(new Error(`Could not run ${java} (${hint}): ${error.message}`)));
      child.once('spawn', done);
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`${java} started without a pid`);
    return child.pid;
  } finally {
    // The child holds its own copy of the descriptor.
    await logFile.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Readiness and liveness
// ---------------------------------------------------------------------------------------------

// Without it, kafkajs's idle request queues arm negative timers (TimeoutNegativeWarning).
installRequestQueueTimerFix();

function adminClient(brokers: string[], level: logLevel, security?: BrokerSecurity): Admin {
  return new Kafka({
    clientId: 'infra-kafka',
    brokers,
    ...(security ? scramClient(security.admin) : {}),
    logLevel: level,
    connectionTimeout: 2_000,
    requestTimeout: 10_000,
  }).admin();
}

/** One quick attempt, no retries: the caller decides whether and how long to wait. */
async function answers(brokers: string[], security?: BrokerSecurity): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'infra-kafka-probe',
    brokers,
    ...(security ? scramClient(security.admin) : {}),
    // Refused connections are the expected answer while the broker starts; don't print them.
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 3_000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Waits for the broker to answer while it makes progress: on two cores shared by several test runs
 * a start (or a restart on its data, broker-outage.e2e-spec.ts) can take well over 90 s, writing to
 * its log all along. It fails once the log has not grown for READY_TIMEOUT_MS, or after READY_LIMIT_MS.
 */
async function waitUntilReady(brokers: string[], pid: number, files: BrokerFiles = PATHS, security?: BrokerSecurity): Promise<void> {
  const started = Date.now();
  let deadline = started + READY_TIMEOUT_MS;
  let logSize = -1;
  while (Date.now() < deadline) {
    const size = await stat(files.serverLog).then(
      (found) => found.size,
      () => -1,
    );
    if (size !== logSize) {
      logSize = size;
      deadline = Math.min(Date.now() + READY_TIMEOUT_MS, started + READY_LIMIT_MS);
    }
    // Checked after the answer too: an answer from some other broker on the port doesn't count.
    if ((await answers(brokers, security)) && isKafkaProcess(pid)) return;
    if (!isKafkaProcess(pid)) {
      throw new Error(`The Kafka broker (pid ${pid}) exited during startup.\n${await serverLogTail(files)}`);
    }
    await sleep(POLL_MS);
  }
  const waited = `${Math.round((Date.now() - started) / 1000)} s (its log unchanged for ${READY_TIMEOUT_MS / 1000} s, or over ${READY_LIMIT_MS / 1000} s in all)`;
  throw new Error(`The Kafka broker did not answer on ${brokers.join(',')} within ${waited}.\n${await serverLogTail(files)}`);
}

/**
 * A new broker creates __consumer_offsets and __transaction_state on the first group or
 * transactional request, and allocates producer ids lazily; until then clients get
 * "coordinator not available / loading", log errors and retry. Pay that once, here, so the
 * first test's consumer and idempotent or transactional producer start promptly and quietly.
 */
async function warmUpCoordinators(brokers: string[], security?: BrokerSecurity): Promise<void> {
  const kafka = new Kafka({ clientId: 'infra-kafka-warm-up', brokers, logLevel: logLevel.NOTHING, ...(security ? scramClient(security.admin) : {}) });
  const admin = kafka.admin();
  const producer = kafka.producer({ transactionalId: 'infra-kafka-warm-up', idempotent: true, maxInFlightRequests: 1 });
  await admin.connect();
  try {
    await admin.describeGroups(['infra-kafka-warm-up']);
    await producer.connect(); // Gets an idempotent producer id.
    // kafkajs finds the transaction coordinator only when a transaction begins.
    const transaction = await producer.transaction();
    await transaction.abort();
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
}

function serverLogTail(files: BrokerFiles): Promise<string> {
  return logTail(files.serverLog, LOG_TAIL_LINES);
}

/** The pid from the pid file, if that process is still our broker. */
async function runningPid(): Promise<number | undefined> {
  const text = await readFile(PATHS.pidFile, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return isKafkaProcess(pid) ? pid : undefined;
}

/**
 * Alive, not a zombie, and running kafka.Kafka: after a reboot the pid file can name an
 * unrelated process, which must be neither trusted nor killed.
 */
function isKafkaProcess(pid: number): boolean {
  return isLiveProcess(pid, KAFKA_PROCESS);
}

// ---------------------------------------------------------------------------------------------
// Topics
// ---------------------------------------------------------------------------------------------

/** Producers that start right after creation fail with LEADER_NOT_AVAILABLE until this holds. */
async function waitForTopicLeaders(admin: Admin, names: string[]): Promise<void> {
  const deadline = Date.now() + TOPIC_METADATA_TIMEOUT_MS;
  let pending = names;
  while (Date.now() < deadline) {
    const { topics } = await admin.fetchTopicMetadata({ topics: names });
    const ready = new Set(topics.filter((topic) => topic.partitions.length > 0 && topic.partitions.every((p) => p.leader >= 0)).map((topic) => topic.name));
    pending = names.filter((name) => !ready.has(name));
    if (pending.length === 0) return;
    await sleep(POLL_MS);
  }
  throw new Error(`Topics without a leader after ${TOPIC_METADATA_TIMEOUT_MS / 1000} s: ${pending.join(', ')}`);
}

/**
 * An existing topic with another partition count is reported, not altered: adding partitions
 * changes which partition a key lands on, which breaks per-key ordering of what is already there.
 */
async function warnOnPartitionMismatch(admin: Admin, specs: TopicSpec[], log: Log): Promise<void> {
  const { topics } = await admin.fetchTopicMetadata({ topics: specs.map((spec) => spec.name) });
  const actual = new Map(topics.map((topic) => [topic.name, topic.partitions.length]));
  for (const spec of specs) {
    const count = actual.get(spec.name);
    if (count !== undefined && count !== spec.partitions) {
      log(`kafka: WARNING topic ${spec.name} has ${count} partitions, libs/contracts declares ${spec.partitions}`);
    }
  }
}

/** A port whose next one is free too: the broker's controller listens there. */
export async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const port = await listenBriefly(0);
    if (
      port < 65535 &&
      (await listenBriefly(port + 1).then(
        () => true,
        () => false,
      ))
    )
      return port;
  }
  throw new Error('Found no two consecutive free TCP ports on 127.0.0.1 for the test broker.');
}

function listenBriefly(port: number): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(port, HOST, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      server.close(() => done(bound));
    });
  });
}
