/**
 * Soak (issue 12): SOAK_PURCHASES purchases published at a steady SOAK_RATE per second on the
 * whole path — wallet, payment-orchestration, history-projection and
 * ad-signal-aggregation from dist as child processes, the PSP simulator in this process — while
 * each service is SIGKILLed once and started again. Then: every purchase captured exactly once
 * (one PaymentIntent and one charge at the PSP), posted to the ledger exactly once, in the
 * person's history exactly once with its ledger transaction; postings per currency sum to zero;
 * `npm run ledger:verify` passes. Needs `npm run build` first (npm run test:int does).
 *
 * The e2e tier (`npm test`) runs it short: 600 purchases at 30/s, so the kills come 4 s apart and a
 * restart may still be under way at the next kill; `npm run test:soak` runs the soak:
 * 20,000 purchases at 50/s.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { IsWholeNumber, loadConfig } from '@pay/config';
import { Topics } from '@pay/contracts';
import { dropSchema, testDatabaseUrl, uniqueName, waitFor } from '@pay/testing';
import type { PaymentsPlatform, TestPerson } from './e2e-kit';
import { feeOf, purchaseOf, schemaQuery as query, startGroupAtEnd, startPaymentsPlatform } from './e2e-kit';
import { ServiceProcess } from './service-process';

class SoakConfig {
  /** Purchases published in all (at least 100: each service is killed at a fifth of them). */
  @IsWholeNumber({ min: 100, max: 1_000_000, unit: 'purchases' })
  SOAK_PURCHASES = 600;

  /** Purchases published per second. */
  @IsWholeNumber({ min: 1, max: 5_000, unit: 'purchases per second' })
  SOAK_RATE = 30;
}

const config = loadConfig('payments-soak', SoakConfig);
const PURCHASES = config.SOAK_PURCHASES;
const PERSONS = 20;
const MERCHANT = 'merchant-soak';
const ROOT = resolve(__dirname, '../..');
/** Publishing time, and as long again (at least 10 minutes) for a backlog to be worked off after it. */
const PUBLISH_MS = (PURCHASES / config.SOAK_RATE) * 1000;
const SETTLE_MS = Math.max(600_000, PUBLISH_MS);

let platform: PaymentsPlatform;
const services = new Map<string, ServiceProcess>();
const historySchema = uniqueName('soak_history');
const adsSchema = uniqueName('soak_ads');

beforeAll(async () => {
  platform = await startPaymentsPlatform({
    inProcessOrchestration: false,
    walletFromDist: true,
    webhookConcurrency: 8,
    orchestrationEnv: { LOG_LEVEL: 'warn', PAYMENT_STEP_LEASE_SECONDS: '3' },
    logLevel: 'warn',
  });
  services.set('wallet', ServiceProcess.adopt('wallet', platform.wallet.env!, platform.wallet.process!, platform.wallet.url));
  services.set('payment-orchestration', await ServiceProcess.start('payment-orchestration', platform.orchestrationEnv));
  const historyGroup = uniqueName('history-projection.soak');
  const adsGroup = uniqueName('ad-signal-aggregation.soak');
  // The projections read the real topics from where they end now: they see this run's events.
  for (const topic of [Topics.paymentEvents, Topics.ledgerTransactions, Topics.walletEvents]) await startGroupAtEnd(historyGroup, topic);
  for (const topic of [Topics.paymentEvents, Topics.walletEvents]) await startGroupAtEnd(adsGroup, topic);
  const projectionEnv = { ...platform.commonEnv, LOG_LEVEL: 'warn', OUTBOX_RELAY_NAME: 'e2e', AUTH_JWKS: JSON.stringify(platform.idp.jwks) };
  services.set(
    'history-projection',
    await ServiceProcess.start('history-projection', { ...projectionEnv, DB_SCHEMA: historySchema, HISTORY_CONSUMER_GROUP: historyGroup }),
  );
  services.set(
    'ad-signal-aggregation',
    await ServiceProcess.start('ad-signal-aggregation', { ...projectionEnv, DB_SCHEMA: adsSchema, AD_SIGNALS_CONSUMER_GROUP: adsGroup }),
  );
}, 300_000);

afterAll(async () => {
  for (const service of services.values()) await service.kill();
  await platform?.stop();
  for (const schema of [historySchema, adsSchema]) await dropSchema(testDatabaseUrl(), schema).catch(() => undefined);
});

it(
  `${PURCHASES} purchases at ${config.SOAK_RATE}/s, each service SIGKILLed once: each captured, posted and in history exactly once; the ledger balances and verifies`,
  async () => {
    const persons: TestPerson[] = [];
    for (let i = 0; i < PERSONS; i += 1) persons.push(await platform.person());

    // Each service is killed once, at 1/5, 2/5, 3/5 and 4/5 of the purchases, and started again while publishing goes on.
    const killOrder = ['payment-orchestration', 'wallet', 'history-projection', 'ad-signal-aggregation'];
    const killAt = new Map(killOrder.map((name, i) => [Math.floor((PURCHASES * (i + 1)) / 5), name]));
    const restarts: Promise<void>[] = [];
    const killed: string[] = [];

    const amounts = new Map<string, bigint>();
    const started = Date.now();
    let sent = 0;
    while (sent < PURCHASES) {
      const due = Math.min(PURCHASES, Math.floor(((Date.now() - started) / 1000) * config.SOAK_RATE) + 1);
      const batch: Promise<void>[] = [];
      for (; sent < due; sent += 1) {
        const amount = 1_000n + BigInt(sent % 3_000);
        batch.push(
          platform
            .publishPurchase(purchaseOf(persons[sent % PERSONS], amount, { counterparty: { type: 'merchant', id: MERCHANT } }))
            .then((requestId) => void amounts.set(requestId, amount)),
        );
        const victim = killAt.get(sent + 1);
        if (victim !== undefined) {
          const service = services.get(victim)!;
          killed.push(victim);
          restarts.push(service.kill().then(() => service.restart()));
        }
      }
      await Promise.all(batch);
      await new Promise((done) => setTimeout(done, 100)); // the publishing tick, not a wait for a condition
    }
    await Promise.all(restarts);
    expect(killed).toEqual(killOrder);

    // Everything settles: captured, posted, in history with its ledger transaction.
    await waitFor(
      () => platform.orchestrationQuery<{ captured: number }>("SELECT count(*) FILTER (WHERE status = 'captured')::int AS captured FROM payments"),
      (rows) => rows[0].captured >= PURCHASES,
      { what: 'every purchase captured', timeoutMs: SETTLE_MS },
    );
    await waitFor(
      () => platform.walletQuery<{ n: number }>("SELECT count(DISTINCT payment_id)::int AS n FROM payment_ledger_postings WHERE movement = 'capture'"),
      (rows) => rows[0].n >= PURCHASES,
      { what: 'every capture posted to the ledger', timeoutMs: SETTLE_MS },
    );
    const [{ live_version: version }] = await query<{ live_version: number }>(historySchema, 'SELECT live_version FROM read_model_pointer');
    const entries = `history_entries_v${Number(version)}`;
    await waitFor(
      () => query<{ n: number }>(historySchema, `SELECT count(*)::int AS n FROM ${entries} WHERE status = 'captured' AND ledger_transaction_id IS NOT NULL`),
      (rows) => rows[0].n >= PURCHASES,
      { what: 'every purchase captured in history with its ledger transaction', timeoutMs: SETTLE_MS },
    );

    // Captured exactly once: one payment per request, one Captured event in its stream, one PaymentIntent and one charge at the PSP.
    const payments = await platform.orchestrationQuery<{ payment_id: string; request_id: string; status: string }>(
      'SELECT payment_id, request_id, status FROM payments',
    );
    expect(payments).toHaveLength(PURCHASES);
    expect(new Set(payments.map((p) => p.request_id))).toEqual(new Set(amounts.keys()));
    expect(payments.filter((p) => p.status !== 'captured')).toEqual([]);
    const paymentIds = new Set(payments.map((p) => p.payment_id));
    const captures = await platform.orchestrationQuery<{ payment_id: string; n: number }>(
      "SELECT payment_id, count(*) FILTER (WHERE type = 'Captured')::int AS n FROM payment_events GROUP BY payment_id",
    );
    expect(captures.filter((c) => c.n !== 1)).toEqual([]);
    expect(captures).toHaveLength(PURCHASES);
    const snapshot = platform.simulator.snapshot();
    const intents = snapshot.paymentIntents.filter((intent) => paymentIds.has(intent.metadata.payment_id));
    expect(intents).toHaveLength(PURCHASES);
    expect(new Set(intents.map((intent) => intent.metadata.payment_id)).size).toBe(PURCHASES);
    const intentIds = new Set(intents.map((intent) => intent.id));
    const charges = snapshot.charges.filter((charge) => intentIds.has(charge.payment_intent));
    expect(charges).toHaveLength(PURCHASES);
    expect(charges.every((charge) => charge.captured)).toBe(true);

    // Posted exactly once; the merchant is owed the captures less the fees.
    const postings = await platform.walletQuery<{ payment_id: string; n: number }>(
      "SELECT payment_id, count(*)::int AS n FROM payment_ledger_postings WHERE movement = 'capture' GROUP BY payment_id",
    );
    expect(postings.filter((p) => p.n !== 1)).toEqual([]);
    expect(new Set(postings.map((p) => p.payment_id))).toEqual(paymentIds);
    const owed = [...amounts.values()].reduce((sum, amount) => sum + amount - feeOf(amount), 0n);
    expect(await platform.balance(`merchant.${MERCHANT}.payable.USD`)).toBe(owed);

    // In history exactly once, captured, naming its ledger transaction.
    const history = await query<{ payment_id: string; n: number; captured: boolean; named: boolean }>(
      historySchema,
      `SELECT payment_id, count(*)::int AS n, bool_and(status = 'captured') AS captured, bool_and(ledger_transaction_id IS NOT NULL) AS named
       FROM ${entries} WHERE kind = 'purchase' GROUP BY payment_id`,
    );
    expect(history.filter((h) => h.n !== 1 || !h.captured || !h.named)).toEqual([]);
    expect(new Set(history.map((h) => h.payment_id))).toEqual(paymentIds);

    // Debits equal credits in every currency; the journal's hash chain verifies.
    const sums = await platform.walletQuery<{ currency: string; balance: string }>(
      "SELECT currency, sum(CASE direction WHEN 'debit' THEN amount ELSE -amount END)::text AS balance FROM postings WHERE layer = 'posted' GROUP BY currency",
    );
    expect(sums.length).toBeGreaterThan(0);
    expect(sums.filter((s) => s.balance !== '0')).toEqual([]);
    const verify = await promisify(execFile)(resolve(ROOT, 'node_modules/.bin/tsx'), ['tools/ledger/verify.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, DATABASE_URL: testDatabaseUrl(), LEDGER_SCHEMA: platform.walletSchema },
    });
    expect(verify.stdout).toMatch(/^verified [0-9]+ entries$/m);
  },
  PUBLISH_MS + 4 * SETTLE_MS + 300_000,
);
