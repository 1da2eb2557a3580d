/**
 * Crashes under `npm start`'s supervisor (issue 15): the five services npm start runs — wallet,
 * payment-orchestration, history-projection, ad-signal-aggregation and support — from dist under
 * the Supervisor of `npm start` (tools/supervisor.ts, its default backoff), with a steady load of
 * purchases. Each service in turn is SIGKILLed; the supervisor restarts it by itself (its log says
 * so) and the next kill waits until it is ready again (and, after orchestration's and the wallet's,
 * until purchases are being captured again and every purchase published before the restart was ready
 * is captured, so that one kill's outage does not count in another's recovery). Then:
 * every purchase captured once (one Captured event, one PaymentIntent), posted once, in history
 * once, known to support once (its captured amount not doubled) and to ad signals once; postings
 * sum to zero per currency. Last, SIGTERM to the supervisor while purchases still arrive: every
 * service stops gracefully, each one's time printed.
 *
 * The PSP simulator runs in this process: under npm start it is supervised too, but it keeps its
 * PaymentIntents in memory, so a restart would forget them (Stripe does not); it stands outside the test.
 *
 * Recovery figures are printed (`[supervised crash e2e]` lines), not asserted as timings beyond
 * a loose bound (RECOVERY_P99_BOUND_SECONDS on orchestration's p99; the machine is shared): per
 * kill, kill → restarted process ready and → its consumer groups Stable with the new process alone; for orchestration and the wallet, p50/p99 publish→captured
 * of the purchases in flight at the kill and of those published while it was down, and their
 * capture counted from the restart being ready. `npm run bench:recovery` runs this file with more
 * load (RECOVERY_RATE, RECOVERY_CAPTURES_BETWEEN_KILLS) for figures on a quiet machine;
 * RECOVERY_SESSION_TIMEOUT_MS sets the services' consumer session timeout, RECOVERY_LOG_LEVEL their
 * LOG_LEVEL (info: each consumer's stop is printed after the SIGTERM). `npm run build` first.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { IsFlag, IsWholeNumber, loadConfig, LOG_LEVELS } from '@pay/config';
import { IsIn, IsOptional } from 'class-validator';
import { Topics } from '@pay/contracts';
import { dropSchema, prometheusValue, scrapeMetrics, testDatabaseUrl, testKafka, testServiceKafkaCredentials, uniqueName, waitFor } from '@pay/testing';
import type { SupervisedService } from '../supervisor';
import { Supervisor } from '../supervisor';
import type { PaymentsPlatform, TestPerson } from './e2e-kit';
import { feeOf, freePort, purchaseOf, schemaQuery, startGroupAtEnd, startPaymentsPlatform } from './e2e-kit';

class RecoveryConfig {
  /** Purchases offered per second, throughout. */
  @IsWholeNumber({ min: 1, max: 200, unit: 'purchases per second' })
  RECOVERY_RATE = 5;

  /** Purchases captured before the first kill and after each restart, before the next kill. */
  @IsWholeNumber({ min: 1, max: 10_000, unit: 'purchases' })
  RECOVERY_CAPTURES_BETWEEN_KILLS = 10;

  /**
   * The bound asserted on p99 publish→captured of the purchases in flight at orchestration's kill or
   * published while it was down. The goal is 10 s after the restart on a quiet machine, read
   * from the printed figures; 60 s holds on the shared machine (21-31 s measured at load 11-23,
   * docs/benchmarks.md "Session 7") and still fails for a recovery that waits for a whole 30 s
   * session or an old 120 s step lease.
   */
  @IsWholeNumber({ min: 1, max: 3_600, unit: 'seconds' })
  RECOVERY_P99_BOUND_SECONDS = 60;

  /** The services' KAFKA_SESSION_TIMEOUT_MS (unset: their default, 10 s); 30000 reproduces the figures before session 7. */
  @IsOptional()
  @IsWholeNumber({ min: 6_000, max: 300_000, unit: 'milliseconds' })
  RECOVERY_SESSION_TIMEOUT_MS?: number;

  /**
   * The services' KAFKA_REJOIN_AFTER_RESTART (each has a KAFKA_GROUP_INSTANCE_ID, as under npm start):
   * false joins as new members after the kill, which then wait for the dead members' sessions (the figures before ADR 0015).
   */
  @IsFlag()
  RECOVERY_REJOIN_AFTER_RESTART = true;

  /** The services' LOG_LEVEL (info shows each consumer's stop); their lines written after the SIGTERM are printed. */
  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  RECOVERY_LOG_LEVEL = 'warn';
}

const config = loadConfig('supervised-crash', RecoveryConfig);
const RATE = config.RECOVERY_RATE;
const BETWEEN = config.RECOVERY_CAPTURES_BETWEEN_KILLS;
const ROOT = resolve(__dirname, '../..');
const MERCHANT = 'merchant-supervised';
const ORCHESTRATION = 'payment-orchestration';
/** The order of the kills: the purchase path first, then the read sides. */
const VICTIMS = ['payment-orchestration', 'wallet', 'history-projection', 'ad-signal-aggregation', 'support'] as const;
type Victim = (typeof VICTIMS)[number];
/** The services a purchase's capture goes through (their kills delay captures; the read sides' do not). */
const PURCHASE_PATH = new Set<Victim>(['payment-orchestration', 'wallet']);

const log = (line: string): void => void process.stderr.write(`[supervised crash e2e] ${line}\n`);
const mainOf = (name: string): string => resolve(ROOT, `dist/apps/${name}/src/main.js`);

let platform: PaymentsPlatform | undefined;
let supervisor: Supervisor | undefined;
const supervisorLines: string[] = [];
/** The last lines each service wrote (printed when a test fails to say why). */
const output = new Map<string, string[]>();
const urls = new Map<Victim, string>();
/** The consumer groups each service is a member of. */
const groupsOf = new Map<Victim, string[]>();
const historySchema = uniqueName('e2e_sup_history');
const adsSchema = uniqueName('e2e_sup_ads');
const supportSchema = uniqueName('e2e_sup_support');
const startedAt = Date.now();
/** When the supervisor was asked to stop (the services' lines from then on are printed). */
let stoppingAt: number | undefined;
/** When each service's last consumer logged `stopped` after the SIGTERM (seen at RECOVERY_LOG_LEVEL=info). */
const consumersStopped = new Map<string, number>();

const ready = (url: string): Promise<boolean> =>
  fetch(`${url}/health/ready`).then(
    (response) => response.status === 200,
    () => false,
  );

/** Whether the service's consumers of every group joined it (messaging_consumer_state: connected), as its /metrics says. */
async function joinedGroups(url: string, groups: string[]): Promise<boolean> {
  const text = await scrapeMetrics(url).catch(() => '');
  return groups.every((group) => prometheusValue(text, 'messaging_consumer_state', { consumer: group, state: 'connected' }) === 1);
}

/** Each group's members, or its state when it is not Stable (empty, rebalancing). */
async function membersOf(groups: string[]): Promise<Array<{ group: string; state: string; members: string[] }>> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const { groups: described } = await admin.describeGroups(groups);
    return described.map((group) => ({ group: group.groupId, state: group.state, members: group.members.map((member) => member.memberId) }));
  } finally {
    await admin.disconnect();
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

beforeAll(async () => {
  for (const name of VICTIMS) if (!existsSync(mainOf(name))) throw new Error(`${mainOf(name)} is missing: run \`npm run build\` first`);
  platform = await startPaymentsPlatform({ inProcessOrchestration: false, walletStartedBy: 'caller', logLevel: 'warn' });
  const run = platform;
  // Each group under its service's prefix: on a broker with ACLs a service may use only those.
  const historyGroup = uniqueName('history-projection.e2e-sup');
  const adsGroup = uniqueName('ad-signal-aggregation.e2e-sup');
  const supportGroup = uniqueName('support.e2e-sup');
  // The read sides start at the topics' current end: they see this run's events only.
  for (const topic of [Topics.paymentEvents, Topics.ledgerTransactions, Topics.walletEvents]) {
    await startGroupAtEnd(historyGroup, topic);
    await startGroupAtEnd(supportGroup, topic);
  }
  for (const topic of [Topics.paymentEvents, Topics.walletEvents]) await startGroupAtEnd(adsGroup, topic);
  const readSide = { ...run.commonEnv, LOG_LEVEL: config.RECOVERY_LOG_LEVEL, OUTBOX_RELAY_NAME: 'e2e', AUTH_JWKS: JSON.stringify(run.idp.jwks) };
  const envs: Record<Victim, Record<string, string>> = {
    wallet: { ...run.wallet.env!, LOG_LEVEL: config.RECOVERY_LOG_LEVEL },
    'payment-orchestration': { ...run.orchestrationEnv, LOG_LEVEL: config.RECOVERY_LOG_LEVEL },
    'history-projection': { ...readSide, DB_SCHEMA: historySchema, HISTORY_CONSUMER_GROUP: historyGroup, PORT: String(await freePort()) },
    'ad-signal-aggregation': { ...readSide, DB_SCHEMA: adsSchema, AD_SIGNALS_CONSUMER_GROUP: adsGroup, PORT: String(await freePort()) },
    support: {
      ...readSide,
      DB_SCHEMA: supportSchema,
      SUPPORT_CONSUMER_GROUP: supportGroup,
      PAYMENT_ORCHESTRATION_URL: run.orchestrationUrl,
      PORT: String(await freePort()),
    },
  };
  for (const name of VICTIMS) urls.set(name, `http://127.0.0.1:${envs[name].PORT}`);
  groupsOf.set('wallet', [run.groups.walletPayments, run.groups.walletFunds]);
  groupsOf.set('payment-orchestration', [`${run.groups.orchestrationPrefix}.purchase-requests`, `${run.groups.orchestrationPrefix}.wallet-events`]);
  groupsOf.set('history-projection', [historyGroup]);
  groupsOf.set('ad-signal-aggregation', [adsGroup]);
  groupsOf.set('support', [supportGroup]);
  supervisor = new Supervisor({
    log: (line) => {
      supervisorLines.push(line);
      log(`supervisor: ${line}`);
    },
    output: (name, line) => {
      const lines = output.get(name) ?? [];
      lines.push(line);
      if (lines.length > 50) lines.shift();
      output.set(name, lines);
      if (stoppingAt === undefined) return;
      log(`${name} after SIGTERM +${seconds(Date.now() - stoppingAt)}: ${line.slice(0, 300)}`);
      // At LOG_LEVEL info each consumer logs its stop: the last one's time is the service's consumers stopped.
      if (line.includes('"state":"stopped"')) consumersStopped.set(name, Date.now());
    },
  });
  const services: SupervisedService[] = VICTIMS.map((name) => ({
    name,
    command: process.execPath,
    args: [mainOf(name)],
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      ...envs[name],
      // On a broker with SASL, each signs in as itself (nothing where the broker has none).
      ...testServiceKafkaCredentials(name, envs[name]),
      ...(config.RECOVERY_SESSION_TIMEOUT_MS === undefined ? {} : { KAFKA_SESSION_TIMEOUT_MS: String(config.RECOVERY_SESSION_TIMEOUT_MS) }),
      KAFKA_GROUP_INSTANCE_ID: `${name}-e2e`,
      KAFKA_REJOIN_AFTER_RESTART: String(config.RECOVERY_REJOIN_AFTER_RESTART),
    },
  }));
  supervisor.start(services);
  for (const name of VICTIMS) await waitFor(() => ready(urls.get(name)!), Boolean, { what: `${name} ready under the supervisor`, timeoutMs: 180_000 });
  log(`five services ready under the supervisor ${seconds(Date.now() - startedAt)} after the file started`);
}, 300_000);

afterAll(async () => {
  await supervisor?.stop('end of test');
  await platform?.stop();
  for (const schema of [historySchema, adsSchema, supportSchema]) await dropSchema(testDatabaseUrl(), schema).catch(() => undefined);
  log(`file took ${seconds(Date.now() - startedAt)} (from its start to its end, the broker's start not included)`);
}, 120_000);

/** Publishes purchases at RATE per second until `stop()`; remembers when each was published, and its amount. */
function startLoad(run: PaymentsPlatform, persons: TestPerson[]): { publishedAt: Map<string, number>; amounts: Map<string, bigint>; stop(): Promise<void> } {
  const publishedAt = new Map<string, number>();
  const amounts = new Map<string, bigint>();
  let publishing = true;
  const loop = (async () => {
    for (let i = 0; publishing; i += 1) {
      const tick = Date.now();
      const requestId = randomUUID();
      const amount = 1_000n + BigInt(i);
      publishedAt.set(requestId, Date.now());
      amounts.set(requestId, amount);
      await run.publishPurchase({ ...purchaseOf(persons[i % persons.length], amount, { counterparty: { type: 'merchant', id: MERCHANT } }), requestId });
      await new Promise((r) => setTimeout(r, Math.max(0, 1_000 / RATE - (Date.now() - tick)))); // the publishing tick, not a wait for a condition
    }
  })();
  return {
    publishedAt,
    amounts,
    stop: async () => {
      publishing = false;
      await loop;
    },
  };
}

interface Kill {
  victim: Victim;
  pid: number;
  killedAt: number;
  readyAt: number;
  /** When every consumer group of the service was Stable again with a member of the new process only. */
  rejoinedAt: number;
}

it('each service SIGKILLed in turn under load comes back under the supervisor; every purchase captured, posted, in history, support and ad signals once; recovery printed', async () => {
  const run = platform as PaymentsPlatform;
  const sup = supervisor as Supervisor;
  const persons: TestPerson[] = [];
  for (let i = 0; i < 5; i += 1) persons.push(await run.person());

  const load = startLoad(run, persons);
  const capturedCount = (): Promise<number> =>
    run.orchestrationQuery<{ n: number }>("SELECT count(*)::int AS n FROM payments WHERE status = 'captured'").then((rows) => rows[0].n);
  await waitFor(capturedCount, (n) => n >= BETWEEN, { what: `${BETWEEN} purchases captured before the first kill`, timeoutMs: 120_000 });

  const kills: Kill[] = [];
  for (const victim of VICTIMS) {
    const child = sup.processOf(victim);
    expect(child?.pid).toBeDefined();
    const groups = groupsOf.get(victim)!;
    const deadMembers = new Set((await membersOf(groups)).flatMap((group) => group.members));
    const killedAt = Date.now();
    child!.kill('SIGKILL');
    await waitFor(
      () => sup.restartsOf(victim),
      (n) => n >= 1,
      { what: `the supervisor to restart ${victim}`, timeoutMs: 60_000 },
    );
    await waitFor(() => ready(urls.get(victim)!), Boolean, { what: `${victim} ready again`, timeoutMs: 120_000, intervalMs: 100 });
    const readyAt = Date.now();
    expect(sup.processOf(victim)?.pid).not.toBe(child!.pid);
    // Its consumers are back: the restarted process joined each group (its consumers say so, it
    // being the dead member rejoining or a new one), and each group is Stable with one member.
    const { described } = await waitFor(
      async () => ({ joined: await joinedGroups(urls.get(victim)!, groups), described: await membersOf(groups) }),
      ({ joined, described }) => joined && described.every((group) => group.state === 'Stable' && group.members.length === 1),
      { what: `${victim}'s consumer groups stable with the restarted process alone`, timeoutMs: 180_000, intervalMs: 250 },
    );
    const rejoinedAt = Date.now();
    kills.push({ victim, pid: child!.pid!, killedAt, readyAt, rejoinedAt });
    // As the dead member (ADR 0015), or as a new one: rejoining is off, or the dead member's session ended before the restart joined.
    const asDead = described.filter((group) => deadMembers.has(group.members[0])).length;
    log(
      `${victim} (pid ${child!.pid}) SIGKILLed; restarted by the supervisor, ready ${seconds(readyAt - killedAt)} and its consumer groups back ${seconds(rejoinedAt - killedAt)} after the kill (${asDead} of ${groups.length} rejoined as the dead member)`,
    );
    // The purchase path captures again before the next kill (the read sides' catching up is checked at the end).
    if (PURCHASE_PATH.has(victim)) {
      const capturedAtReady = await capturedCount();
      await waitFor(capturedCount, (n) => n >= capturedAtReady + BETWEEN, {
        what: `${BETWEEN} more purchases captured after ${victim}'s restart`,
        timeoutMs: 180_000,
      });
      // And every purchase published before it was ready again (in flight at the kill, published while down):
      // otherwise the next kill delays the last of them, and its outage would be counted as this one's recovery.
      const beforeReady = [...load.publishedAt].filter(([, published]) => published < readyAt).map(([requestId]) => requestId);
      await waitFor(
        () =>
          run
            .orchestrationQuery<{ n: number }>("SELECT count(*)::int AS n FROM payments WHERE status = 'captured' AND request_id::text = ANY($1::text[])", [
              beforeReady,
            ])
            .then((rows) => rows[0].n),
        (n) => n === beforeReady.length,
        { what: `the ${beforeReady.length} purchases published before ${victim} was ready again captured`, timeoutMs: 180_000 },
      );
    }
  }
  await load.stop();
  const { publishedAt, amounts } = load;
  const purchases = publishedAt.size;

  // Every restart is in the supervisor's log.
  for (const victim of VICTIMS) {
    expect(supervisorLines.filter((line) => line.startsWith(`${victim} exited unexpectedly (signal SIGKILL)`))).toHaveLength(1);
    expect(supervisorLines).toContain(`${victim}: restart 1`);
  }
  expect(sup.gaveUp()).toEqual([]);

  // Captured once: one payment per request, one Captured event, one PaymentIntent.
  const rows = await waitFor(
    () => run.orchestrationQuery<{ payment_id: string; request_id: string; status: string }>('SELECT payment_id, request_id, status FROM payments'),
    (list) => list.length === purchases && list.every((row) => row.status === 'captured'),
    { what: `all ${purchases} purchases captured`, timeoutMs: 180_000 },
  );
  expect(new Set(rows.map((row) => row.request_id))).toEqual(new Set(publishedAt.keys()));
  const ours = new Set(rows.map((row) => row.payment_id));
  const amountOf = new Map(rows.map((row) => [row.payment_id, amounts.get(row.request_id)!]));
  const streams = await run.orchestrationQuery<{ payment_id: string; captures: number }>(
    "SELECT payment_id, count(*) FILTER (WHERE type = 'Captured')::int AS captures FROM payment_events GROUP BY payment_id",
  );
  expect(streams.filter((stream) => stream.captures !== 1)).toEqual([]);
  const intents = run.simulator.snapshot().paymentIntents.filter((intent) => ours.has(intent.metadata.payment_id));
  expect(intents).toHaveLength(purchases);

  // Posted once; the merchant is owed the captures less the fees; debits equal credits per currency.
  const postings = await waitFor(
    () =>
      run.walletQuery<{ payment_id: string; n: number }>(
        "SELECT payment_id, count(*)::int AS n FROM payment_ledger_postings WHERE movement = 'capture' GROUP BY payment_id",
      ),
    (list) => list.length >= purchases,
    { what: 'every capture posted', timeoutMs: 180_000 },
  );
  expect(postings.filter((posting) => posting.n !== 1)).toEqual([]);
  expect(new Set(postings.map((posting) => posting.payment_id))).toEqual(ours);
  const owed = [...amounts.values()].reduce((sum, amount) => sum + amount - feeOf(amount), 0n);
  expect(await run.balance(`merchant.${MERCHANT}.payable.USD`)).toBe(owed);
  const sums = await run.walletQuery<{ currency: string; balance: string }>(
    "SELECT currency, sum(CASE direction WHEN 'debit' THEN amount ELSE -amount END)::text AS balance FROM postings WHERE layer = 'posted' GROUP BY currency",
  );
  expect(sums.length).toBeGreaterThan(0);
  expect(sums.filter((sum) => sum.balance !== '0')).toEqual([]);

  // In history once, captured, naming its ledger transaction.
  const [{ live_version: version }] = await schemaQuery<{ live_version: number }>(historySchema, 'SELECT live_version FROM read_model_pointer');
  const entries = `history_entries_v${Number(version)}`;
  const history = await waitFor(
    () =>
      schemaQuery<{ payment_id: string; n: number; captured: boolean; named: boolean }>(
        historySchema,
        `SELECT payment_id, count(*)::int AS n, bool_and(status = 'captured') AS captured, bool_and(ledger_transaction_id IS NOT NULL) AS named
         FROM ${entries} WHERE kind = 'purchase' GROUP BY payment_id`,
      ),
    (list) => list.length >= purchases && list.every((entry) => entry.captured && entry.named),
    { what: 'every purchase captured in history with its ledger transaction', timeoutMs: 180_000 },
  );
  expect(history.filter((entry) => entry.n !== 1)).toEqual([]);
  expect(new Set(history.map((entry) => entry.payment_id))).toEqual(ours);

  // Support knows each payment captured once (its captured amount adds up per event: applied twice, it would double).
  const known = await waitFor(
    () => schemaQuery<{ payment_id: string; captured: string }>(supportSchema, 'SELECT payment_id, captured::text FROM payments'),
    (list) => list.filter((payment) => ours.has(payment.payment_id) && payment.captured !== '0').length >= purchases,
    { what: 'every capture known to support', timeoutMs: 180_000 },
  );
  expect(known.filter((payment) => ours.has(payment.payment_id) && payment.captured !== amountOf.get(payment.payment_id)!.toString())).toEqual([]);

  // Ad signals hold each captured purchase once, its amount whole.
  const signals = await waitFor(
    () =>
      schemaQuery<{ n: number; total: string }>(
        adsSchema,
        'SELECT count(*)::int AS n, coalesce(sum(amount), 0)::text AS total FROM purchases WHERE merchant_id = $1',
        [MERCHANT],
      ),
    (list) => list[0].n >= purchases,
    { what: 'every capture in ad signals', timeoutMs: 180_000 },
  );
  expect(signals[0]).toEqual({ n: purchases, total: [...amounts.values()].reduce((sum, amount) => sum + amount, 0n).toString() });

  // The figures, per kill: publish→captured of the purchases published before the kill and captured after it (in flight).
  const captured = await run.orchestrationQuery<{ request_id: string; at: Date }>(
    "SELECT p.request_id, e.occurred_at AS at FROM payments p JOIN payment_events e ON e.payment_id = p.payment_id AND e.type = 'Captured'",
  );
  const capturedAt = new Map(captured.map((row) => [row.request_id, new Date(row.at).getTime()]));
  const before = [...capturedAt].filter(([, at]) => at < kills[0].killedAt).map(([id, at]) => at - publishedAt.get(id)!);
  before.sort((a, b) => a - b);
  log(`${purchases} purchases at ${RATE}/s, each captured, posted, in history, in support and in ad signals once; ledger balanced`);
  log(`publish→captured before the first kill (${before.length}): p50 ${seconds(percentile(before, 50))}, p99 ${seconds(percentile(before, 99))}`);
  // Per kill of the purchase path: the purchases in flight at the kill (published before it, captured after) and those
  // published while the service was down (kill → ready); publish→captured, and captured counted from the restart being ready.
  const figures = (requests: Array<[string, number]>, kill: Kill): string => {
    const latency = requests.map(([requestId, published]) => capturedAt.get(requestId)! - published).sort((a, b) => a - b);
    const afterReady = requests.map(([requestId]) => capturedAt.get(requestId)! - kill.readyAt).sort((a, b) => a - b);
    return (
      `${requests.length}: publish→captured p50 ${seconds(percentile(latency, 50))}, p99 ${seconds(percentile(latency, 99))}; ` +
      `ready→captured p50 ${seconds(percentile(afterReady, 50))}, p99 ${seconds(percentile(afterReady, 99))}`
    );
  };
  let orchestrationP99 = Number.NaN;
  for (const kill of kills) {
    if (!PURCHASE_PATH.has(kill.victim)) {
      log(`${kill.victim}: kill → ready ${seconds(kill.readyAt - kill.killedAt)}, → consumer groups back ${seconds(kill.rejoinedAt - kill.killedAt)}`);
      continue;
    }
    const inFlight = [...publishedAt].filter(([requestId, published]) => published < kill.killedAt && capturedAt.get(requestId)! > kill.killedAt);
    const whileDown = [...publishedAt].filter(([, published]) => published >= kill.killedAt && published < kill.readyAt);
    log(
      `${kill.victim}: kill → ready ${seconds(kill.readyAt - kill.killedAt)}, → consumer groups back ${seconds(kill.rejoinedAt - kill.killedAt)}; in flight at the kill ${figures(inFlight, kill)}`,
    );
    log(`${kill.victim}: published while it was down ${figures(whileDown, kill)}`);
    if (kill.victim === ORCHESTRATION) {
      const both = [...inFlight, ...whileDown].map(([requestId, published]) => capturedAt.get(requestId)! - published).sort((a, b) => a - b);
      orchestrationP99 = percentile(both, 99);
    }
  }
  // A loose bound that a loaded machine meets (the 10 s is read from the printed figures on a quiet one).
  expect(orchestrationP99).toBeLessThanOrEqual(config.RECOVERY_P99_BOUND_SECONDS * 1_000);
}, 900_000);

it('SIGTERM to the supervisor under load: every service stops gracefully within 10 s; each one’s time printed', async () => {
  const run = platform as PaymentsPlatform;
  const sup = supervisor as Supervisor;
  const persons = [await run.person()];
  const load = startLoad(run, persons);
  const capturedAtStart = await run
    .orchestrationQuery<{ n: number }>("SELECT count(*)::int AS n FROM payments WHERE status = 'captured'")
    .then((rows) => rows[0].n);
  await waitFor(
    () => run.orchestrationQuery<{ n: number }>("SELECT count(*)::int AS n FROM payments WHERE status = 'captured'").then((rows) => rows[0].n),
    (n) => n >= capturedAtStart + BETWEEN,
    { what: `${BETWEEN} purchases captured before the SIGTERM`, timeoutMs: 120_000 },
  );
  const exits = new Map<Victim, number>();
  for (const name of VICTIMS) sup.processOf(name)!.once('exit', () => exits.set(name, Date.now()));
  const stoppedAt = Date.now();
  stoppingAt = stoppedAt;
  const code = await sup.stop('SIGTERM (test)');
  await load.stop();
  for (const name of VICTIMS) {
    const consumers = consumersStopped.get(name);
    log(
      `${name} exited ${seconds(exits.get(name)! - stoppedAt)} after SIGTERM` +
        (consumers === undefined ? '' : `; its consumers stopped ${seconds(consumers - stoppedAt)} after it`),
    );
  }
  if (code !== 0) for (const [name, lines] of output) log(`${name} last lines:\n${lines.join('\n')}`);
  expect(code).toBe(0);
  // Well within the supervisor's 20 s: 0.1-2.7 s measured on a loaded machine; the rest of a slow exit
  // is payment steps in flight finishing (docs/benchmarks.md, Session 7).
  expect(VICTIMS.filter((name) => exits.get(name)! - stoppedAt > 10_000)).toEqual([]);
}, 300_000);
