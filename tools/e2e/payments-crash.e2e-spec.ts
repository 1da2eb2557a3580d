/**
 * payment-orchestration killed (SIGKILL) in the middle of 200 purchases and started again:
 * every purchase ends captured, none is charged twice (counted in the PSP simulator: one
 * PaymentIntent and one charge per payment), the wallet posts each capture once, and the ledger
 * balances. Orchestration runs as a real child process from dist (`npm run build` first, as
 * `npm run test:int` does); the simulator and the wallet run in this process.
 *
 * With the default step lease (PAYMENT_STEP_LEASE_SECONDS, 10 s, renewed while a step runs) the
 * payments in flight at the kill are captured within seconds of the restart; the test prints the
 * figures (docs/benchmarks.md). CRASH_E2E_STEP_LEASE_SECONDS runs it with another lease, to compare.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { waitFor } from '@pay/testing';
import type { PaymentsPlatform, TestPerson } from './e2e-kit';
import { feeOf, http, purchaseOf, startPaymentsPlatform } from './e2e-kit';

const ROOT = resolve(__dirname, '../..');
const MAIN = resolve(ROOT, 'dist/apps/payment-orchestration/src/main.js');
const PURCHASES = 200;
const MERCHANT = 'merchant-crash';
/** The lease the restarted process waits out for the steps the dead one held (the timeout below allows up to 120 s). */
const LEASE_SECONDS = Number(process.env.CRASH_E2E_STEP_LEASE_SECONDS ?? 10);

let platform: PaymentsPlatform;
let child: ChildProcess | undefined;
let output = '';

function startChild(): ChildProcess {
  const spawned = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...platform.orchestrationEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  spawned.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  return spawned;
}

async function ready(): Promise<void> {
  await waitFor(
    () =>
      fetch(`${platform.orchestrationUrl}/health/ready`).then(
        (r) => r.status,
        () => 0,
      ),
    (status) => status === 200,
    { what: `orchestration ready (output: ${output.slice(-2_000)})`, timeoutMs: 60_000 },
  );
}

function kill(process: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((done) => {
    if (process.exitCode !== null || process.signalCode !== null) return done();
    process.once('exit', () => done());
    process.kill(signal);
  });
}

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first (npm run test:int does)`);
  platform = await startPaymentsPlatform({
    inProcessOrchestration: false,
    orchestrationEnv: { LOG_LEVEL: 'warn', PAYMENT_STEP_LEASE_SECONDS: String(LEASE_SECONDS) },
  });
}, 120_000);

afterAll(async () => {
  if (child) await kill(child, 'SIGKILL');
  await platform?.stop();
});

it('SIGKILL in the middle of 200 purchases: all end captured, none charged twice, the ledger balances', async () => {
  child = startChild();
  await ready();
  const persons: TestPerson[] = [];
  for (let i = 0; i < 10; i += 1) persons.push(await platform.person());
  // Every PSP answer is slow (the work done at once, the answer held): many calls are in flight when the process dies.
  platform.simulator.injectFault({ path: '/v1/payment_intents', method: 'POST', when: 'after', effect: { type: 'hold', ms: 150 }, count: 10_000 });

  const amounts = new Map<string, bigint>();
  for (let i = 0; i < PURCHASES; i += 1) {
    const amount = 1_000n + BigInt(i);
    const requestId = await platform.publishPurchase(purchaseOf(persons[i % persons.length], amount, { counterparty: { type: 'merchant', id: MERCHANT } }));
    amounts.set(requestId, amount);
  }
  // Kill it once some payments are done and many are not, with PSP calls in flight (steps leased by the process).
  await waitFor(
    () =>
      platform.orchestrationQuery<{ captured: number; leased: number }>(
        "SELECT (SELECT count(*)::int FROM payments WHERE status = 'captured') AS captured, (SELECT count(*)::int FROM payment_steps WHERE lease_until > now()) AS leased",
      ),
    (rows) => rows[0].captured >= 20 && rows[0].leased > 0,
    { what: 'the first captures, with steps in flight', intervalMs: 20 },
  );
  await kill(child, 'SIGKILL');
  const killedAt = Date.now();
  // The payments whose step the dead process held (leased, not finished): what waits for the lease to run out.
  const leased = await platform.orchestrationQuery<{ payment_id: string }>('SELECT DISTINCT payment_id FROM payment_steps WHERE lease_until > now()');
  // The recovery's bound is the lease: what the dead process held runs out within one lease of its death (the database's
  // clock, not the machine's speed), where a long or unrenewed lease (120 s before issue 15) would keep those payments waiting.
  const [leaseLeft] = await platform.orchestrationQuery<{ seconds: number | null }>(
    'SELECT extract(epoch FROM max(lease_until) - now())::float8 AS seconds FROM payment_steps WHERE lease_until > now()',
  );
  expect(leaseLeft.seconds ?? 0).toBeLessThanOrEqual(LEASE_SECONDS);
  const [atKill] = await platform.orchestrationQuery<{ total: number; captured: number }>(
    "SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'captured')::int AS captured FROM payments",
  );
  expect(atKill.captured).toBeLessThan(PURCHASES);

  child = startChild();
  await ready();
  const readyAt = Date.now();
  const inFlight = leased.map((row) => row.payment_id);
  await waitFor(
    () => platform.orchestrationQuery<{ n: number }>("SELECT count(*)::int AS n FROM payments WHERE status = 'captured' AND payment_id = ANY($1)", [inFlight]),
    (counted) => counted[0].n === inFlight.length,
    { what: 'the payments in flight at the kill captured', timeoutMs: 90_000 + LEASE_SECONDS * 1_000, intervalMs: 100 },
  );
  const inFlightCapturedAt = Date.now();
  const rows = await waitFor(
    () =>
      platform.orchestrationQuery<{ payment_id: string; request_id: string; status: string; reference: string | null }>(
        'SELECT payment_id, request_id, status, reference FROM payments',
      ),
    (list) => list.length === PURCHASES && list.every((row) => row.status === 'captured'),
    { what: 'every purchase captured', timeoutMs: 90_000 + LEASE_SECONDS * 1_000 },
  );
  const capturedAt = Date.now();
  // The recovery: from the restarted process's readiness to the last payment in flight at the kill captured, bounded by the lease.
  process.stderr.write(
    `[crash e2e] lease ${LEASE_SECONDS} s: ${PURCHASES - atKill.captured} payments not captured at the kill, ${inFlight.length} of them with a step leased; ` +
      `restart ready ${((readyAt - killedAt) / 1000).toFixed(1)} s after the kill; the leased ones captured ${((inFlightCapturedAt - readyAt) / 1000).toFixed(1)} s after ready; ` +
      `all captured ${((capturedAt - readyAt) / 1000).toFixed(1)} s after ready (${((capturedAt - killedAt) / 1000).toFixed(1)} s after the kill)\n`,
  );
  // No bound on "all captured": the backlog not yet started at the kill is worked off at the machine's rate
  // (docs/benchmarks.md, issue 15), which is the machine's speed, not the recovery's; the figures are printed above.
  expect(new Set(rows.map((row) => row.request_id))).toEqual(new Set(amounts.keys()));

  // The PSP saw one PaymentIntent and one charge per payment, whatever was retried after the kill.
  const snapshot = platform.simulator.snapshot();
  const ours = new Set(rows.map((row) => row.payment_id));
  const intents = snapshot.paymentIntents.filter((intent) => ours.has(intent.metadata.payment_id));
  expect(intents).toHaveLength(PURCHASES);
  expect(new Set(intents.map((intent) => intent.metadata.payment_id)).size).toBe(PURCHASES);
  const charges = snapshot.charges.filter((charge) => intents.some((intent) => intent.id === charge.payment_intent));
  expect(charges).toHaveLength(PURCHASES);
  expect(charges.every((charge) => charge.captured)).toBe(true);

  // Each payment's stream: initiated, authorized, captured — once each.
  const streams = await platform.orchestrationQuery<{ payment_id: string; types: string[] }>(
    'SELECT payment_id, array_agg(type ORDER BY sequence) AS types FROM payment_events GROUP BY payment_id',
  );
  for (const stream of streams) expect(stream.types).toEqual(['PaymentInitiated', 'Authorized', 'Captured']);

  // The wallet posted every capture once; the merchant is owed the captures less the fees; debits equal credits.
  const postings = await waitFor(
    () => platform.walletQuery<{ payment_id: string }>("SELECT payment_id FROM payment_ledger_postings WHERE movement = 'capture'"),
    (list) => list.length === PURCHASES,
    { what: 'every capture posted', timeoutMs: 60_000 },
  );
  expect(new Set(postings.map((p) => p.payment_id))).toEqual(ours);
  const expected = [...amounts.values()].reduce((sum, amount) => sum + amount - feeOf(amount), 0n);
  expect(await platform.balance(`merchant.${MERCHANT}.payable.USD`)).toBe(expected);
  const [ledger] = await platform.walletQuery<{ debits: string; credits: string }>(
    "SELECT sum(amount) FILTER (WHERE direction = 'debit')::text AS debits, sum(amount) FILTER (WHERE direction = 'credit')::text AS credits FROM postings WHERE layer = 'posted'",
  );
  expect(ledger.debits).toBe(ledger.credits);

  // Every payment's outcome reached Kafka too.
  await waitFor(
    () => Promise.resolve(rows.filter((row) => platform.events.types(row.payment_id).includes('payments.payment.captured')).length),
    (n) => n === PURCHASES,
    { what: 'captured events on Kafka' },
  );
  const operator = await platform.serviceToken('operator');
  expect((await http(`${platform.orchestrationUrl}/v1/payments/${rows[0].payment_id}`, 'GET', operator)).body).toMatchObject({ status: 'captured' });
}, 360_000);
