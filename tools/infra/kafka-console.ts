/**
 * `npm run kafka:produce` / `kafka:consume` / `kafka:topics`: Apache Kafka's own console tools
 * (what a team that publishes to the platform reaches for first), run from the kafka-tools jars
 * that Maven fetches once from Maven Central (tools/infra/kafka-tools/pom.xml) into
 * .cache/kafka/tools-libs. Every argument after `--` goes to the tool unchanged; the broker is
 * KAFKA_BROKERS, else the local one (`npm run infra:up`, 127.0.0.1:KAFKA_PORT or 9092), unless
 * the arguments name one with --bootstrap-server. See docs/local-infrastructure.md.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

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

async function main(): Promise<void> {
  const [tool = '', ...args] = process.argv.slice(2);
  if (!CONSOLE_TOOLS[tool]) throw new Error(`usage: kafka-console.ts <${Object.keys(CONSOLE_TOOLS).join('|')}> [tool arguments]`);
  const libs = await ensureToolJars();
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const child = spawn(java, toolCommand(tool, args, libs), { stdio: 'inherit' });
  // Ctrl-C reaches the tool through the terminal; a SIGTERM to this process is passed on.
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    log((error as Error).message);
    process.exit(1);
  });
}
