/**
 * npm run bench:history — the history projection on a copy of 1,000,000 events: how fast the
 * live path applies them, how fast a rebuild replays them into a new version (and that it ends
 * with the same read model as the live one), and query latency (p50 / p99) of the history and
 * aggregate queries on that data set (a benchmark, not a test).
 *
 * It runs the projection's own functions and SQL without Nest (tsx emits no decorator metadata):
 * `projectEvents` (what the consumer runs per event), `rebuildReadModel` (what
 * `npm run history:rebuild` runs) and `HistoryReader` (what the controllers call). HTTP and JSON
 * encoding are not in the figures.
 *
 * 1. A mixed workload (generateWorkload: purchases, donations, transfers, refunds, disputes,
 *    failures, wallet and ledger events) of about --events events, made in chunks.
 * 2. Live: each chunk stored in raw_events and projected into version 1 as the consumer does it
 *    (store + project in one transaction), by 3 workers each owning a third of the subjects (as
 *    partitions), in transactions of 500 events; and, on a sample, one transaction per event.
 * 3. Rebuild into version 2 from raw_events, then compare versions 1 and 2 table by table.
 * 4. Queries on the rebuilt version, each run --queries times with random people and businesses.
 *
 * Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/payments_bench; created if
 * missing). A fresh schema is created and dropped (--keep keeps it). Flags: --events=N
 * (default 1000000), --queries=N (default 300), --keep, --reuse=SCHEMA (a schema an earlier run
 * kept: steps 1 and 2 are skipped, the rebuild replays its stored events and is compared with its
 * version 1, then the schema is put back as it was: paired runs of old and new rebuild code on
 * the same events).
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import type { EventEnvelope } from '@pay/contracts';
import { assertSchemaName, openServiceDataSource, sqlOfPool, sqlOfTransaction } from '@pay/platform';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import {
  aggregateQuery,
  historyProjectionMigrations,
  HistoryReader,
  LiveVersionGuess,
  readModelChecksums,
  readModelTables,
  rebuildReadModel,
  storeAndProject,
} from '@pay/history-projection/tools';
import type { AggregateRequest, HistoryFilters, HistoryScope } from '@pay/history-projection/tools';
import { generateWorkload, partitionOf, prng } from '@pay/history-projection/testing';
import { parseCommandLine, wholeNumberFlag } from '@pay/tools/command-line';
import { ensureDatabase } from '@pay/local-infra';
import { AutovacuumStandIn } from './autovacuum-stand-in';
import { processCpuSeconds } from './e2e-meters';
import { percentile } from './percentile';

interface Flags {
  events: number;
  queries: number;
  keep: boolean;
  reuse: string | undefined;
}

const USAGE = 'usage: npm run bench:history -- [--events=N (>= 1000)] [--queries=N (>= 10)] [--keep] [--reuse=SCHEMA]';

function parseFlags(argv: readonly string[]): Flags {
  const values = parseCommandLine(
    argv,
    { events: { type: 'string' }, queries: { type: 'string' }, keep: { type: 'boolean' }, reuse: { type: 'string' } },
    USAGE,
  );
  return {
    events: wholeNumberFlag('events', values.events, { min: 1_000, fallback: 1_000_000 }, USAGE),
    queries: wholeNumberFlag('queries', values.queries, { min: 10, fallback: 300 }, USAGE),
    keep: values.keep ?? false,
    reuse: values.reuse === undefined ? undefined : assertSchemaName(values.reuse),
  };
}

const log = (line: string): void => void process.stdout.write(`${line}\n`);
const number = (n: number): string => Math.round(n).toLocaleString('en');

/** Events per payment of the workload, measured on a sample: sizes the chunks to reach --events. */
const EVENTS_PER_PAYMENT_SAMPLE =
  generateWorkload({ seed: 1, persons: 200, merchants: 20, nonProfits: 3, payments: 2_000, walletEvents: false }).events.length / 2_000;

function topicOf(event: EventEnvelope): string {
  return event.type.startsWith('payments.') ? 'payments.events.v1' : event.type.startsWith('ledger.') ? 'ledger.transactions.v1' : 'wallet.events.v1';
}

/** The live version as the consumer keeps it between chunks (one per process). */
const liveVersion = new LiveVersionGuess();

/** The live path for a batch: store the envelopes and project them into the live version, in one transaction (what the consumer does per chunk). */
async function ingest(dataSource: DataSource, events: readonly EventEnvelope[], offsets: Map<string, number>): Promise<void> {
  const consumed = events.map((envelope) => {
    const topic = topicOf(envelope);
    const partition = partitionOf(envelope.subject, 12);
    const key = `${topic}:${partition}`;
    const offset = (offsets.get(key) ?? 0) + 1;
    offsets.set(key, offset);
    return { envelope, topic, partition, offset: String(offset) };
  });
  await dataSource.transaction((tx) => storeAndProject(sqlOfTransaction(tx), consumed, liveVersion));
}

/**
 * CPU seconds of this process and of its PostgreSQL backends (application_name history-bench)
 * since the call: steadier than a rate on a machine others share. Backends are sampled every
 * 500 ms (one that exits between samples loses its last half second).
 */
async function cpuMeter(dataSource: DataSource): Promise<{ stop: () => Promise<{ node: number; postgres: number }> }> {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  // Backends open before the call count from their CPU at the call; those opened later from zero.
  const sample = async (before: boolean): Promise<void> => {
    const backends = await dataSource.query<Array<{ pid: number }>>("SELECT pid FROM pg_stat_activity WHERE application_name = 'history-bench'");
    for (const { pid } of backends) {
      const seconds = processCpuSeconds(pid);
      if (seconds === undefined) continue;
      if (!first.has(pid)) first.set(pid, before ? seconds : 0);
      last.set(pid, seconds);
    }
  };
  await sample(true);
  const node = process.cpuUsage();
  const timer = setInterval(() => void sample(false).catch(() => undefined), 500);
  return {
    stop: async () => {
      clearInterval(timer);
      const used = process.cpuUsage(node);
      await sample(false).catch(() => undefined); // a busy server may refuse a connection in time: the last sample is the one before
      let postgres = 0;
      for (const [pid, seconds] of last) postgres += seconds - (first.get(pid) ?? 0);
      return { node: (used.user + used.system) / 1e6, postgres };
    },
  };
}

async function time(label: string, runs: number, work: (i: number) => Promise<unknown>): Promise<{ label: string; p50: number; p99: number; mean: number }> {
  for (let i = 0; i < Math.min(10, runs); i += 1) await work(-1 - i); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    await work(i);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { label, p50: percentile(samples, 50), p99: percentile(samples, 99), mean: samples.reduce((a, b) => a + b, 0) / samples.length };
}

/** Steps 1 and 2: the workload, stored and projected into version 1 by the live path. */
async function applyLive(dataSource: DataSource, flags: Flags): Promise<void> {
  const paymentsNeeded = Math.ceil(flags.events / EVENTS_PER_PAYMENT_SAMPLE);
  const persons = Math.max(200, Math.round(paymentsNeeded / 9));
  const merchants = Math.max(20, Math.round(persons / 10));
  const nonProfits = Math.max(3, Math.round(persons / 100));
  const chunkPayments = 20_000;
  const chunks = Math.ceil(paymentsNeeded / chunkPayments);
  log(
    `\nworkload: ~${number(flags.events)} events: ${number(paymentsNeeded)} payments of ${number(persons)} people, ${number(merchants)} merchants, ${number(nonProfits)} non-profits`,
  );
  const offsets = new Map<string, number>();
  let total = 0;
  let liveMs = 0;
  const day = 86_400_000;
  for (let chunk = 0; chunk < chunks; chunk += 1) {
    const { events } = generateWorkload({
      seed: 1_000 + chunk,
      persons,
      merchants,
      nonProfits,
      payments: Math.min(chunkPayments, paymentsNeeded - chunk * chunkPayments),
      walletEvents: chunk === 0,
      paymentPrefix: `b${chunk}`,
      start: new Date(Date.UTC(2025, 0, 1) + chunk * 14 * day),
      spacingMs: (14 * day) / chunkPayments,
    });
    // Three workers, each the owner of a third of the subjects (partitions), 500 events per transaction.
    const lanes: EventEnvelope[][] = [[], [], []];
    for (const event of events) lanes[partitionOf(event.subject, 3)].push(event);
    const started = performance.now();
    await Promise.all(
      lanes.map(async (lane) => {
        for (let i = 0; i < lane.length; i += 500) await ingest(dataSource, lane.slice(i, i + 500), offsets);
      }),
    );
    liveMs += performance.now() - started;
    total += events.length;
    process.stderr.write(`\r  live: ${number(total)} events, ${number(total / (liveMs / 1000))} events/s   `);
  }
  process.stderr.write('\n');
  log(
    `live path (store + project, 3 workers, 500 events per transaction): ${number(total)} events in ${(liveMs / 1000).toFixed(1)} s = ${number(total / (liveMs / 1000))} events/s`,
  );

  // The consumer's real shape: one inbox transaction per event, 3 partitions at a time, on a sample.
  const sample = generateWorkload({
    seed: 99,
    persons,
    merchants,
    nonProfits,
    payments: 2_000,
    walletEvents: false,
    paymentPrefix: 'single',
    start: new Date(Date.UTC(2025, 0, 1)),
  }).events;
  const singleLanes: EventEnvelope[][] = [[], [], []];
  for (const event of sample) singleLanes[partitionOf(event.subject, 3)].push(event);
  let singleOffset = 0;
  const singleStarted = performance.now();
  await Promise.all(
    singleLanes.map(async (lane) => {
      for (const envelope of lane) {
        singleOffset += 1;
        await dataSource.transaction((tx) =>
          storeAndProject(sqlOfTransaction(tx), [{ envelope, topic: topicOf(envelope), partition: 0, offset: String(singleOffset) }], liveVersion),
        );
      }
    }),
  );
  const singleSeconds = (performance.now() - singleStarted) / 1000;
  log(
    `live path, one transaction per event (the consumer's unit), 3 partitions: ${number(sample.length)} events in ${singleSeconds.toFixed(1)} s = ${number(sample.length / singleSeconds)} events/s`,
  );
}

/** After a --reuse run: version 1 serves again and the version just built is dropped, as the earlier run left the schema. */
async function restoreVersionOne(dataSource: DataSource, version: number): Promise<void> {
  const t = readModelTables(version);
  await dataSource.transaction(async (tx) => {
    await tx.query("UPDATE read_model_versions SET state = 'retired' WHERE version = $1", [version]);
    await tx.query("UPDATE read_model_versions SET state = 'live', retired_at = NULL WHERE version = 1");
    await tx.query('UPDATE read_model_pointer SET live_version = 1, switched_at = now()');
    await tx.query('DELETE FROM read_model_versions WHERE version = $1', [version]);
    await tx.query(`DROP TABLE ${t.facts}, ${t.entries}, ${t.dailyTotals}, ${t.wallets}, ${t.methods}, ${t.ledgerPostings}`);
  });
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/payments_bench';
  await ensureDatabase(url);
  const schema = flags.reuse ?? assertSchemaName(`bench_history_${randomBytes(3).toString('hex')}`);
  const dataSource = await openServiceDataSource({ url, schema, migrations: historyProjectionMigrations, poolSize: 6, applicationName: 'history-bench' });
  const [{ version: pg }] = await dataSource.query<Array<{ version: string }>>('SELECT version()');
  const [{ setting: syncCommit }] = await dataSource.query<Array<{ setting: string }>>("SELECT setting FROM pg_settings WHERE name = 'synchronous_commit'");
  log(
    `machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${pg.split(' on ')[0]} (synchronous_commit=${syncCommit})`,
  );

  let rebuiltVersion: number | undefined;
  try {
    if (flags.reuse === undefined) {
      // Every production server runs autovacuum, whose ANALYZE re-plans the live path's statements as its tables grow
      // from nothing; where this server does not, the bench does it (as bench:e2e), for the live path only: the
      // rebuild analyses its own tables.
      const autovacuum = await AutovacuumStandIn.startIfOff(new Map([[url, [schema]]]));
      try {
        await applyLive(dataSource, flags);
      } finally {
        await autovacuum?.stop();
      }
      log(
        autovacuum
          ? `live path's autovacuum: the bench's stand-in (the server's is off): ${autovacuum.counts.vacuums} vacuums, ${autovacuum.counts.analyses} analyses`
          : "live path's autovacuum: the server's",
      );
    } else log(`\nreusing schema ${schema}: its stored events, and its version 1 as the live read model`);

    // --- 3: rebuild into version 2 ---
    log('\nrebuild (npm run history:rebuild) into a new version while version 1 serves:');
    let lastReport = 0;
    const meter = await cpuMeter(dataSource);
    const rebuilt = await rebuildReadModel({
      dataSource,
      batchSize: 20_000,
      onProgress: (p) => {
        if (Date.now() - lastReport < 5_000 && p.phase === 'replaying') return;
        lastReport = Date.now();
        log(`  ${p.phase}: ${number(p.eventsDone)} / ${number(p.eventsTotal)} events, ${number(p.eventsPerSecond)} events/s, ${p.secondsLeft ?? '?'} s left`);
      },
    });
    const cpu = await meter.stop();
    log(
      `replay: ${number(rebuilt.events)} events in ${rebuilt.seconds.toFixed(1)} s = ${number(rebuilt.eventsPerSecond)} events/s (indexes and switch included)`,
    );
    const perEvent = (seconds: number): string => `${((seconds * 1e6) / rebuilt.events).toFixed(1)} µs`;
    log(
      `replay CPU per event: Node ${perEvent(cpu.node)}, PostgreSQL backends ${perEvent(cpu.postgres)} (two idle cores give at most ${number((2 * rebuilt.events) / (cpu.node + cpu.postgres))} events/s)`,
    );
    rebuiltVersion = rebuilt.version;
    const [v1, v2] = [await readModelChecksums(sqlOfPool(dataSource), 1), await readModelChecksums(sqlOfPool(dataSource), rebuilt.version)];
    const same = JSON.stringify(v1) === JSON.stringify(v2);
    log(`read model after rebuild ${same ? 'IDENTICAL to' : 'DIFFERS from'} the live one:`);
    for (const table of Object.keys(v1))
      log(
        `  ${table.padEnd(16)} ${number(v1[table].rows).padStart(10)} rows  live ${v1[table].checksum.padStart(20)}  rebuilt ${v2[table].checksum.padStart(20)}`,
      );
    const sizes = await dataSource.query<Array<{ name: string; size: string }>>(
      `SELECT c.relname AS name, pg_size_pretty(pg_total_relation_size(c.oid)) AS size FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = current_schema() AND c.relkind = 'r' AND (c.relname LIKE $1 OR c.relname = 'raw_events') ORDER BY pg_total_relation_size(c.oid) DESC`,
      [`%\\_v${rebuilt.version}`],
    );
    log(`sizes: ${sizes.map((s) => `${s.name} ${s.size}`).join(', ')}`);

    // --- 4: queries on the rebuilt (now live) version ---
    const reader = new HistoryReader(dataSource);
    const t = readModelTables(rebuilt.version);
    const people = (await dataSource.query<Array<{ id: string }>>(`SELECT DISTINCT payer_id AS id FROM ${t.entries} TABLESAMPLE SYSTEM (5) LIMIT 2000`)).map(
      (r) => r.id,
    );
    const businesses = (
      await dataSource.query<Array<{ id: string }>>(
        `SELECT DISTINCT counterparty_id AS id FROM ${t.entries} TABLESAMPLE SYSTEM (5) WHERE counterparty_type = 'merchant' LIMIT 500`,
      )
    ).map((r) => r.id);
    const random = prng(7);
    const person = (): HistoryScope => ({ kind: 'person', personId: people[Math.floor(random() * people.length)] });
    const merchant = (): HistoryScope => ({
      kind: 'counterparty',
      counterpartyType: 'merchant',
      counterpartyId: businesses[Math.floor(random() * businesses.length)],
    });
    const [{ first }] = await dataSource.query<Array<{ first: Date }>>(`SELECT min(occurred_at) AS first FROM ${t.entries}`);
    const month = (i: number): { from: Date; to: Date } => {
      const start = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + (Math.abs(i) % 6), 1));
      return { from: start, to: new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1)) };
    };
    const page = (scope: HistoryScope, filters: HistoryFilters = {}) => reader.page(scope, filters, { limit: 50, order: 'desc' });
    const aggregates = (request: AggregateRequest) => reader.aggregates(request);
    const n = flags.queries;
    const results = [
      await time('person history, first page (50)', n, () => page(person())),
      await time('person history, next page (cursor)', n, async () => {
        const scope = person();
        const first = await reader.page(scope, {}, { limit: 20, order: 'desc' });
        return first.nextCursor ? reader.page(scope, {}, { limit: 20, order: 'desc', cursor: first.nextCursor }) : first;
      }),
      await time('person history, app+status+amount filters', n, () =>
        page(person(), { apps: ['instagram', 'whatsapp'], statuses: ['captured', 'refunded', 'partially_refunded'], minAmount: 1_000n, maxAmount: 30_000n }),
      ),
      await time('person summary (totals per currency)', n, () => reader.summary(person() as Extract<HistoryScope, { kind: 'person' }>, {})),
      await time('merchant history, first page (50)', n, () => page(merchant())),
      await time('merchant history, one month, refunds', n, (i) => page(merchant(), { kinds: ['refund'], ...month(i) })),
      await time("analysts' list, everyone, kind=donation", n, () => page({ kind: 'all' }, { kinds: ['donation'] })),
      await time('aggregates: month x app (all time)', n, () => aggregates({ interval: 'month', groupBy: ['app'], filters: {} })),
      await time('aggregates: day x country x kind, one month', n, (i) => aggregates({ interval: 'day', groupBy: ['country', 'kind'], filters: month(i) })),
      await time('aggregates: week x method type, captured only', n, () =>
        aggregates({ interval: 'week', groupBy: ['methodType'], filters: { statuses: ['captured'] } }),
      ),
      await time('aggregates from entries: day x app, one month, amount >= 100.00', Math.max(10, Math.round(n / 10)), (i) =>
        aggregates({ interval: 'day', groupBy: ['app'], filters: { ...month(i), minAmount: 10_000n } }),
      ),
    ];
    const rollupRows = (await dataSource.query<Array<{ n: string }>>(`SELECT count(*)::text AS n FROM ${t.dailyTotals}`))[0].n;
    log(`\nqueries on ${number(v2.history_entries.rows)} entries (${number(Number(rollupRows))} daily-total rows), ${n} runs each unless fewer shown; ms:`);
    log(`${'query'.padEnd(62)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'mean'.padStart(8)}`);
    for (const r of results) log(`${r.label.padEnd(62)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${r.mean.toFixed(2).padStart(8)}`);
    const basis = aggregateQuery(t, { interval: 'day', groupBy: ['app'], filters: { minAmount: 1n } }).basis;
    log(`(aggregates with an amount filter are answered from the entries: basis=${basis})`);
    if (!same) process.exitCode = 1;
  } finally {
    if (flags.reuse !== undefined && rebuiltVersion !== undefined) await restoreVersionOne(dataSource, rebuiltVersion);
    await dataSource.destroy();
    if (!flags.keep && flags.reuse === undefined) {
      const client = new Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA "${schema}" CASCADE`);
      await client.end();
    } else log(`kept schema ${schema}`);
  }
}

void main();
