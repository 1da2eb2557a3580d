/**
 * Signals a built service gets from operators and Kubernetes: SIGHUP reloads (the wallet's
 * rollout file) or is acknowledged, and never stops the service; SIGTERM stops it with exit 0.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { dropSchema, testDatabaseUrl, testKafkaBrokers, uniqueName } from '@pay/testing';

const ROOT = resolve(__dirname, '../..');

interface Started {
  child: ChildProcess;
  url: string;
  logs(): string;
  exited: Promise<number | null>;
}

async function startBuilt(service: string, env: Record<string, string>): Promise<Started> {
  const main = resolve(ROOT, `dist/apps/${service}/src/main.js`);
  if (!existsSync(main)) throw new Error(`${main} is missing: the integration tier runs \`npm run build\` first`);
  const child = spawn(process.execPath, [main], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', DATABASE_URL: testDatabaseUrl(), KAFKA_BROKERS: testKafkaBrokers().join(','), HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', OUTBOX_RELAY_NAME: 'it', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const found = /"url":"(http:\/\/[^"]+)"/.exec(output);
    if (found?.[1]) return { child, url: found[1], logs: () => output, exited };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${service} did not start: ${output.slice(-2_000)}`);
    await new Promise((next) => setTimeout(next, 100));
  }
}

async function waitForLog(started: Started, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!pattern.test(started.logs())) {
    if (Date.now() > deadline) throw new Error(`no log line matching ${pattern}: ${started.logs().slice(-2_000)}`);
    await new Promise((next) => setTimeout(next, 100));
  }
}

describe.each([
  // The wallet rereads its rollout file (unchanged here, so it logs nothing).
  ['wallet', undefined, { PAYMENTS_LEDGER_CONSUMER_GROUP: 'payments-ledger', FUNDS_COMMANDS_CONSUMER_GROUP: 'funds-commands' }],
  ['history-projection', /SIGHUP: this service has no file to reload; still running/, { HISTORY_CONSUMER_GROUP: 'history' }],
] as const)('%s under signals', (service, reloaded, groups) => {
  const schema = uniqueName(`it_signals_${service.replace(/-/g, '_')}`);
  let started: Started | undefined;

  afterAll(async () => {
    if (started && started.child.exitCode === null) started.child.kill('SIGKILL');
    await dropSchema(testDatabaseUrl(), schema);
  });

  it('keeps serving after SIGHUP, and exits 0 on SIGTERM', async () => {
    // Own consumer groups: this process must not take the real groups' partitions.
    const env = Object.fromEntries(Object.entries(groups).map(([key, value]) => [key, `${schema}.${value}`]));
    started = await startBuilt(service, { DB_SCHEMA: schema, ...env });
    started.child.kill('SIGHUP');
    if (reloaded) await waitForLog(started, reloaded);
    // Before SIGHUP was kept from the shutdown hooks, the service had begun stopping by now.
    await new Promise((next) => setTimeout(next, 1_500));
    expect(started.child.exitCode).toBeNull();
    expect(started.logs()).not.toMatch(/shutting down/);
    expect((await fetch(`${started.url}/health/live`)).status).toBe(200);
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
  });
});
