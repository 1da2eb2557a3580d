/**
 * `npm run kafka:produce` / `kafka:consume` / `kafka:topics`: Apache Kafka's own console tools
 * (what a team that publishes to the platform reaches for first), run from the kafka-tools jars
 * that Maven fetches once from Maven Central (tools/infra/kafka-tools/pom.xml) into
 * .cache/kafka/tools-libs. Every argument after `--` goes to the tool unchanged; the broker is
 * KAFKA_BROKERS, else the local one (`npm run infra:up`, 127.0.0.1:KAFKA_PORT or 9092), unless
 * the arguments name one with --bootstrap-server. See docs/local-infrastructure.md.
 *
 * On a cluster with SASL/SCRAM the tool signs in with KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD
 * (SCRAM-SHA-512 unless KAFKA_SASL_MECHANISM says scram-sha-256): an app backend's principal
 * (`app-<app>`) to publish purchase requests. They reach the tool in a client properties file
 * readable by its owner only (`--command-config`), removed when the tool ends. Against `npm start`'s
 * broker, `KAFKA_USER=app-instagram` is enough: the password comes from .cache/dev-kafka-users.json.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseFlag } from '@pay/config';
import type { BrokerSecurity } from './kafka';
import { DEV_KAFKA_USERS_FILE } from './kafka';

/** Must match <kafka.version> in kafka-tools/pom.xml: it names the jar that proves the fetch is done. */
const KAFKA_TOOLS_VERSION = '4.4.0';
const REPO_ROOT = resolve(__dirname, '..', '..');
const POM = join(__dirname, 'kafka-tools', 'pom.xml');
const LIBS = join(REPO_ROOT, '.cache', 'kafka', 'tools-libs');

/** The console tools, by the name of their npm script, and the class that runs each. */
export const CONSOLE_TOOLS: Readonly<Record<string, string>> = {
  produce: 'org.apache.kafka.tools.ConsoleProducer',
  consume: 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  topics: 'org.apache.kafka.tools.TopicCommand',
};

const log = (line: string): void => void process.stderr.write(`[kafka-console] ${line}\n`);

/** Fetched into a scratch folder renamed when complete, so an interrupted fetch never looks usable. */
export async function ensureToolJars(): Promise<string> {
  if (existsSync(join(LIBS, `kafka-tools-${KAFKA_TOOLS_VERSION}.jar`))) return LIBS;
  const scratch = `${LIBS}.partial`;
  await rm(scratch, { recursive: true, force: true });
  log(`fetching Kafka ${KAFKA_TOOLS_VERSION} console tools with Maven (once; cached in ${LIBS})`);
  try {
    await promisify(execFile)('mvn', ['-q', '-B', '-f', POM, 'dependency:copy-dependencies', `-DoutputDirectory=${scratch}`], { maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    throw new Error(`Fetching the Kafka console tools with Maven failed (is mvn installed and Maven Central reachable?): ${(error as Error).message}`, {
      cause: error,
    });
  }
  await rm(LIBS, { recursive: true, force: true });
  await rename(scratch, LIBS);
  return LIBS;
}

/** KAFKA_BROKERS, else the local development broker. */
export function defaultBootstrapServer(): string {
  const brokers = process.env.KAFKA_BROKERS?.trim();
  if (brokers) return brokers;
  return `127.0.0.1:${process.env.KAFKA_PORT?.trim() || '9092'}`;
}

/** The java command line of one tool: its class, the broker unless the arguments name one, then the arguments. */
export function toolCommand(tool: string, args: readonly string[], libs: string): string[] {
  const mainClass = CONSOLE_TOOLS[tool];
  if (!mainClass) throw new Error(`unknown Kafka console tool "${tool}"; one of: ${Object.keys(CONSOLE_TOOLS).join(', ')}`);
  const named = args.some((arg) => arg === '--bootstrap-server' || arg.startsWith('--bootstrap-server='));
  return ['-cp', `${libs}/*`, mainClass, ...(named ? [] : ['--bootstrap-server', defaultBootstrapServer()]), ...args];
}

/**
 * The client properties of a SASL/SCRAM sign-in from KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD and
 * KAFKA_SASL_MECHANISM (all or none); undefined without them. KAFKA_TLS (true/1, as the services read it) adds TLS.
 */
export function saslClientProperties(env: NodeJS.ProcessEnv, devUsers?: BrokerSecurity): string | undefined {
  const devUser = env.KAFKA_USER?.trim();
  if (devUser && !env.KAFKA_SASL_USERNAME) {
    if (!devUsers) throw new Error(`KAFKA_USER names a user of npm start's broker, but ${DEV_KAFKA_USERS_FILE} does not exist (that broker runs without SASL)`);
    const user = [devUsers.admin, ...devUsers.users].find((candidate) => candidate.name === devUser);
    if (!user)
      throw new Error(
        `KAFKA_USER: npm start's broker has no user "${devUser}"; its users: ${[devUsers.admin, ...devUsers.users].map((u) => u.name).join(', ')}`,
      );
    return saslClientProperties({ ...env, KAFKA_USER: undefined, KAFKA_SASL_USERNAME: user.name, KAFKA_SASL_PASSWORD: user.password });
  }
  const username = env.KAFKA_SASL_USERNAME?.trim();
  const password = env.KAFKA_SASL_PASSWORD;
  const mechanism = env.KAFKA_SASL_MECHANISM?.trim() || 'scram-sha-512';
  if (!username && !password) return undefined;
  if (!username || !/^[A-Za-z0-9._-]{1,64}$/.test(username)) {
    throw new Error('KAFKA_SASL_USERNAME must be a Kafka user name (1 to 64 of A-Z, a-z, 0-9, ".", "_", "-"), e.g. app-instagram');
  }
  // The password goes into a JAAS line between double quotes.
  if (!password || !/^[^\s"\\]{1,512}$/.test(password))
    throw new Error('KAFKA_SASL_PASSWORD must be set with KAFKA_SASL_USERNAME (no spaces, quotes or backslashes)');
  if (mechanism !== 'scram-sha-512' && mechanism !== 'scram-sha-256') throw new Error('KAFKA_SASL_MECHANISM must be scram-sha-256 or scram-sha-512');
  return [
    `security.protocol=${parseFlag('KAFKA_TLS', env.KAFKA_TLS, false) ? 'SASL_SSL' : 'SASL_PLAINTEXT'}`,
    `sasl.mechanism=${mechanism.toUpperCase()}`,
    `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${username}" password="${password}";`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const [tool = '', ...args] = process.argv.slice(2);
  if (!CONSOLE_TOOLS[tool]) throw new Error(`usage: kafka-console.ts <${Object.keys(CONSOLE_TOOLS).join('|')}> [tool arguments]`);
  const devUsers = existsSync(DEV_KAFKA_USERS_FILE) ? (JSON.parse(await readFile(DEV_KAFKA_USERS_FILE, 'utf8')) as BrokerSecurity) : undefined;
  const properties = saslClientProperties(process.env, devUsers);
  const libs = await ensureToolJars();
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  let signIn: string[] = [];
  let scratch: string | undefined;
  if (properties) {
    scratch = await mkdtemp(join(tmpdir(), 'kafka-console-'));
    const file = join(scratch, 'client.properties');
    await writeFile(file, properties, { mode: 0o600 });
    signIn = ['--command-config', file];
  }
  const child = spawn(java, toolCommand(tool, [...signIn, ...args], libs), { stdio: 'inherit' });
  // Ctrl-C reaches the tool through the terminal; a SIGTERM to this process is passed on.
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => {
    const removed = scratch ? rm(scratch, { recursive: true, force: true }) : Promise.resolve();
    void removed.finally(() => process.exit(code ?? (signal ? 1 : 0)));
  });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    log((error as Error).message);
    process.exit(1);
  });
}
