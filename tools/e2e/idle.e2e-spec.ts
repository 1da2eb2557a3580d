/**
 * The four services idle send PostgreSQL nothing: started from dist (`npm run build` first, as
 * `npm run test:int` does) with the statement-counting preload, settled (every service ready,
 * every consumer group joined), then watched for a few seconds without load. Every timer-driven
 * thing — outbox relays, the step worker, the webhook sweeper, the ad-signal window closer, the
 * wallet's reservation sweeper — sleeps until it is told or until a known deadline, so each
 * service's count stays still. (The wallet's sweeper still looks once a minute for holds another
 * instance recorded; the window below ends well inside its first minute.)
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Topics } from '@pay/contracts';
import { dropSchema, testDatabaseUrl, testKafka, uniqueName, waitFor } from '@pay/testing';
import type { Admin } from 'kafkajs';
import type { PaymentsPlatform, StatementCounts } from './e2e-kit';
import { countingStatements, spawnFromDist, startGroupAtEnd, startPaymentsPlatform, statementCounts, stopChild } from './e2e-kit';

/** How long the settled platform is watched: a measured interval, not a wait for a condition. */
const WATCH_MS = 5_000;

let statsDir: string;
let platform: PaymentsPlatform | undefined;
let admin: Admin | undefined;
const services: Array<{ name: string; process: ChildProcess }> = [];
const schemas: string[] = [];

afterAll(async () => {
  for (const service of services.slice(1)) await stopChild(service.process, 'SIGTERM');
  await platform?.stop();
  await admin?.disconnect();
  for (const schema of schemas) await dropSchema(testDatabaseUrl(), schema).catch(() => undefined);
  if (statsDir) await rm(statsDir, { recursive: true, force: true });
}, 60_000);

it('idle, the four services send no statement to PostgreSQL', async () => {
  statsDir = await mkdtemp(join(tmpdir(), 'idle-statements-'));
  const env = (name: string): Record<string, string> => ({ LOG_LEVEL: 'warn', ...countingStatements(statsDir, name) });
  const historyGroup = uniqueName('history-projection.idle');
  const adsGroup = uniqueName('ad-signal-aggregation.idle');
  const historySchema = uniqueName('idle_history');
  const adsSchema = uniqueName('idle_ads');
  schemas.push(historySchema, adsSchema);
  // The projections read the real topics from where they end. Each call joins the group for seconds: one group's topics
  // one after the other (two at once on one group lose a commit), the two groups beside each other and the platform's start.
  const atEnd = async (group: string, topics: string[]): Promise<void> => {
    for (const topic of topics) await startGroupAtEnd(group, topic);
  };
  const groupsAtEnd = Promise.all([
    atEnd(historyGroup, [Topics.paymentEvents, Topics.ledgerTransactions, Topics.walletEvents]),
    atEnd(adsGroup, [Topics.paymentEvents, Topics.walletEvents]),
  ]);
  platform = await startPaymentsPlatform({
    inProcessOrchestration: false,
    walletFromDist: true,
    walletEnv: env('wallet'),
    orchestrationEnv: env('payment-orchestration'),
  });
  services.push({ name: 'wallet', process: platform.wallet.process! });
  await groupsAtEnd;
  const projectionEnv = { ...platform.commonEnv, OUTBOX_RELAY_NAME: 'e2e', AUTH_JWKS: JSON.stringify(platform.idp.jwks) };
  const [orchestration, history, ads] = await Promise.all([
    spawnFromDist('payment-orchestration', platform.orchestrationEnv),
    spawnFromDist('history-projection', { ...projectionEnv, DB_SCHEMA: historySchema, HISTORY_CONSUMER_GROUP: historyGroup, ...env('history-projection') }),
    // The closer at its shortest interval: were it still polling, it would run several times below.
    spawnFromDist('ad-signal-aggregation', {
      ...projectionEnv,
      DB_SCHEMA: adsSchema,
      AD_SIGNALS_CONSUMER_GROUP: adsGroup,
      AD_SIGNALS_CLOSE_INTERVAL_MS: '1000',
      ...env('ad-signal-aggregation'),
    }),
  ]);
  services.push(
    { name: 'payment-orchestration', process: orchestration.process },
    { name: 'history-projection', process: history.process },
    { name: 'ad-signal-aggregation', process: ads.process },
  );

  // Settled: every service is ready (spawnFromDist waited for it) and every consumer group has joined.
  admin = testKafka().admin();
  await admin.connect();
  const groups = [
    platform.groups.walletPayments,
    platform.groups.walletFunds,
    `${platform.groups.orchestrationPrefix}.purchase-requests`,
    `${platform.groups.orchestrationPrefix}.wallet-events`,
    historyGroup,
    adsGroup,
  ];
  await waitFor(
    async () => (await admin!.describeGroups(groups)).groups.map((group) => ({ group: group.groupId, state: group.state, members: group.members.length })),
    (described) => described.length === groups.length && described.every((group) => group.state === 'Stable' && group.members > 0),
    { what: 'every consumer group joined', timeoutMs: 60_000 },
  );

  const counts = async (): Promise<Record<string, StatementCounts>> =>
    Object.fromEntries(
      await Promise.all(services.map(async (service) => [service.name, await statementCounts(service.process.pid!, statsDir, service.name)] as const)),
    );
  const before = await counts();
  await delay(WATCH_MS);
  const after = await counts();
  const sent = Object.fromEntries(services.map(({ name }) => [name, after[name].statements - before[name].statements]));
  expect(sent).toEqual({ wallet: 0, 'payment-orchestration': 0, 'history-projection': 0, 'ad-signal-aggregation': 0 });
  // The preload counted something before: the services did talk to PostgreSQL while starting.
  for (const { name } of services) expect(before[name].statements).toBeGreaterThan(0);
}, 120_000);
