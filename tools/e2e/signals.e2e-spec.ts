/**
 * Signals a built service gets from operators and Kubernetes: SIGHUP reloads (the wallet's
 * rollout file) or is acknowledged, and never stops the service; SIGTERM stops it with exit 0.
 */
import type { StartedService } from '@pay/testing';
import { builtServiceEnv, dropSchema, startBuiltService, testDatabaseUrl, uniqueName } from '@pay/testing';

describe.each([
  // The wallet rereads its rollout file (unchanged here, so it logs nothing).
  ['wallet', undefined, { PAYMENTS_LEDGER_CONSUMER_GROUP: 'payments-ledger', FUNDS_COMMANDS_CONSUMER_GROUP: 'funds-commands' }],
  ['history-projection', /SIGHUP: this service has no file to reload; still running/, { HISTORY_CONSUMER_GROUP: 'history' }],
] as const)('%s under signals', (service, reloaded, groups) => {
  const schema = uniqueName(`it_signals_${service.replace(/-/g, '_')}`);
  let started: StartedService | undefined;

  afterAll(async () => {
    await started?.stop('SIGKILL');
    await dropSchema(testDatabaseUrl(), schema);
  });

  it('keeps serving after SIGHUP, and exits 0 on SIGTERM', async () => {
    // Own consumer groups: this process must not take the real groups' partitions.
    const env = Object.fromEntries(Object.entries(groups).map(([key, value]) => [key, `${schema}.${value}`]));
    started = await startBuiltService(service, { env: builtServiceEnv({ DB_SCHEMA: schema, ...env }) });
    started.child.kill('SIGHUP');
    if (reloaded) await started.waitForOutput(reloaded);
    // Before SIGHUP was kept from the shutdown hooks, the service had begun stopping by now.
    await new Promise((next) => setTimeout(next, 1_500));
    expect(started.child.exitCode).toBeNull();
    expect(started.output()).not.toMatch(/shutting down/);
    expect((await fetch(`${started.url}/health/live`)).status).toBe(200);
    expect((await started.stop('SIGTERM'))?.code).toBe(0);
  });
});
