/**
 * A service run the way production runs it: `node dist/apps/<name>/src/main.js` (built by
 * `npm run build`), in a process of its own that gets PATH and the environment it is given,
 * nothing else. Its output is captured; its URL is read from the line it logs when it listens.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { testDatabaseUrl } from './database-url';
import { testKafkaBrokers, testServiceKafkaCredentials } from './kafka';

const ROOT = resolve(__dirname, '../../..');
/** How much of the output an error message quotes. */
const QUOTED_OUTPUT = 2_000;

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** `Date.now()` when the process ended. */
  at: number;
}

export interface BuiltServiceOptions {
  /** The process's whole environment but PATH (see `builtServiceEnv` for the usual one). */
  env: Record<string, string>;
  /** Node's own arguments, before the entry point (e.g. `--require` of a probe). */
  nodeArgs?: string[];
}

export interface BuiltService {
  readonly name: string;
  readonly child: ChildProcess;
  /** The JSON log lines of stdout so far, parsed (other lines are left out). */
  readonly logs: ReadonlyArray<Record<string, unknown>>;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** stderr so far. */
  stderr(): string;
  /** Resolves once the process has ended and its output is read to the end. */
  readonly exited: Promise<ServiceExit>;
  /** The URL of the line logged when the service listens; rejects if it exits first or does not listen in time. */
  listening(timeoutMs?: number): Promise<string>;
  /** Waits until the output matches `pattern`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** The exit, or undefined when the process still runs after `timeoutMs`. */
  waitForExit(timeoutMs: number): Promise<ServiceExit | undefined>;
  /** Sends `signal` (unless the process has already ended) and waits for the exit as `waitForExit` does. */
  stop(signal: NodeJS.Signals, timeoutMs?: number): Promise<ServiceExit | undefined>;
}

export interface StartedService extends BuiltService {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
}

/** The entry point of a built service; throws when the build has not made it. */
export function builtServiceMain(name: string): string {
  const main = resolve(ROOT, `dist/apps/${name}/src/main.js`);
  if (!existsSync(main)) throw new Error(`${main} is missing: the integration tier runs \`npm run build\` first`);
  return main;
}

/** What a built service runs with in the integration tier: the test database and brokers, any free port on 127.0.0.1. */
export function builtServiceEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: testDatabaseUrl(),
    KAFKA_BROKERS: testKafkaBrokers().join(','),
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    OUTBOX_RELAY_NAME: 'it',
    ...overrides,
  };
}

/** Spawns a built service and returns at once (see `startBuiltService` to wait until it listens). */
export function spawnBuiltService(name: string, options: BuiltServiceOptions): BuiltService {
  const main = builtServiceMain(name);
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), main], {
    cwd: ROOT,
    // A service signs in to a broker with SASL as its own principal (unless the test names another).
    env: { PATH: process.env.PATH ?? '', ...testServiceKafkaCredentials(name, options.env), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let output = '';
  let stderr = '';
  let partialLine = '';
  let announce: (url: string) => void = () => undefined;
  const announced = new Promise<string>((done) => (announce = done));
  const takeLine = (line: string): void => {
    let log: Record<string, unknown>;
    try {
      log = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // not a log line
    }
    if (typeof log !== 'object' || log === null) return;
    logs.push(log);
    if (typeof log.url === 'string' && typeof log.docs === 'string') announce(log.url);
  };
  child.stdout.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    output += text;
    const lines = (partialLine + text).split('\n');
    partialLine = lines.pop() ?? '';
    for (const line of lines) takeLine(line);
  });
  child.stdout.on('end', () => {
    if (partialLine) takeLine(partialLine);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    output += text;
    stderr += text;
  });
  // 'exit' can come before the last output is read; 'close' comes after both.
  let endedAt = 0;
  child.once('exit', () => (endedAt = Date.now()));
  const exited = new Promise<ServiceExit>((done) =>
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => done({ code, signal, at: endedAt || Date.now() })),
  );
  const quoted = (): string => output.slice(-QUOTED_OUTPUT);
  const hasEnded = (): boolean => child.exitCode !== null || child.signalCode !== null;

  const waitForExit = (timeoutMs: number): Promise<ServiceExit | undefined> =>
    new Promise((done) => {
      const timer = setTimeout(() => done(undefined), timeoutMs).unref();
      void exited.then((exit) => {
        clearTimeout(timer);
        done(exit);
      });
    });

  return {
    name,
    child,
    logs,
    output: () => output,
    stderr: () => stderr,
    exited,
    listening: (timeoutMs = 60_000) =>
      new Promise((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`${name} not listening after ${timeoutMs / 1000} s: ${quoted()}`)), timeoutMs);
        void announced.then((url) => {
          clearTimeout(timer);
          done(url);
        });
        void exited.then((exit) => {
          clearTimeout(timer);
          fail(new Error(`${name} exited (code ${exit.code}, signal ${exit.signal}) before listening: ${quoted()}`));
        });
      }),
    async waitForOutput(pattern, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (Date.now() > deadline) throw new Error(`no output of ${name} matching ${pattern}: ${quoted()}`);
        await new Promise((next) => setTimeout(next, 100));
      }
    },
    waitForExit,
    async stop(signal, timeoutMs = 30_000) {
      if (!hasEnded()) child.kill(signal);
      return waitForExit(timeoutMs);
    },
  };
}

/** Spawns a built service and waits until it listens; one that does not is killed. */
export async function startBuiltService(name: string, options: BuiltServiceOptions & { listenTimeoutMs?: number }): Promise<StartedService> {
  const service = spawnBuiltService(name, options);
  try {
    return Object.assign(service, { url: await service.listening(options.listenTimeoutMs) });
  } catch (error) {
    await service.stop('SIGKILL', 10_000);
    throw error;
  }
}
