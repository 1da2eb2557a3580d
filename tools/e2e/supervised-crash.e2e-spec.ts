/**
 * A crash under `npm start`'s supervisor (issue 15): payment-orchestration runs from dist under the
 * Supervisor that `npm start` uses (tools/supervisor.ts), the wallet beside it, with a steady load of
 * purchases; orchestration is SIGKILLed mid-load. The supervisor restarts it by itself; every
 * purchase ends captured exactly once (one Captured event, one PaymentIntent, one capture posting).
 * The recovery is measured and printed, not asserted as timings (the machine is shared): p50/p99
 * publish→captured of the purchases published before the kill and of those in flight or published
 * while it was down, and the time from the kill to the restarted process being ready and to its
 * first capture. `npm run build` first.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { waitFor } from '@pay/testing';
import { Supervisor } from '../supervisor';
import type { PaymentsPlatform, TestPerson } from './e2e-kit';
import { purchaseOf, startPaymentsPlatform } from './e2e-kit';

const ROOT = resolve(__dirname, '../..');
const MAIN = resolve(ROOT, 'dist/apps/payment-orchestration/src/main.js');
const NAME = 'payment-orchestration';
const MERCHANT = 'merchant-supervised';
/** Purchases offered per second, before and after the kill. */
const RATE = 10;
const log = (line: string): void => void process.stderr.write(`[supervised crash e2e] ${line}\n`);

let platform: PaymentsPlatform | undefined;
let supervisor: Supervisor | undefined;
const supervisorLines: string[] = [];

const ready = (url: string): Promise<boolean> =>
  fetch(`${url}/health/ready`).then(
    (response) => response.status === 200,
    () => false,
  );

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  platform = await startPaymentsPlatform({ inProcessOrchestration: false, walletFromDist: true });
  supervisor = new Supervisor({
    log: (line) => {
      supervisorLines.push(line);
      log(`supervisor: ${line}`);
    },
    output: () => undefined,
  });
  supervisor.start([
    { name: NAME, command: process.execPath, args: [MAIN], cwd: ROOT, env: { PATH: process.env.PATH, ...platform.orchestrationEnv, LOG_LEVEL: 'warn' } },
  ]);
  const url = platform.orchestrationUrl;
  await waitFor(() => ready(url), Boolean, { what: 'orchestration ready under the supervisor', timeoutMs: 120_000 });
}, 240_000);

afterAll(async () => {
  await supervisor?.stop('end of test');
  await platform?.stop();
}, 120_000);

it('orchestration SIGKILLed under load is restarted by the supervisor; every purchase captured exactly once; recovery printed', async () => {
  const run = platform as PaymentsPlatform;
  const persons: TestPerson[] = [];
  for (let i = 0; i < 5; i += 1) persons.push(await run.person());

  const publishedAt = new Map<string, number>();
  let publishing = true;
  const load = (async () => {
    for (let i = 0; publishing; i += 1) {
      const tick = Date.now();
      const requestId = randomUUID();
      publishedAt.set(requestId, Date.now());
      await run.publishPurchase({
        ...purchaseOf(persons[i % persons.length], 1_000n + BigInt(i), { counterparty: { type: 'merchant', id: MERCHANT } }),
        requestId,
      });
      await new Promise((r) => setTimeout(r, Math.max(0, 1_000 / RATE - (Date.now() - tick)))); // the publishing tick, not a wait for a condition
    }
  })();
  const capturedCount = (): Promise<number> =>
    run.orchestrationQuery<{ n: number }>("SELECT count(*)::int AS n FROM payments WHERE status = 'captured'").then((rows) => rows[0].n);
  await waitFor(capturedCount, (n) => n >= 50, { what: '50 purchases captured before the kill', timeoutMs: 120_000 });

  const victim = (supervisor as Supervisor).processOf(NAME);
  expect(victim).toBeDefined();
  const killedAt = Date.now();
  victim!.kill('SIGKILL');
  log(`orchestration (pid ${victim!.pid}) SIGKILLed`);
  await waitFor(
    () => (supervisor as Supervisor).restartsOf(NAME),
    (n) => n >= 1,
    { what: 'the supervisor to restart orchestration', timeoutMs: 60_000 },
  );
  await waitFor(() => ready(run.orchestrationUrl), Boolean, { what: 'orchestration ready again', timeoutMs: 120_000, intervalMs: 100 });
  const readyAt = Date.now();
  expect((supervisor as Supervisor).processOf(NAME)?.pid).not.toBe(victim!.pid);

  // Load goes on until 50 more are captured after the restart.
  const capturedAtRestart = await capturedCount();
  await waitFor(capturedCount, (n) => n >= capturedAtRestart + 50, { what: '50 more purchases captured after the restart', timeoutMs: 180_000 });
  publishing = false;
  await load;

  // Every purchase captured, exactly once.
  const rows = await waitFor(
    () => run.orchestrationQuery<{ payment_id: string; request_id: string; status: string }>('SELECT payment_id, request_id, status FROM payments'),
    (list) => list.length === publishedAt.size && list.every((row) => row.status === 'captured'),
    { what: `all ${publishedAt.size} purchases captured`, timeoutMs: 180_000 },
  );
  expect(new Set(rows.map((row) => row.request_id))).toEqual(new Set(publishedAt.keys()));
  const ours = new Set(rows.map((row) => row.payment_id));
  const streams = await run.orchestrationQuery<{ payment_id: string; captures: number }>(
    "SELECT payment_id, count(*) FILTER (WHERE type = 'Captured')::int AS captures FROM payment_events GROUP BY payment_id",
  );
  expect(streams.filter((stream) => stream.captures !== 1)).toEqual([]);
  const intents = run.simulator.snapshot().paymentIntents.filter((intent) => ours.has(intent.metadata.payment_id));
  expect(intents).toHaveLength(publishedAt.size);
  const postings = await waitFor(
    () =>
      run.walletQuery<{ payment_id: string; n: number }>(
        "SELECT payment_id, count(*)::int AS n FROM payment_ledger_postings WHERE movement = 'capture' GROUP BY payment_id",
      ),
    (list) => list.length >= publishedAt.size,
    { what: 'every capture posted', timeoutMs: 180_000 },
  );
  expect(postings.filter((posting) => posting.n !== 1)).toEqual([]);
  expect(new Set(postings.map((posting) => posting.payment_id))).toEqual(ours);
  expect(supervisorLines.some((line) => line.includes(`${NAME} exited unexpectedly (signal SIGKILL)`))).toBe(true);

  // The figures: publish→captured before the kill, and of what was in flight or published until the restart was ready.
  const captured = await run.orchestrationQuery<{ request_id: string; at: Date }>(
    "SELECT p.request_id, e.occurred_at AS at FROM payments p JOIN payment_events e ON e.payment_id = p.payment_id AND e.type = 'Captured'",
  );
  const before: number[] = [];
  const around: number[] = [];
  let firstAfter = Number.POSITIVE_INFINITY;
  for (const { request_id: requestId, at } of captured) {
    const published = publishedAt.get(requestId) as number;
    const capturedAt = new Date(at).getTime();
    const latency = capturedAt - published;
    if (capturedAt < killedAt) before.push(latency);
    else if (published <= readyAt) around.push(latency);
    if (capturedAt > killedAt) firstAfter = Math.min(firstAfter, capturedAt);
  }
  before.sort((a, b) => a - b);
  around.sort((a, b) => a - b);
  log(`${publishedAt.size} purchases at ${RATE}/s, all captured once`);
  log(`kill → restarted process ready: ${seconds(readyAt - killedAt)}; kill → first capture after it: ${seconds(firstAfter - killedAt)}`);
  log(`publish→captured before the kill (${before.length}): p50 ${seconds(percentile(before, 50))}, p99 ${seconds(percentile(before, 99))}`);
  log(
    `publish→captured of those in flight or published until ready (${around.length}): p50 ${seconds(percentile(around, 50))}, p99 ${seconds(percentile(around, 99))}, max ${seconds(around.at(-1) ?? Number.NaN)}`,
  );
  expect(around.length).toBeGreaterThan(0);
}, 900_000);
