/**
 * The per-commit ceiling of this machine's PostgreSQL: how many minimal ledger-like transactions
 * (insert an entry, insert its two postings, update one balance; one commit each) 20 clients get
 * through per second. Measured with PostgreSQL's own pgbench where it is installed (simple and
 * prepared protocol), else with 20 pg connections from Node doing the same. A ledger that batches
 * should exceed it: its throughput is reported as a multiple of this.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';

export const CEILING_CLIENTS = 20;
const ACCOUNTS = 2_000;

export interface CommitCeiling {
  tool: string;
  /** Transactions per second by protocol ('simple', 'prepared'; 'node' for the fallback). */
  perSecond: Record<string, number>;
}

/** The newest pgbench of the installed PostgreSQL versions (Debian layout), if any. */
export function findPgbench(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((version) => existsSync(join(root, version, 'bin/pgbench')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0], 'bin/pgbench') : undefined;
}

const q = (identifier: string): string => `"${identifier.replace(/"/g, '""')}"`;

async function createScratchTables(client: Client, schema: string): Promise<void> {
  await client.query(`
    CREATE TABLE ${q(schema)}.commit_ceiling_accounts (id integer PRIMARY KEY, balance bigint NOT NULL);
    CREATE TABLE ${q(schema)}.commit_ceiling_entries (id bigserial PRIMARY KEY, account_id integer NOT NULL, amount bigint NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now());
    CREATE TABLE ${q(schema)}.commit_ceiling_postings (entry_id bigint NOT NULL, idx smallint NOT NULL, account_id integer NOT NULL, amount bigint NOT NULL, PRIMARY KEY (entry_id, idx));
    INSERT INTO ${q(schema)}.commit_ceiling_accounts SELECT g, 0 FROM generate_series(1, ${ACCOUNTS}) g;`);
}

/** The transaction, with pgbench's variables :a, :b, :amount and :negative (-amount). */
function transactionStatements(schema: string): string[] {
  const s = q(schema);
  return [
    'BEGIN',
    `INSERT INTO ${s}.commit_ceiling_entries (account_id, amount) VALUES (:a, :amount)`,
    `INSERT INTO ${s}.commit_ceiling_postings (entry_id, idx, account_id, amount) VALUES (currval('${s}.commit_ceiling_entries_id_seq'), 0, :a, :negative), (currval('${s}.commit_ceiling_entries_id_seq'), 1, :b, :amount)`,
    `UPDATE ${s}.commit_ceiling_accounts SET balance = balance + :amount WHERE id = :b`,
    'COMMIT',
  ];
}

async function withPgbench(pgbench: string, url: string, schema: string, seconds: number): Promise<CommitCeiling> {
  const dir = await mkdtemp(join(tmpdir(), 'commit-ceiling-'));
  try {
    const script = join(dir, 'ledger-like.sql');
    await writeFile(
      script,
      [
        `\\set a random(1, ${ACCOUNTS})`,
        `\\set b random(1, ${ACCOUNTS})`,
        '\\set amount random(1, 5000)',
        '\\set negative -1 * :amount',
        ...transactionStatements(schema).map((s) => `${s};`),
      ].join('\n'),
    );
    const perSecond: Record<string, number> = {};
    for (const protocol of ['simple', 'prepared'] as const) {
      // -n: no vacuum of pgbench's own tables (there are none); the URL is libpq's connection string.
      const { stdout } = await promisify(execFile)(pgbench, [
        '-n',
        '-c',
        String(CEILING_CLIENTS),
        '-j',
        '2',
        '-T',
        String(seconds),
        '-M',
        protocol,
        '-f',
        script,
        url,
      ]);
      const tps = /tps = ([0-9.]+) \(without initial connection time\)/.exec(stdout);
      if (!tps) throw new Error(`pgbench printed no throughput:\n${stdout}`);
      perSecond[protocol] = Number(tps[1]);
    }
    return { tool: pgbench, perSecond };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Without pgbench: the same transaction, statement by statement, from 20 connections. */
async function withNode(url: string, schema: string, seconds: number): Promise<CommitCeiling> {
  // pgbench's variables become numbered parameters, per statement.
  const casts: Record<string, string> = { a: 'int', b: 'int', amount: 'bigint', negative: 'bigint' };
  const statements = transactionStatements(schema).map((sql) => {
    const names: string[] = [];
    const text = sql.replace(/:(a|b|amount|negative)\b/g, (_match, name: string) => {
      if (!names.includes(name)) names.push(name);
      return `$${names.indexOf(name) + 1}::${casts[name]}`;
    });
    return { text, names };
  });
  let transactions = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CEILING_CLIENTS }, async () => {
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        while (performance.now() < deadline) {
          const amount = 1 + Math.floor(Math.random() * 5_000);
          const values: Record<string, number> = {
            a: 1 + Math.floor(Math.random() * ACCOUNTS),
            b: 1 + Math.floor(Math.random() * ACCOUNTS),
            amount,
            negative: -amount,
          };
          for (const { text, names } of statements)
            await client.query(
              text,
              names.map((name) => values[name]),
            );
          transactions += 1;
        }
      } finally {
        await client.end();
      }
    }),
  );
  return { tool: `node-postgres, ${CEILING_CLIENTS} connections`, perSecond: { node: transactions / ((performance.now() - started) / 1000) } };
}

/** Measures the ceiling on scratch tables of `schema` (which the caller drops). */
export async function measureCommitCeiling(url: string, schema: string, seconds: number): Promise<CommitCeiling> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await createScratchTables(client, schema);
  } finally {
    await client.end();
  }
  const pgbench = findPgbench();
  return pgbench ? withPgbench(pgbench, url, schema, seconds) : withNode(url, schema, seconds);
}
