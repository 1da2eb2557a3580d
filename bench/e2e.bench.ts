/**
 * `npm run bench:e2e`: purchases end to end at a steady offered load. A plain kafkajs producer
 * publishes PurchaseRequested at BENCH_RATE per second for BENCH_SECONDS; the wallet and
 * payment-orchestration run from dist (child processes), the PSP simulator in this process, on
 * the machine's PostgreSQL and Kafka. Reports purchases/s captured and the latency from publish
 * to the `payments.payment.captured` event on Kafka (p50, p99), with the machine.
 *
 * Env: BENCH_RATE (default 60), BENCH_SECONDS (default 30), BENCH_PERSONS (default 20).
 * Needs `npm run build` (the script runs it) and Kafka (`npm run infra:up`).
 */
import { cpus, totalmem, type } from 'node:os';
import { Client } from 'pg';
import { testDatabaseUrl } from '@pay/testing';
import type { PaymentsPlatform, TestPerson } from '../tools/payments/e2e/e2e-kit';
import { purchaseOf, spawnFromDist, startPaymentsPlatform, stopChild, waitFor } from '../tools/payments/e2e/e2e-kit';

const RATE = Number(process.env.BENCH_RATE ?? 60);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const PERSONS = Number(process.env.BENCH_PERSONS ?? 20);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const database = decodeURIComponent(target.pathname.slice(1));
  target.pathname = '/postgres';
  const client = new Client({ connectionString: target.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount === 0) await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  await ensureDatabase(testDatabaseUrl());
  const platform: PaymentsPlatform = await startPaymentsPlatform({ inProcessOrchestration: false, walletFromDist: true, orchestrationEnv: { LOG_LEVEL: 'warn' }, logLevel: 'warn' });
  const orchestration = await spawnFromDist('payment-orchestration', platform.orchestrationEnv);
  try {
    const persons: TestPerson[] = [];
    for (let i = 0; i < PERSONS; i += 1) persons.push(await platform.person());

    // Warm-up: a few purchases so connections, JIT and Kafka metadata are in place.
    const warm = await Promise.all(persons.slice(0, 5).map((person) => platform.publishPurchase(purchaseOf(person, 1_000n))));
    await waitFor(() => platform.orchestrationQuery<{ n: number }>("SELECT count(*)::int AS n FROM payments WHERE status = 'captured'"), (rows) => rows[0].n >= warm.length, 'warm-up');

    const published = new Map<string, number>();
    const total = RATE * SECONDS;
    const started = Date.now();
    const tickMs = 100;
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * RATE) + 1);
      const batch: Promise<void>[] = [];
      for (; sent < due; sent += 1) {
        const person = persons[sent % persons.length];
        const at = Date.now();
        batch.push(platform.publishPurchase(purchaseOf(person, 1_000n + BigInt(sent % 3_000))).then((requestId) => void published.set(requestId, at)));
      }
      await Promise.all(batch);
      await new Promise((resolve) => setTimeout(resolve, tickMs));
    }
    const offeredSeconds = (Date.now() - started) / 1000;

    // publish -> captured: the captured event names the payment; its initiated event names the request.
    const requestOfPayment = (): Map<string, string> => {
      const map = new Map<string, string>();
      for (const [subject, events] of platform.events.bySubject) {
        const initiated = events.find((e) => e.type === 'payments.payment.initiated');
        if (initiated) map.set(subject, initiated.data.requestId as string);
      }
      return map;
    };
    const capturedOf = (): number => [...requestOfPayment()].filter(([paymentId, requestId]) => published.has(requestId) && platform.events.arrivals.has(`${paymentId}:payments.payment.captured`)).length;
    await waitFor(() => Promise.resolve(capturedOf()), (n) => n === total, 'every purchase captured', 120_000);

    const latencies: number[] = [];
    let lastCapture = 0;
    for (const [paymentId, requestId] of requestOfPayment()) {
      const sentAt = published.get(requestId);
      const capturedAt = platform.events.arrivals.get(`${paymentId}:payments.payment.captured`);
      if (sentAt === undefined || capturedAt === undefined) continue;
      latencies.push(capturedAt - sentAt);
      lastCapture = Math.max(lastCapture, capturedAt);
    }
    latencies.sort((a, b) => a - b);
    const throughput = latencies.length / ((lastCapture - started) / 1000);
    const result = {
      machine: `${type()} ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
      offeredRate: RATE,
      offeredSeconds: Number(offeredSeconds.toFixed(1)),
      purchases: latencies.length,
      capturedPerSecond: Number(throughput.toFixed(1)),
      latencyMs: { p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99), max: latencies.at(-1) },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await stopChild(orchestration.process, 'SIGTERM');
    await platform.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:e2e: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
