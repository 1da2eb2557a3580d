/**
 * `npm start`: infrastructure, a build, then the five services and the Pay Hub (the web app), each on its own port with its
 * output prefixed by its name, supervised (tools/supervisor.ts): a service that exits is restarted
 * with backoff while the others keep running; one that keeps failing within 30 s of starting is
 * given up on after 5 tries (logged; the others keep running). Ctrl-C, SIGTERM or SIGHUP (to npm,
 * to this process or to the process group) stops every service: SIGTERM, up to 20 s for a
 * graceful exit, then SIGKILL; the exit code is 0 when all stopped gracefully, 1 otherwise. Kafka
 * and an embedded PostgreSQL keep running for the next start (`npm run infra:down` stops them).
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { devKeyGrants, loadDevKeys, publicJwk } from './dev-keys';
import type { Infrastructure } from '@pay/local-infra';
import { infraUp } from '@pay/local-infra';
import { STRIPE_WEBHOOK_EVENTS } from '@pay/config';
import { stopOnSignals, Supervisor } from './supervisor';

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
  { name: 'support', port: 3005 },
];

/** The web app (apps/pay-hub): its server serves the pages built by `vite build` and forwards to the services. */
export const PAY_HUB: ServiceToStart = { name: 'pay-hub', port: 3000 };

const ROOT = resolve(__dirname, '..');
const log = (line: string): void => void process.stderr.write(`[start] ${line}\n`);

async function waitUntilReady(service: ServiceToStart, supervisor: Supervisor, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (supervisor.gaveUp().includes(service.name)) throw new Error(`${service.name} keeps failing during start-up`);
    if (supervisor.isStopping) return;
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

/**
 * With the simulator, the hub adds cards through its SetupIntents and Stripe.js stand-in and PayPal
 * accounts through its approval page (docs/pay-hub.md, "Cards and PayPal"); the hub alone gets
 * these keys: with STRIPE_SECRET_KEY set, payment-orchestration would leave the simulator.
 */
function hubEnv(env: NodeJS.ProcessEnv, simulated: boolean): NodeJS.ProcessEnv {
  if (!simulated) return env;
  const simulator = 'http://127.0.0.1:12111';
  return {
    STRIPE_SECRET_KEY: 'sk_test_simulator',
    STRIPE_PUBLISHABLE_KEY: 'pk_test_simulator',
    STRIPE_API_HOST: '127.0.0.1',
    STRIPE_API_PORT: '12111',
    STRIPE_API_PROTOCOL: 'http',
    STRIPE_JS_URL: `${simulator}/v3`,
    PAYPAL_API_URL: simulator,
    PAYPAL_CLIENT_ID: 'paypal-simulator-client',
    PAYPAL_CLIENT_SECRET: 'paypal-simulator-secret',
    ...env,
  };
}

function withoutHubSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { HUB_DEV_SIGNING_JWK: _key, HUB_SERVICE_SIGNING_JWK: _hubKey, OIDC_CLIENT_SECRET: _secret, ...rest } = env;
  return rest;
}

/**
 * A service's sign-in to the local broker when it runs with SASL: its own principal's user and
 * password (the simulator and the hub use no Kafka). Each service gets its own password only.
 */
function kafkaSignIn(infra: Infrastructure, service: string): Record<string, string> {
  const user = infra.kafkaUsers?.users.find((candidate) => candidate.name === service);
  return user ? { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: user.name, KAFKA_SASL_PASSWORD: user.password } : {};
}

async function main(): Promise<void> {
  const infra = await infraUp();
  log('building (tsc)…');
  execFileSync(process.execPath, [resolve(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  execFileSync(process.execPath, [resolve(ROOT, 'node_modules/tsc-alias/dist/bin/index.js'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  log('building the Pay Hub web app (vite)…');
  execFileSync(
    process.execPath,
    [resolve(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'apps/pay-hub/web/vite.config.mts', '--logLevel', 'warn'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: infra.databaseUrl, KAFKA_BROKERS: infra.kafkaBrokers.join(',') };
  if (!env.AUTH_JWKS && !env.AUTH_JWKS_URL) {
    // Development identity: `npm run dev:token` signs with the first key (or an app backend's with
    // --app); orchestration calls the wallet with service tokens signed by the second (tools/dev-keys.ts).
    const keys = await loadDevKeys();
    const serviceKeys = [
      keys.orchestrationService,
      ...(keys.supportService ? [keys.supportService] : []),
      ...(keys.payHub ? [keys.payHub] : []),
      ...Object.values(keys.appBackends ?? {}),
    ];
    env.AUTH_JWKS = JSON.stringify({ keys: [publicJwk(keys.identityProvider), ...serviceKeys.map(publicJwk)] });
    env.SERVICE_TOKEN_SIGNING_JWK ??= JSON.stringify(keys.orchestrationService);
    if (keys.supportService) env.SUPPORT_SERVICE_TOKEN_SIGNING_JWK ??= JSON.stringify(keys.supportService);
    env.AUTH_KEY_GRANTS ??= devKeyGrants(keys);
    log('development identity keys in .cache/dev-keys.json; `npm run dev:token -- --sub person-1 --role person` prints a token');
    // The Pay Hub's development sign-in issues tokens with the same identity key.
    env.HUB_SIGN_IN ??= 'development';
    env.HUB_DEV_SIGNING_JWK ??= JSON.stringify(keys.identityProvider);
    // …and attests the mandates it shows with a key of its own (the wallet trusts it within its grant).
    if (keys.payHub) env.HUB_SERVICE_SIGNING_JWK ??= JSON.stringify(keys.payHub);
  }
  // The hub is opened as http://localhost:3000: passkeys need a domain (localhost) as relying party id.
  env.HUB_PUBLIC_URL ??= `http://localhost:${PAY_HUB.port}`;
  env.WEBAUTHN_RP_ID ??= 'localhost';
  env.WEBAUTHN_ORIGINS ??= `${env.HUB_PUBLIC_URL},http://localhost:5173`;
  const services = env.HUB_SIGN_IN ? [...SERVICES, PAY_HUB] : SERVICES;
  if (!env.HUB_SIGN_IN) log('the Pay Hub is not started: set HUB_SIGN_IN=oidc and OIDC_* (docs/pay-hub.md) when AUTH_JWKS names your identity provider');
  // Without a Stripe key or a PayPal client, payment-orchestration talks to the local PSP simulator (it serves both).
  const toStart =
    env.STRIPE_SECRET_KEY && env.PAYPAL_CLIENT_ID
      ? services
      : [...services, { name: 'psp-simulator', port: 12111, readyPath: '/__control/state', main: 'dist/simulators/psp/src/main.js' }];
  // The simulator's Stripe endpoint gets the events orchestration's endpoint is subscribed to in Stripe (docs/deploy.md).
  env.PSP_SIMULATOR_WEBHOOK_EVENTS ??= STRIPE_WEBHOOK_EVENTS.join(',');
  const supervisor = new Supervisor({
    log,
    output: (name, line) => void process.stdout.write(`${name.padEnd(22)}| ${line}\n`),
  });
  const stop = stopOnSignals(supervisor, log);
  supervisor.start(
    toStart.map((service) => ({
      name: service.name,
      command: process.execPath,
      args: [resolve(ROOT, service.main ?? `dist/apps/${service.name}/src/main.js`)],
      cwd: ROOT,
      // The development signing key goes to the hub alone.
      env: {
        ...(service === PAY_HUB ? hubEnv(env, toStart !== services) : withoutHubSecrets(env)),
        ...kafkaSignIn(infra, service.name),
        // One process per service, restarted in its place: the restarted process rejoins its
        // consumer groups as the members its predecessor was (ADR 0015).
        KAFKA_GROUP_INSTANCE_ID: env.KAFKA_GROUP_INSTANCE_ID ?? `local-${service.name}`,
        PORT: String(service.port),
      },
    })),
  );

  try {
    await Promise.all(toStart.map((service) => waitUntilReady(service, supervisor)));
  } catch (error) {
    log(`failed: ${(error as Error).message}`);
    stop('start-up failed', true);
    return;
  }
  if (supervisor.isStopping) return;
  const lines = toStart.map((s) =>
    s.readyPath
      ? `  ${s.name.padEnd(22)} http://127.0.0.1:${s.port}   (Stripe API subset; control API under /__control)`
      : s === PAY_HUB
        ? `  ${s.name.padEnd(22)} ${env.HUB_PUBLIC_URL}   (the web app for persons and analysts; open it in a browser)`
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
