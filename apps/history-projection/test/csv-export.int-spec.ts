/**
 * The CSV export streams: 200,000 rows go out while the exporting process's resident set stays
 * flat, in a heap too small to hold them (an export that reads everything first, the control,
 * dies of it). The export code runs in a process of its own (export-memory-probe.ts) so that
 * Jest and the HTTP client do not blur the figures; the service's own route is checked to
 * stream the same rows.
 */
import 'reflect-metadata';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { testDatabaseUrl, waitFor } from '@pay/testing';
import { readModelTables } from '../src/read-model/read-model-tables';
import type { HistoryUnderTest } from './history-test-kit';
import { deleteHistoryTopics, startHistory } from './history-test-kit';

const ROOT = resolve(__dirname, '../../..');
const ROWS = 200_000;
const PERSON = 'p-csv';
/** The exporting process's heap: enough for the service's code, not for 200,000 rows (about 200 MB held as rows). */
const HEAP_MB = 128;
/** Growth of its resident set allowed while it streams the 200,000 rows (31 MB of CSV). */
const BOUND_MB = 32;

const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

interface Probe {
  port: number;
  child: ChildProcess;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Probes still running: a test that timed out never reaches its own clean-up, and a live probe keeps Jest from exiting. */
const probes = new Set<ChildProcess>();
afterEach(() => {
  for (const child of probes) child.kill('SIGKILL');
});

async function startProbe(schema: string): Promise<Probe> {
  const child = spawn(
    process.execPath,
    [`--max-old-space-size=${HEAP_MB}`, '--import', 'tsx', resolve(__dirname, 'export-memory-probe.ts'), testDatabaseUrl(), schema, PERSON],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH, NODE_ENV: 'test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  probes.add(child);
  child.once('exit', () => probes.delete(child));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`the export probe did not start within 60 s: ${stderr}`)), 60_000);
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      done((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => fail(new Error(`the export probe exited with ${code}: ${stderr}`)));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  return { port, child, stderr: () => stderr, exited };
}

/** Downloads an export, counting lines and keeping nothing else. */
async function download(url: string, headers: Record<string, string> = {}): Promise<{ lines: number; first: string }> {
  const response = await fetch(url, { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
  let lines = 0;
  let first = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (first === '') first = Buffer.from(chunk.subarray(0, 400)).toString('utf8').split('\r\n')[1] ?? '';
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines += 1;
  }
  return { lines, first };
}

describe('CSV export', () => {
  let history: HistoryUnderTest;

  beforeAll(async () => {
    history = await startHistory({ env: { HISTORY_CONSUMER_ENABLED: 'false' } });
    const t = readModelTables(1);
    // One person with 200,000 entries, made in one statement.
    await history.service.runtime.dataSource.query(
      `INSERT INTO ${t.entries} (entry_id, payment_id, kind, status, payer_id, counterparty_type, counterparty_id, app, country, currency, amount, net_amount, method_id, method_type, provider, occurred_at, updated_at)
       SELECT 'payment:csv-' || g, 'csv-' || g, (ARRAY['purchase','donation','transfer'])[1 + g % 3], 'captured', $1,
              (ARRAY['merchant','non-profit','person'])[1 + g % 3], 'cp-' || (g % 997), (ARRAY['facebook','instagram','messenger','whatsapp'])[1 + g % 4], 'DE', 'EUR',
              100 + g % 100000, 100 + g % 100000, 'b2c4e7d0-6a1f-4c3e-9d5b-' || lpad(to_hex(g), 12, '0'), 'card', 'stripe',
              timestamptz '2025-01-01' + g * interval '1 minute', timestamptz '2025-01-01' + g * interval '1 minute' + interval '5 seconds'
       FROM generate_series(1, $2::int) AS g`,
      [PERSON, ROWS],
    );
    await history.service.runtime.dataSource.query(`ANALYZE ${t.entries}`);
  }, 120_000);

  afterAll(async () => {
    if (!history) return;
    await history.stop();
    await deleteHistoryTopics(history.topics);
  });

  it(`streams ${ROWS.toLocaleString('en')} rows with the exporting process's memory flat, in a heap that cannot hold them`, async () => {
    const probe = await startProbe(history.schema);
    try {
      const exportOnce = async (): Promise<{ lines: number; first: string; growthMb: number; baselineMb: number; samples: number }> => {
        const result = await download(`http://127.0.0.1:${probe.port}/export`);
        const stats = (await (await fetch(`http://127.0.0.1:${probe.port}/stats`)).json()) as { baselineRss: number; peakRss: number; samples: number };
        return { ...result, growthMb: mb(stats.peakRss - stats.baselineRss), baselineMb: mb(stats.baselineRss), samples: stats.samples };
      };
      // The first exports let V8 grow the heap to its working size (up to the cap, whatever the
      // export's size): one or two, as the rows' shape falls (with failure_code, the second export
      // grew +47 MB after +27 MB, where the first had grown +73 MB before); the last two show what an export costs.
      const runs = [await exportOnce(), await exportOnce(), await exportOnce(), await exportOnce()];
      process.stdout.write(
        `CSV export of ${ROWS} rows with a ${HEAP_MB} MB heap: resident set ${runs[0].baselineMb} MB, +${runs.map((r) => r.growthMb).join(' MB, +')} MB at peak of each run\n`,
      );
      for (const run of runs) {
        expect(run.lines).toBe(ROWS + 1);
        expect(run.first.startsWith(`payment:csv-${ROWS},csv-${ROWS},`)).toBe(true);
        expect(run.samples).toBeGreaterThan(10);
      }
      for (const run of runs.slice(0, 2)) expect(run.growthMb).toBeLessThan(HEAP_MB);
      for (const run of runs.slice(2)) expect(run.growthMb).toBeLessThan(BOUND_MB);

      // Control: reading the rows first, as a buffered export does, does not fit in that process.
      await expect(download(`http://127.0.0.1:${probe.port}/export?buffered`)).rejects.toThrow();
      const exit = await probe.exited;
      expect(exit.code !== 0 || exit.signal !== null).toBe(true);
      expect(probe.stderr()).toMatch(/heap out of memory/i);
    } finally {
      probe.child.kill('SIGTERM');
    }
    // Four exports of 200,000 rows: over two minutes on a busy two-core machine, where the tier runs two files at once.
  }, 300_000);

  it("the service's route streams the same rows", async () => {
    const person = await history.as(PERSON, 'person');
    const result = await download(`${history.url}/v1/history/persons/${PERSON}/entries/export`, { authorization: `Bearer ${person.token}` });
    expect(result.lines).toBe(ROWS + 1);
    expect(result.first.startsWith(`payment:csv-${ROWS},csv-${ROWS},`)).toBe(true);
  }, 60_000);

  it('stops reading when the client goes away, and gives the connection back', async () => {
    const person = await history.as(PERSON, 'person');
    const controller = new AbortController();
    const response = await fetch(`${history.url}/v1/history/persons/${PERSON}/entries/export`, {
      headers: { authorization: `Bearer ${person.token}` },
      signal: controller.signal,
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    controller.abort();
    await reader.cancel().catch(() => undefined);
    // The export's cursor transaction ends: no session of this service stays idle in a transaction.
    await waitFor(
      async () => {
        const [row] = await history.service.runtime.dataSource.query<Array<{ n: string }>>(
          "SELECT count(*)::text AS n FROM pg_stat_activity WHERE application_name = 'history-projection' AND query LIKE 'FETCH%' AND state LIKE 'idle in transaction%'",
        );
        return Number(row.n);
      },
      (open) => open === 0,
      { what: "the export's cursor transaction to end", timeoutMs: 10_000, intervalMs: 200 },
    );
  });
});
