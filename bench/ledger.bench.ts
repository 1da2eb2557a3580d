/**
 * npm run bench:ledger — throughput and latency of the ledger on this machine, and the ceiling
 * of plain PostgreSQL writing the same journal rows, in one run (a benchmark, not a test).
 *
 * Scenarios: 1, 16 and 64 concurrent clients, each sending transfers one after the other
 * (await the answer, send the next), either between spread-out accounts or all into one hot
 * merchant account. The ceiling writes the same rows (journal entries and their postings) with
 * batched multi-row INSERTs and no ledger logic: no locks, no balances, no hashes, no outbox.
 *
 * Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/payments_bench; created
 * if missing). A fresh schema is created and dropped. Flags: --seconds=N per scenario (default 6).
 */
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import type { LedgerCommand } from '@pay/ledger-domain';
import type { BatchStats } from '@pay/ledger-store';
import { LEDGER_MIGRATIONS, PostgresLedger } from '@pay/ledger-store';
import { assertSchemaName, openServiceDataSource } from '@pay/platform';
import type { DataSource } from 'typeorm';
import { parseCommandLine, wholeNumberFlag } from '@pay/tools/command-line';
import { CEILING_CLIENTS, measureCommitCeiling } from './commit-ceiling';
import { ensureDatabase } from '@pay/local-infra';
import { percentile } from './percentile';

const PEOPLE = 2_000;
const MERCHANTS = 200;
/**
 * 256 clients let a batch fill the group commit's default maxBatchSize (256): how far batching
 * carries under more load than 64 callers at once. The multiples are printed at 64 clients too.
 */
const CLIENTS = [1, 16, 64, 256] as const;
/** Entries per INSERT transaction: 64 matches the ledger's batches at 64 clients; 256 is the ceiling. */
const CEILING_BATCHES = [64, 256] as const;
const CEILING_WRITERS = [1, 4] as const;

const USAGE = 'usage: npm run bench:ledger -- [--seconds=N (1-60)]';

function parseSeconds(argv: string[]): number {
  const { seconds } = parseCommandLine(argv, { seconds: { type: 'string' } }, USAGE);
  return wholeNumberFlag('seconds', seconds, { min: 1, max: 60, fallback: 6 }, USAGE);
}

interface Result {
  scenario: string;
  clients: number;
  transactions: number;
  perSecond: number;
  p50: number;
  p99: number;
  refused: number;
  averageBatch: number;
}

const pick = (n: number): number => Math.floor(Math.random() * n);

async function runScenario(
  ledger: PostgresLedger,
  batches: BatchStats[],
  scenario: 'spread' | 'hot',
  clients: number,
  seconds: number,
  idPrefix: string,
): Promise<Result> {
  const latencies: number[] = [];
  let refused = 0;
  let sequence = 0;
  batches.length = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const command = (): LedgerCommand => {
    const from = `person-${pick(PEOPLE)}`;
    let to = scenario === 'hot' ? 'merchant-hot' : pick(2) === 0 ? `person-${pick(PEOPLE)}` : `merchant-${pick(MERCHANTS)}`;
    if (to === from) to = 'merchant-0';
    const amount = BigInt(1 + pick(5_000));
    return {
      type: 'transfer',
      transactionId: `${idPrefix}-${sequence++}`,
      postings: [
        { accountId: from, direction: 'debit', amount, currency: 'EUR' },
        { accountId: to, direction: 'credit', amount, currency: 'EUR' },
      ],
      metadata: { order: `o-${sequence}` },
    };
  };
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const outcome = await ledger.submit(command());
        latencies.push(performance.now() - t0);
        if (!outcome.ok) refused++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const accepted = latencies.length - refused;
  const averageBatch = batches.length ? batches.reduce((s, b) => s + b.size, 0) / batches.length : 0;
  return {
    scenario,
    clients,
    transactions: accepted,
    perSecond: accepted / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    refused,
    averageBatch,
  };
}

/**
 * Autovacuum may be off on the server (it is on the project's machines): without statistics the
 * planner scans whole tables, and the previous scenario's dead balance and head rows would slow
 * the next one. Each scenario starts from vacuumed, analysed tables.
 */
async function vacuumLedgerTables(dataSource: DataSource): Promise<void> {
  await dataSource.query('VACUUM (ANALYZE) accounts, balances, journal_entries, postings, chain_head, pending_reservations, outbox');
}

/** The same rows as the ledger writes (an entry and its two postings), by multi-row INSERT only. */
async function ceiling(dataSource: DataSource, seconds: number): Promise<Array<{ writers: number; batch: number; perSecond: number }>> {
  await dataSource.query(`
    CREATE TABLE ceiling_entries (LIKE journal_entries INCLUDING DEFAULTS INCLUDING INDEXES);
    CREATE TABLE ceiling_postings (LIKE postings INCLUDING DEFAULTS INCLUDING INDEXES);`);
  const hash = () => randomBytes(32).toString('hex');
  let position = 0;
  const results = [];
  for (const [batch, writers] of CEILING_BATCHES.flatMap((b) => CEILING_WRITERS.map((w) => [b, w] as const))) {
    let rows = 0;
    const deadline = performance.now() + seconds * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async () => {
        const runner = dataSource.createQueryRunner();
        await runner.connect();
        try {
          while (performance.now() < deadline) {
            const entries: unknown[] = [];
            const postings: unknown[] = [];
            const entryValues: string[] = [];
            const postingValues: string[] = [];
            const now = new Date();
            for (let i = 0; i < batch; i++) {
              const p = ++position;
              const e = entries.length;
              entryValues.push(`($${e + 1}, $${e + 2}, 'transfer', $${e + 3}::jsonb, $${e + 4}, $${e + 5}, $${e + 6}, $${e + 7})`);
              entries.push(p, `ceiling-${p}`, JSON.stringify({ order: `o-${p}` }), hash(), now, hash(), hash());
              const q = postings.length;
              const amount = 1 + pick(5_000);
              postingValues.push(
                `($${q + 1}, 0, $${q + 2}, 'debit', 'posted', $${q + 3}, 'EUR')`,
                `($${q + 1}, 1, $${q + 4}, 'credit', 'posted', $${q + 3}, 'EUR')`,
              );
              postings.push(p, `person-${pick(PEOPLE)}`, amount, `merchant-${pick(MERCHANTS)}`);
            }
            await runner.query('BEGIN');
            await runner.query(
              `INSERT INTO ceiling_entries (position, transaction_id, kind, metadata, content_hash, recorded_at, prev_hash, hash) VALUES ${entryValues.join(', ')}`,
              entries,
            );
            await runner.query(
              `INSERT INTO ceiling_postings (position, idx, account_id, direction, layer, amount, currency) VALUES ${postingValues.join(', ')}`,
              postings,
            );
            await runner.query('COMMIT');
            rows += batch;
          }
        } finally {
          await runner.release();
        }
      }),
    );
    results.push({ writers, batch, perSecond: rows / ((performance.now() - started) / 1000) });
  }
  return results;
}

async function main(): Promise<void> {
  const seconds = parseSeconds(process.argv.slice(2));
  const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/payments_bench';
  await ensureDatabase(url);
  const schema = assertSchemaName(`ledger_bench_${randomBytes(3).toString('hex')}`);
  const dataSource = await openServiceDataSource({ url, schema, migrations: LEDGER_MIGRATIONS, poolSize: 8, applicationName: 'ledger-bench' });
  const batches: BatchStats[] = [];
  const ledger = new PostgresLedger(dataSource, { onBatch: (b) => batches.push(b) });
  try {
    const [pg] = await dataSource.query<Array<{ version: string; sync: string }>>("SELECT version() AS version, current_setting('synchronous_commit') AS sync");
    const cpu = cpus();
    process.stdout.write(
      `machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
        `Node ${process.version}, ${pg?.version.split(' on ')[0]} (synchronous_commit=${pg?.sync}), load generator in the same process\n`,
    );

    process.stderr.write(`setting up ${PEOPLE} people, ${MERCHANTS + 1} merchants in schema ${schema}...\n`);
    await ledger.openAccount({ id: 'clearing', ownerType: 'system', ownerId: 'psp', currency: 'EUR', normalSide: 'debit' });
    await ledger.openAccount({ id: 'merchant-hot', ownerType: 'merchant', ownerId: 'm-hot', currency: 'EUR' });
    for (let i = 0; i < MERCHANTS; i++) await ledger.openAccount({ id: `merchant-${i}`, ownerType: 'merchant', ownerId: `m-${i}`, currency: 'EUR' });
    for (let i = 0; i < PEOPLE; i++) await ledger.openAccount({ id: `person-${i}`, ownerType: 'person', ownerId: `u-${i}`, currency: 'EUR' });
    await Promise.all(
      Array.from({ length: PEOPLE }, (_, i) =>
        ledger.record({
          type: 'transfer',
          transactionId: `fund-${i}`,
          postings: [
            { accountId: 'clearing', direction: 'debit', amount: 10_000_000_000n, currency: 'EUR' },
            { accountId: `person-${i}`, direction: 'credit', amount: 10_000_000_000n, currency: 'EUR' },
          ],
        }),
      ),
    );

    const results: Result[] = [];
    for (const scenario of ['spread', 'hot'] as const) {
      for (const clients of CLIENTS) {
        await vacuumLedgerTables(dataSource);
        process.stderr.write(`running ${scenario} with ${clients} clients for ${seconds}s...\n`);
        results.push(await runScenario(ledger, batches, scenario, clients, seconds, `${scenario}-${clients}`));
      }
    }
    process.stderr.write(`measuring the plain PostgreSQL ceiling for ${seconds}s per batch size and writer count...\n`);
    const ceilings = await ceiling(dataSource, seconds);
    const best = Math.max(...ceilings.map((c) => c.perSecond));
    process.stderr.write(`measuring the per-commit ceiling (${CEILING_CLIENTS} clients, ${seconds}s per protocol)...\n`);
    const commitCeiling = await measureCommitCeiling(url, schema, seconds);

    const pad = (v: string | number, n: number): string => String(v).padStart(n);
    process.stdout.write(
      `\nledger (group commit, ${seconds}s per scenario; each transaction: 1 entry + 2 postings + 2 balance rows + 1 outbox event, hash-chained)\n`,
    );
    process.stdout.write(
      `${'scenario'.padEnd(8)} ${pad('clients', 7)} ${pad('tx/s', 8)} ${pad('p50 ms', 8)} ${pad('p99 ms', 8)} ${pad('avg batch', 9)} ${pad('of ceiling', 10)}\n`,
    );
    for (const r of results) {
      process.stdout.write(
        `${r.scenario.padEnd(8)} ${pad(r.clients, 7)} ${pad(r.perSecond.toFixed(0), 8)} ${pad(r.p50.toFixed(2), 8)} ${pad(r.p99.toFixed(2), 8)} ` +
          `${pad(r.averageBatch.toFixed(1), 9)} ${pad(`${((100 * r.perSecond) / best).toFixed(1)}%`, 10)}${r.refused ? `  (${r.refused} refused)` : ''}\n`,
      );
    }
    process.stdout.write(`\nceiling: plain PostgreSQL writing the same rows (entry + 2 postings) by multi-row INSERTs, no ledger logic\n`);
    for (const c of ceilings) {
      process.stdout.write(
        `  ${pad(c.batch, 3)} entries per transaction, ${c.writers} writer${c.writers > 1 ? 's' : ' '}: ${pad(c.perSecond.toFixed(0), 6)} entries/s\n`,
      );
    }
    const peak = results.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
    process.stdout.write(
      `best ledger throughput ${peak.perSecond.toFixed(0)} tx/s (${peak.scenario}, ${peak.clients} clients) = ${((100 * peak.perSecond) / best).toFixed(1)}% of the ceiling (${best.toFixed(0)} entries/s)\n`,
    );

    // The issue's reference figure is pgbench's default (simple) protocol; prepared statements are shown beside it.
    const commitsPerSecond = commitCeiling.perSecond.simple ?? commitCeiling.perSecond.node;
    process.stdout.write(
      `\nper-commit ceiling: ${commitCeiling.tool}, ${CEILING_CLIENTS} clients, one transaction = insert an entry, insert its 2 postings, update 1 balance\n`,
    );
    for (const [protocol, perSecond] of Object.entries(commitCeiling.perSecond))
      process.stdout.write(`  ${protocol.padEnd(8)}: ${pad(perSecond.toFixed(0), 6)} commits/s\n`);
    for (const scenario of ['spread', 'hot'] as const) {
      const runs = results.filter((r) => r.scenario === scenario);
      const top = runs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
      const prepared = commitCeiling.perSecond.prepared;
      const multiple = (r: Result): string =>
        `${pad(r.perSecond.toFixed(0), 6)} tx/s (${r.clients} clients) = ${(r.perSecond / commitsPerSecond).toFixed(2)}× the per-commit ceiling` +
        `${prepared ? ` (${(r.perSecond / prepared).toFixed(2)}× the prepared one)` : ''}`;
      process.stdout.write(`best ledger ${scenario.padEnd(6)}: ${multiple(top)}\n`);
      const at64 = runs.find((r) => r.clients === 64);
      if (at64 && at64 !== top) process.stdout.write(`  at 64 clients:     ${multiple(at64)}\n`);
    }

    const verified = await ledger.verify();
    const drift = await ledger.balanceDrift();
    process.stdout.write(
      `after the run: ${verified.ok ? `verified ${verified.entries} entries` : `CHAIN BROKEN at ${verified.position}`}, ${drift.length} balance drifts\n`,
    );
  } finally {
    await ledger.close();
    await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => undefined);
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:ledger failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
