import type { Sql } from '@pay/platform';
import { upsertRowsSql } from '../database/sql';
import type { EntryRecord } from '../read-model/entry-record';
import type { ReadModelTables } from '../read-model/read-model-tables';
import { readModelTables } from '../read-model/read-model-tables';
import { liveVersion } from '../read-model/read-model-version';
import { paymentIdOf } from './payment-facts';
import type { PaymentLink, ProjectionOutcome, StoredFacts } from './project-events';
import {
  applyWalletEvents,
  dailyTotalRows,
  dailyTotalsAddSql,
  dailyTotalsRemoveEmptySql,
  ENTRY_COLUMNS,
  entryRecord,
  FACT_COLUMNS,
  ledgerLinks,
  mergeFacts,
  methodOwnersOf,
  paymentWrites,
  POSTING_COLUMNS,
  postingRecords,
  projectStepwise,
  sortedUnique,
  WALLET_COLUMNS,
  walletFromRecord,
  walletRecord,
} from './project-events';
import type { ProjectableEvent } from './projectable-event';
import { isLedgerEvent, isPaymentEvent } from './projectable-event';
import type { WalletRow } from './wallet-profile';
import { isProjectedWalletEvent, methodIdOf } from './wallet-profile';

/**
 * A chunk of events projected in three statements (and a fourth when a daily total empties):
 *
 * 1. lock: create-or-lock, in the one lock order of every writer (the live pointer FOR SHARE,
 *    wallets, methods, ledger postings, payment facts; each kind in key order), storing the
 *    ledger postings (they need nothing read) and, on the live path, the raw envelopes;
 * 2. read: what the folds need of the locked rows, in a statement of its own so that its snapshot
 *    is taken after every lock is held (a row a concurrent transaction committed while this one
 *    waited for it is read as committed, not as it was when the lock statement started);
 * 3. write: wallets, facts, entries (upserted and removed) and daily totals, as data-modifying CTEs;
 *    daily totals that this makes empty are removed after it (a rebuilt version has no empty rows).
 *
 * A chunk in which the wallet tells of a saved method (added, removed) goes the stepwise way
 * (`projectStepwise`): its payments must be found by method after the method is locked.
 */
interface ChunkPlan {
  walletEvents: ProjectableEvent[];
  paymentEvents: ProjectableEvent[];
  links: PaymentLink[];
  personIds: string[];
  methodIds: string[];
  methodOwners: string[];
  postings: Array<Record<string, unknown>>;
  paymentIds: string[];
}

function planChunk(events: readonly ProjectableEvent[]): ChunkPlan | undefined {
  const walletEvents = events.filter(isProjectedWalletEvent);
  if (walletEvents.some((event) => methodIdOf(event) !== undefined)) return undefined;
  const paymentEvents = events.filter(isPaymentEvent);
  const ledgerEvents = events.filter(isLedgerEvent);
  const links = ledgerLinks(ledgerEvents);
  const owners = methodOwnersOf(walletEvents, paymentEvents);
  const methodIds = sortedUnique(owners.keys());
  return {
    walletEvents,
    paymentEvents,
    links,
    personIds: sortedUnique(walletEvents.map((e) => (e.data as { personId: string }).personId)),
    methodIds,
    methodOwners: methodIds.map((id) => owners.get(id)!),
    postings: postingRecords(ledgerEvents),
    paymentIds: sortedUnique([...paymentEvents.map(paymentIdOf), ...links.map((l) => l.paymentId)]),
  };
}

const EMPTY_PLAN: ChunkPlan = { walletEvents: [], paymentEvents: [], links: [], personIds: [], methodIds: [], methodOwners: [], postings: [], paymentIds: [] };

/** The raw_events row of a consumed envelope (the rebuild's source). */
export interface RawEventRow {
  event_id: string;
  topic: string;
  kafka_partition: number;
  kafka_offset: string;
  type: string;
  occurred_at: string;
  envelope: object;
}

const RAW_EVENTS_INSERT = `INSERT INTO raw_events (event_id, topic, kafka_partition, kafka_offset, type, occurred_at, envelope)
       SELECT event_id, topic, kafka_partition, kafka_offset, type, occurred_at, envelope
         FROM jsonb_to_recordset($6::jsonb) AS r(event_id uuid, topic text, kafka_partition int, kafka_offset bigint, type text, occurred_at timestamptz, envelope jsonb)
       ON CONFLICT (event_id) DO NOTHING
       RETURNING 1`;

const statements = new Map<string, string>();
function statement(key: string, build: () => string): string {
  let text = statements.get(key);
  if (text === undefined) {
    text = build();
    statements.set(key, text);
  }
  return text;
}

/**
 * Statement 1. On the live path (`store`) it also stores the envelopes and locks the pointer FOR
 * SHARE (a switch waits for this transaction, and this one for a switch in progress); the rows
 * of version N are touched only if N is the live version, which it returns. Each step waits for
 * the one before (`(SELECT count(*) FROM step) >= 0`), so the locks are taken in this order.
 */
function lockSql(t: ReadModelTables, store: boolean): string {
  return statement(`lock:${t.version}:${store}`, () => {
    const live = store ? `(SELECT live_version FROM live) = ${t.version}` : 'true';
    return `WITH ${
      store
        ? `raw AS (${RAW_EVENTS_INSERT}),
     live AS (SELECT live_version FROM read_model_pointer WHERE (SELECT count(*) FROM raw) >= 0 FOR SHARE),
     `
        : ''
    }wallets AS (
       INSERT INTO ${t.wallets} AS t (person_id, apps, apps_sequence, contact_sequence, preferred_sequence)
       SELECT person_id, '{}'::text[], 0, 0, 0 FROM unnest($1::text[]) AS person_id
       WHERE ${live}
       ORDER BY person_id
       ON CONFLICT (person_id) DO UPDATE SET person_id = EXCLUDED.person_id WHERE false
       RETURNING 1),
     methods AS (
       INSERT INTO ${t.methods} AS t (method_id, person_id)
       SELECT method_id, person_id FROM unnest($2::text[], $3::text[]) AS r(method_id, person_id)
       WHERE ${live} AND (SELECT count(*) FROM wallets) >= 0
       ORDER BY method_id
       ON CONFLICT (method_id) DO UPDATE SET method_id = EXCLUDED.method_id WHERE false
       RETURNING 1),
     postings AS (
       ${upsertRowsSql(t.ledgerPostings, POSTING_COLUMNS, { keys: ['transaction_id', 'posting_index'], update: 'nothing' }, 4, `${live} AND (SELECT count(*) FROM methods) >= 0`)}
       RETURNING 1),
     facts AS (
       INSERT INTO ${t.facts} AS t (payment_id, facts)
       SELECT payment_id, '{}'::jsonb FROM unnest($5::text[]) AS payment_id
       WHERE ${live} AND (SELECT count(*) FROM postings) >= 0
       ORDER BY payment_id
       ON CONFLICT (payment_id) DO UPDATE SET payment_id = EXCLUDED.payment_id WHERE false
       RETURNING 1)
     SELECT ${store ? '(SELECT live_version FROM live)' : `${t.version}`} AS live_version, (SELECT count(*) FROM facts)::int AS created`;
  });
}

const lockParameters = (plan: ChunkPlan): unknown[] => [plan.personIds, plan.methodIds, plan.methodOwners, JSON.stringify(plan.postings), plan.paymentIds];

/** Statement 2: the locked wallets, the kinds of the chunk's methods, the locked facts (with their method's kind) and their entries. */
function readSql(t: ReadModelTables): string {
  return statement(`read:${t.version}`, () => {
    const entryColumns = ENTRY_COLUMNS.map((c) => (c.type === 'bigint' ? `${c.name}::text AS ${c.name}` : c.name)).join(', ');
    return `SELECT
       (SELECT coalesce(json_agg(w), '[]') FROM (SELECT ${WALLET_COLUMNS.map((c) => c.name).join(', ')} FROM ${t.wallets} WHERE person_id = ANY($1::text[])) w) AS wallets,
       (SELECT coalesce(json_agg(json_build_array(method_id, kind)), '[]') FROM ${t.methods} WHERE method_id = ANY($2::text[]) AND kind IS NOT NULL) AS kinds,
       (SELECT coalesce(json_agg(json_build_array(f.payment_id, f.facts, m.method_id, m.kind)), '[]')
          FROM ${t.facts} f LEFT JOIN ${t.methods} m ON m.method_id = f.method_id WHERE f.payment_id = ANY($3::text[])) AS facts,
       (SELECT coalesce(json_agg(e), '[]') FROM (SELECT ${entryColumns} FROM ${t.entries} WHERE payment_id = ANY($3::text[])) e) AS entries`;
  });
}

interface ReadRow {
  wallets: Array<Record<string, unknown>>;
  kinds: Array<[string, string]>;
  facts: Array<[string, StoredFacts['facts'], string | null, string | null]>;
  entries: Array<EntryRecord<string>>;
}

/** Statement 3: every write of the chunk; returns how many daily totals it left empty. */
function writeSql(t: ReadModelTables): string {
  return statement(`write:${t.version}`, () => {
    return `WITH wallets AS (
       ${upsertRowsSql(t.wallets, WALLET_COLUMNS, { keys: ['person_id'], update: 'all' }, 1)}),
     facts AS (
       ${upsertRowsSql(t.facts, FACT_COLUMNS, { keys: ['payment_id'], update: 'all' }, 2)}),
     entries AS (
       ${upsertRowsSql(t.entries, ENTRY_COLUMNS, { keys: ['entry_id'], update: 'all' }, 3)}),
     removed AS (DELETE FROM ${t.entries} WHERE entry_id = ANY($4::text[])),
     totals AS (
       ${dailyTotalsAddSql(t, 5)}
       RETURNING t.entries, t.amount, t.net_amount)
     SELECT count(*)::int AS emptied FROM totals WHERE entries = 0 AND amount = 0 AND net_amount = 0`;
  });
}

/** Statements 2 and 3 (and the fourth), once the chunk's rows are locked. */
async function projectLocked(sql: Sql, t: ReadModelTables, plan: ChunkPlan, events: number): Promise<ProjectionOutcome> {
  if (plan.personIds.length === 0 && plan.paymentIds.length === 0) return { events, payments: 0, entriesWritten: 0, dailyTotalsTouched: 0 };
  const [read] = await sql.query<ReadRow>(readSql(t), [plan.personIds, plan.methodIds, plan.paymentIds]);

  const wallets = new Map<string, WalletRow>(read.wallets.map((r) => walletFromRecord(r)).map((w) => [w.personId, w]));
  applyWalletEvents(wallets, new Map(), plan.walletEvents);

  const merged = mergeFacts(
    read.facts.map(([payment_id, facts]) => ({ payment_id, facts })),
    plan.paymentEvents,
    plan.links,
  );
  // The kind of each method the facts name: those the chunk names were read with it, the others through the stored facts.
  const methodKinds = new Map<string, string>();
  for (const [, , methodId, kind] of read.facts) if (methodId !== null && kind !== null) methodKinds.set(methodId, kind);
  for (const [methodId, kind] of read.kinds) methodKinds.set(methodId, kind);
  const writes = paymentWrites(plan.paymentIds, merged, methodKinds, read.entries);

  const walletRows = [...wallets.values()].map(walletRecord);
  const outcome = {
    events,
    payments: plan.paymentIds.length,
    entriesWritten: writes.entries.length + writes.deletes.length,
    dailyTotalsTouched: writes.totals.length,
  };
  if (walletRows.length === 0 && writes.facts.length === 0 && outcome.entriesWritten === 0 && writes.totals.length === 0) return outcome;
  const totals = JSON.stringify(dailyTotalRows(writes.totals));
  const [written] = await sql.query<{ emptied: number }>(writeSql(t), [
    JSON.stringify(walletRows),
    JSON.stringify(writes.facts),
    JSON.stringify(writes.entries.map(entryRecord)),
    writes.deletes,
    totals,
  ]);
  if (written.emptied > 0) await sql.query(dailyTotalsRemoveEmptySql(t), [totals]);
  return outcome;
}

/**
 * Projects events into one version of the read model, in the caller's transaction (the rebuild's
 * tests and the stepwise comparison use it; the consumer stores and projects with storeAndProjectChunk).
 */
export async function projectEvents(sql: Sql, version: number, events: readonly ProjectableEvent[]): Promise<ProjectionOutcome> {
  const plan = planChunk(events);
  if (!plan) return projectStepwise(sql, version, events);
  const t = readModelTables(version);
  await sql.query(lockSql(t, false), lockParameters(plan));
  return projectLocked(sql, t, plan, events.length);
}

/**
 * The live version as this consumer last saw it. The lock statement names the tables of this
 * guess and checks it against the pointer it locks: a wrong guess (a rebuild switched) costs the
 * chunk the stepwise path once. Read again after a minute without chunks (an idle consumer's
 * guess could name a version a later rebuild dropped) and after any failure.
 */
export class LiveVersionGuess {
  private seen?: { version: number; at: number };

  constructor(private readonly maxAgeMs = 60_000) {}

  async guess(sql: Sql): Promise<number> {
    if (this.seen && Date.now() - this.seen.at < this.maxAgeMs) return this.seen.version;
    return liveVersion(sql);
  }

  saw(version: number | undefined): void {
    this.seen = version === undefined ? undefined : { version, at: Date.now() };
  }
}

/**
 * The live path: stores the envelopes in raw_events and projects the events into the live
 * version, in the caller's (inbox) transaction. `sql` should prepare its statements.
 */
export async function storeAndProjectChunk(
  sql: Sql,
  raw: readonly RawEventRow[],
  events: readonly ProjectableEvent[],
  live: LiveVersionGuess,
): Promise<ProjectionOutcome> {
  const plan = planChunk(events);
  const guess = await live.guess(sql);
  let rows: Array<{ live_version: number | null }>;
  try {
    rows = await sql.query(lockSql(readModelTables(guess), true), [...lockParameters(plan ?? EMPTY_PLAN), JSON.stringify(raw)]);
  } catch (error) {
    live.saw(undefined);
    throw error;
  }
  if (rows[0].live_version === null) throw new Error('read_model_pointer is empty: run the history-projection migrations');
  const version = Number(rows[0].live_version);
  live.saw(version);
  // A wrong guess locked nothing of the read model (only the pointer): the stepwise path does it all.
  if (!plan || version !== guess) return projectStepwise(sql, version, events);
  return projectLocked(sql, readModelTables(version), plan, events.length);
}
