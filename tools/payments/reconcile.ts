/**
 * `npm run payments:reconcile` (or `npx tsx tools/payments/reconcile.ts`): finds payments stuck in
 * a non-final status longer than a limit and converges them on the PSP's truth (retrieve), the
 * way payment-orchestration's reconciliation use case does; applies webhooks recorded but never
 * applied. Prints a JSON report. Exit 0: nothing left in conflict; 1: conflicts for an operator
 * (nothing was forced); 2: bad input or failure.
 *
 * Reads payment-orchestration's environment (docs/configuration.md): DATABASE_URL, DB_SCHEMA,
 * STRIPE_*, WALLET_URL, SERVICE_TOKEN_SIGNING_JWK, RECONCILE_STUCK_AFTER_SECONDS.
 * Flags: --stuck-after <seconds> (default RECONCILE_STUCK_AFTER_SECONDS), --limit <n> (default 500).
 *
 * Runs under tsx, which emits no decorator metadata: everything is built by hand
 * (createPaymentDrivers), never through Nest's injection.
 */
import 'reflect-metadata';
import { noServiceToken } from '@pay/auth';
import { ConfigError, loadConfig } from '@pay/config';
import { createLogger } from '@pay/observability';
import { createServiceDataSource } from '@pay/platform';
import type { JWK } from 'jose';
import {
  createPaymentDrivers,
  createPaymentServiceProviders,
  HttpWalletInstruments,
  orchestrationFundsCommandAttester,
  orchestrationServiceTokens,
  parsePspRoutes,
  PaymentOrchestrationConfig,
  payPalSettingsFrom,
  stripeSettingsFrom,
} from '@pay/payment-orchestration/tools';
import { parseCommandLine, UsageError, wholeNumberFlag } from '../command-line';

const USAGE = 'usage: npm run payments:reconcile -- [--stuck-after <seconds>] [--limit <n>]';

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const flags = parseCommandLine(argv, { 'stuck-after': { type: 'string' }, limit: { type: 'string' } }, USAGE);
  const config = loadConfig('payment-orchestration', PaymentOrchestrationConfig, env);
  const stuckAfterSeconds = wholeNumberFlag(
    'stuck-after',
    flags['stuck-after'],
    { min: 0, max: 31_536_000, unit: 'seconds', fallback: config.RECONCILE_STUCK_AFTER_SECONDS },
    USAGE,
  );
  const limit = wholeNumberFlag('limit', flags.limit, { min: 1, max: 1_000_000, fallback: 500 }, USAGE);
  const logger = createLogger('payments-reconcile', config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const dataSource = createServiceDataSource({
    url: config.DATABASE_URL,
    schema: config.DB_SCHEMA ?? 'payment_orchestration',
    migrations: [],
    poolSize: 4,
    applicationName: 'payments-reconcile',
  });
  await dataSource.initialize();
  try {
    const tokens = config.SERVICE_TOKEN_SIGNING_JWK
      ? await orchestrationServiceTokens(JSON.parse(config.SERVICE_TOKEN_SIGNING_JWK) as JWK, {
          issuer: config.AUTH_ISSUER,
          audience: config.AUTH_AUDIENCE,
        })
      : noServiceToken;
    // A transfer voided here asks the wallet with a command it must be able to attribute to orchestration.
    const fundsCommandAttester = await orchestrationFundsCommandAttester(config.SERVICE_TOKEN_SIGNING_JWK, {
      issuer: config.AUTH_ISSUER,
      audience: config.AUTH_AUDIENCE,
    });
    const drivers = createPaymentDrivers({
      dataSource,
      logger,
      // Each provider is asked for the truth about the payments it holds.
      providers: createPaymentServiceProviders({
        stripe: stripeSettingsFrom(config),
        paypal: payPalSettingsFrom(config),
        routes: parsePspRoutes(config.PSP_ROUTES),
      }),
      instruments: new HttpWalletInstruments(config.WALLET_URL, tokens, config.WALLET_TIMEOUT_MS, { waitMs: config.WALLET_RELEASE_BATCH_WAIT_MS }),
      stepConcurrency: 1,
      stepLeaseMs: config.PAYMENT_STEP_LEASE_SECONDS * 1000,
      stepPollMs: config.PAYMENT_STEP_POLL_MS,
      ...(fundsCommandAttester ? { fundsCommandAttester } : {}),
    });
    const report = await drivers.reconcile.run({ stuckAfterMs: stuckAfterSeconds * 1000, limit });
    process.stdout.write(`${JSON.stringify({ stuckAfterSeconds, ...report }, null, 2)}\n`);
    return report.conflicts.length > 0 ? 1 : 0;
  } finally {
    await dataSource.destroy();
  }
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const usage = error instanceof UsageError || error instanceof ConfigError;
    process.stderr.write(`payments:reconcile: ${usage ? 'usage: ' : ''}${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
