/**
 * `npm start`: infrastructure, a build, then the four services, each on its own port with its
 * output prefixed by its name. Ctrl-C (or SIGTERM) stops the services cleanly; Kafka and an
 * embedded PostgreSQL keep running for the next start (`npm run infra:down` stops them).
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { loadDevKeys, orchestrationKeyGrants, publicJwk } from './dev-keys';
import { infraUp } from '@pay/local-infra';

interface ServiceToStart {
  name: string;
  port: number;
  /** Where to ask whether it is ready (the simulator has no health endpoint of ours). */
  readyPath?: string;
  /** Its compiled entry point, when it is not a service of apps/ (the simulator is test support). */
  main?: string;
}

export const SERVICES: readonly ServiceToStart[] = [
  { name: 'wallet', port: 3001 },
  { name: 'payment-orchestration', port: 3002 },
  { name: 'history-projection', port: 3003 },
  { name: 'ad-signal-aggregation', port: 3004 },
];

const ROOT = resolve(__dirname, '..');
const log = (line: string): void => void process.stderr.write(`[start] ${line}\n`);

function startService(service: ServiceToStart, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [resolve(ROOT, service.main ?? `dist/apps/${service.name}/src/main.js`)], {
    cwd: ROOT,
    env: { ...env, PORT: String(service.port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${service.name.padEnd(22)}| ${line}\n`));
  }
  return child;
}

async function waitUntilReady(service: ServiceToStart, child: ChildProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${service.name} exited with code ${child.exitCode} during start-up`);
    try {
      const response = await fetch(`http://127.0.0.1:${service.port}${service.readyPath ?? '/health/ready'}`);
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 500));
  }
  throw new Error(`${service.name} was not ready within ${timeoutMs / 1000} s`);
}

async function main(): Promise<void> {
  const infra = await infraUp();
  log('building (tsc)…');
  execFileSync(process.execPath, [resolve(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  execFileSync(process.execPath, [resolve(ROOT, 'node_modules/tsc-alias/dist/bin/index.js'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: infra.databaseUrl, KAFKA_BROKERS: infra.kafkaBrokers.join(',') };
  if (!env.AUTH_JWKS && !env.AUTH_JWKS_URL) {
    // Development identity: `npm run dev:token` signs with the first key; orchestration calls
    // the wallet with service tokens signed by the second (tools/dev-keys.ts).
    const keys = await loadDevKeys();
    env.AUTH_JWKS = JSON.stringify({ keys: [publicJwk(keys.identityProvider), publicJwk(keys.orchestrationService)] });
    env.SERVICE_TOKEN_SIGNING_JWK ??= JSON.stringify(keys.orchestrationService);
    env.AUTH_KEY_GRANTS ??= orchestrationKeyGrants(keys.orchestrationService.kid as string);
    log('development identity keys in .cache/dev-keys.json; `npm run dev:token -- --sub person-1 --role person` prints a token');
  }
  // Without a Stripe key, payment-orchestration talks to the local PSP simulator.
  const toStart = env.STRIPE_SECRET_KEY
    ? SERVICES
    : [...SERVICES, { name: 'psp-simulator', port: 12111, readyPath: '/__control/state', main: 'dist/simulators/psp/src/main.js' }];
  const children = new Map(toStart.map((service) => [service, startService(service, env)]));

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping the services…`);
    const exits = [...children.values()].map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
        }),
    );
    void Promise.all(exits).then(() => {
      log('all services stopped (Kafka keeps running: `npm run infra:down` stops it)');
      process.exit(0);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  for (const [service, child] of children) {
    child.once('exit', (code) => {
      if (!stopping) {
        log(`${service.name} exited unexpectedly (code ${code}); stopping the others`);
        stop('SIGTERM');
      }
    });
  }

  await Promise.all([...children].map(([service, child]) => waitUntilReady(service, child)));
  const lines = toStart.map((s) =>
    s.readyPath
      ? `  ${s.name.padEnd(22)} http://127.0.0.1:${s.port}   (Stripe API subset; control API under /__control)`
      : `  ${s.name.padEnd(22)} http://127.0.0.1:${s.port}   (OpenAPI: /docs, health: /health/ready)`,
  );
  process.stdout.write(
    `\nAll services are up:\n${lines.join('\n')}\n  Kafka ${infra.kafkaBrokers.join(',')}, PostgreSQL ${new URL(infra.databaseUrl).host}\nCtrl-C stops them.\n\n`,
  );
}

main().catch((error: unknown) => {
  log(`failed: ${(error as Error).message}`);
  process.exit(1);
});
