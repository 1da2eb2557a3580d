import type { LedgerTransactionRecordedData } from '@pay/contracts';
import type { Sql } from '@pay/platform';
import { copyRows } from '../database/copy-rows';
import type { JsonColumn } from '../database/sql';
import { upsertRows } from '../database/sql';
import type { DailyTotalDelta } from '../project-events/daily-totals';
import { DailyTotalsChange } from '../project-events/daily-totals';
import type { HistoryEntry } from '../project-events/history-entries';
import { deriveEntries } from '../project-events/history-entries';
import type { LedgerLink, PaymentFacts } from '../project-events/payment-facts';
import { applyLedgerLink, applyPaymentEvent, ledgerLinkOf, paymentIdOf } from '../project-events/payment-facts';
import {
  applyDailyTotals,
  applyWalletEvents,
  ENTRY_COLUMNS,
  entryRecord,
  METHOD_COLUMNS,
  methodOwnersOf,
  POSTING_COLUMNS,
  postingRecords,
  readMethods,
  readWallets,
  sortedUnique,
  WALLET_COLUMNS,
  walletRecord,
} from '../project-events/project-events';
import type { ProjectableEvent } from '../project-events/projectable-event';
import { isLedgerEvent, isPaymentEvent } from '../project-events/projectable-event';
import type { MethodRow, WalletRow } from '../project-events/wallet-profile';
import { emptyMethod, emptyWallet, isProjectedWalletEvent } from '../project-events/wallet-profile';
import { methodRecord } from '../read-model/method-record';
import type { ReadModelTables } from '../read-model/read-model-tables';
import { readModelTables } from '../read-model/read-model-tables';

const FACT_COLUMNS: readonly JsonColumn[] = [
  { name: 'payment_id', type: 'text' },
  { name: 'facts', type: 'jsonb' },
  { name: 'method_id', type: 'text' },
];

const ENTRY_FIELDS: ReadonlyArray<keyof HistoryEntry> = [
  'entryId',
  'paymentId',
  'kind',
  'status',
  'payerId',
  'counterpartyType',
  'counterpartyId',
  'app',
  'country',
  'currency',
  'amount',
  'netAmount',
  'methodId',
  'methodType',
  'provider',
  'ledgerTransactionId',
  'failureCode',
  'occurredAt',
  'updatedAt',
];
const sameEntry = (a: HistoryEntry, b: HistoryEntry): boolean => ENTRY_FIELDS.every((field) => a[field] === b[field]);

/**
 * The rebuild's projection of one batch into the version it is building: the same folds and the
 * same rows as `projectEvents` (the bench and read-model.int-spec compare the two read models
 * table by table), in fewer statements, because the rebuild is the only writer of that version
 * and applies one batch per transaction:
 * - no placeholder rows to lock first: rows are read once, folded, written once;
 * - a payment's current entries are not read back (the entries table has no payment index until
 *   the end): they are derived from its stored facts and its method's kind before the batch.
 *   Every writer of a version writes a payment's entries as `deriveEntries(facts, kind)` in the
 *   transaction that writes its facts, and re-derives a method's payments when its kind becomes
 *   known, so what is stored is exactly what that derivation gives.
 */
export async function replayBatch(sql: Sql, version: number, events: readonly ProjectableEvent[]): Promise<void> {
  await writeBatch(sql, await planBatch(sql, version, events));
}

/**
 * What a batch leaves behind: its wallets, methods and payments as it writes them. The next
 * batch is planned while this one's writes are in flight; it takes these rows from here (they
 * may not be committed yet) and every other row from the database (committed by an earlier
 * batch, and not written by this one).
 */
export interface BatchState {
  wallets: ReadonlyMap<string, WalletRow>;
  methods: ReadonlyMap<string, MethodRow>;
  facts: ReadonlyMap<string, PaymentFacts>;
}

export interface PlannedBatch {
  state: BatchState;
  /**
   * Writes the batch's rows, in the caller's transaction: one statement per step, tables in a
   * fixed order, each table's rows in key order (two batches written at once lock rows in the
   * same order when each step waits for the same step of the batch before).
   */
  steps: ReadonlyArray<(sql: Sql) => Promise<void>>;
}

/** Runs a planned batch's steps one after the other, in the caller's transaction. */
export async function writeBatch(sql: Sql, plan: PlannedBatch): Promise<void> {
  for (const step of plan.steps) await step(sql);
}

/** The rows of two batches still being written, the later one's where both hold a row. */
export function laterState(earlier: BatchState | undefined, later: BatchState): BatchState {
  if (!earlier) return later;
  return {
    wallets: new Map([...earlier.wallets, ...later.wallets]),
    methods: new Map([...earlier.methods, ...later.methods]),
    facts: new Map([...earlier.facts, ...later.facts]),
  };
}

/**
 * Reads what a batch touches (from `previous` where the batch before holds it, else through
 * `read`) and folds the batch in; writes nothing.
 */
export async function planBatch(read: Sql, version: number, events: readonly ProjectableEvent[], previous?: BatchState): Promise<PlannedBatch> {
  const t = readModelTables(version);
  const walletEvents: ProjectableEvent[] = [];
  const paymentEvents: ProjectableEvent[] = [];
  const ledgerEvents: ProjectableEvent[] = [];
  for (const event of events) {
    if (isPaymentEvent(event)) paymentEvents.push(event);
    else if (isLedgerEvent(event)) ledgerEvents.push(event);
    else if (isProjectedWalletEvent(event)) walletEvents.push(event);
  }
  const wallets = await planWallets(read, t, walletEvents, paymentEvents, previous);
  const postings = postingRecords(ledgerEvents);
  const payments = await planPayments(read, t, paymentEvents, ledgerEvents, wallets.kinds, previous);
  return {
    state: { wallets: wallets.wallets, methods: wallets.methods, facts: payments.facts },
    steps: [
      (sql) => upsertRows(sql, t.wallets, WALLET_COLUMNS, wallets.walletRows, { keys: ['person_id'], update: 'all' }),
      (sql) => upsertRows(sql, t.methods, METHOD_COLUMNS, wallets.methodRows, { keys: ['method_id'], update: 'all' }),
      // The three large tables by COPY (thousands of rows per batch); the few wallets and methods as JSON.
      (sql) => copyRows(sql, t.ledgerPostings, POSTING_COLUMNS, postings, { keys: ['transaction_id', 'posting_index'], update: 'nothing' }),
      (sql) => copyRows(sql, t.facts, FACT_COLUMNS, payments.factRows, { keys: ['payment_id'], update: 'all' }),
      (sql) => copyRows(sql, t.entries, ENTRY_COLUMNS, payments.entryRows, { keys: ['entry_id'], update: 'all' }),
      async (sql) => {
        if (payments.deletes.length > 0) await sql.query(`DELETE FROM ${t.entries} WHERE entry_id = ANY($1)`, [payments.deletes]);
      },
      (sql) => applyDailyTotals(sql, t, payments.totals),
    ],
  };
}

/** Methods this batch read or wrote: their kind before the batch and after it. */
interface MethodKinds {
  before: Map<string, string | null>;
  after: Map<string, string | null>;
  newlyKnown: string[];
}

interface PlannedWallets {
  kinds: MethodKinds;
  wallets: Map<string, WalletRow>;
  methods: Map<string, MethodRow>;
  walletRows: object[];
  methodRows: object[];
}

async function planWallets(
  sql: Sql,
  t: ReadModelTables,
  events: readonly ProjectableEvent[],
  paymentEvents: readonly ProjectableEvent[],
  previous: BatchState | undefined,
): Promise<PlannedWallets> {
  const kinds: MethodKinds = { before: new Map(), after: new Map(), newlyKnown: [] };
  const methodOwners = methodOwnersOf(events, paymentEvents);
  const personIds = sortedUnique(events.map((e) => (e.data as { personId: string }).personId));
  const methodIds = sortedUnique(methodOwners.keys());

  const wallets = new Map<string, WalletRow>(personIds.map((id) => [id, previous?.wallets.get(id) ?? emptyWallet(id)]));
  const walletsToRead = personIds.filter((id) => !previous?.wallets.has(id));
  if (walletsToRead.length > 0) for (const wallet of await readWallets(sql, t, walletsToRead)) wallets.set(wallet.personId, wallet);

  // A method named by a payment before the wallet told of it gets a row of its owner only.
  const methods = new Map<string, MethodRow>();
  const created = new Set<string>();
  for (const id of methodIds) {
    const known = previous?.methods.get(id);
    methods.set(id, known ?? emptyMethod(id, methodOwners.get(id)!));
    if (!known) created.add(id);
  }
  if (created.size > 0) {
    for (const method of await readMethods(sql, t, [...created])) {
      created.delete(method.methodId);
      methods.set(method.methodId, method);
    }
  }
  for (const [id, method] of methods) kinds.before.set(id, method.kind);

  const told = applyWalletEvents(wallets, methods, events);
  for (const [id, method] of methods) {
    kinds.after.set(id, method.kind);
    if (told.has(id) && method.kind !== null && kinds.before.get(id) !== method.kind) kinds.newlyKnown.push(id);
  }

  return {
    kinds,
    wallets,
    methods,
    walletRows: [...wallets.values()].map(walletRecord),
    methodRows: [...methods.values()].filter((m) => told.has(m.methodId) || created.has(m.methodId)).map(methodRecord),
  };
}

interface PlannedPayments {
  facts: Map<string, PaymentFacts>;
  factRows: object[];
  entryRows: object[];
  deletes: string[];
  totals: DailyTotalDelta[];
}

async function planPayments(
  sql: Sql,
  t: ReadModelTables,
  paymentEvents: readonly ProjectableEvent[],
  ledgerEvents: readonly ProjectableEvent[],
  kinds: MethodKinds,
  previous: BatchState | undefined,
): Promise<PlannedPayments> {
  const links: Array<{ paymentId: string; transactionId: string; link: LedgerLink }> = [];
  for (const event of ledgerEvents) {
    const link = ledgerLinkOf(event.data as LedgerTransactionRecordedData);
    if (link) links.push(link);
  }
  const told = new Set([...paymentEvents.map(paymentIdOf), ...links.map((l) => l.paymentId)]);
  const paymentIds = new Set(told);
  if (kinds.newlyKnown.length > 0) {
    // Payments of a method whose kind just became known change method type.
    const rows = await sql.query<{ payment_id: string }>(`SELECT payment_id FROM ${t.facts} WHERE method_id = ANY($1)`, [kinds.newlyKnown]);
    for (const row of rows) paymentIds.add(row.payment_id);
    // The batch before may not have committed its payments yet.
    const newlyKnown = new Set(kinds.newlyKnown);
    for (const [paymentId, f] of previous?.facts ?? []) if (f.initiated?.methodId && newlyKnown.has(f.initiated.methodId)) paymentIds.add(paymentId);
  }
  if (paymentIds.size === 0) return { facts: new Map(), factRows: [], entryRows: [], deletes: [], totals: [] };

  const stored = new Map<string, PaymentFacts>();
  const factsToRead: string[] = [];
  for (const paymentId of paymentIds) {
    const known = previous?.facts.get(paymentId);
    if (known) stored.set(paymentId, known);
    else if (!previous?.facts.has(paymentId)) factsToRead.push(paymentId);
  }
  if (factsToRead.length > 0) {
    const rows = await sql.query<{ payment_id: string; facts: PaymentFacts | Record<string, never> }>(
      `SELECT payment_id, facts FROM ${t.facts} WHERE payment_id = ANY($1)`,
      [factsToRead],
    );
    for (const row of rows) if ('paymentId' in row.facts) stored.set(row.payment_id, row.facts as PaymentFacts);
  }

  const facts = new Map<string, PaymentFacts | undefined>(stored);
  for (const event of paymentEvents) {
    const paymentId = paymentIdOf(event);
    facts.set(paymentId, applyPaymentEvent(facts.get(paymentId), event));
  }
  for (const { paymentId, transactionId, link } of links) facts.set(paymentId, applyLedgerLink(facts.get(paymentId), paymentId, transactionId, link));

  // Kinds of the methods the payments name: this batch's own, else the stored ones (unchanged by it).
  const missing = new Set<string>();
  for (const f of [...stored.values(), ...facts.values()]) {
    const methodId = f?.initiated?.methodId;
    if (methodId && !kinds.after.has(methodId)) missing.add(methodId);
  }
  const storedKinds = new Map<string, string | null>();
  for (const methodId of missing) {
    const known = previous?.methods.get(methodId);
    if (known) {
      storedKinds.set(methodId, known.kind);
      missing.delete(methodId);
    }
  }
  if (missing.size > 0) {
    const rows = await sql.query<{ method_id: string; kind: string | null }>(`SELECT method_id, kind FROM ${t.methods} WHERE method_id = ANY($1)`, [
      [...missing],
    ]);
    for (const row of rows) storedKinds.set(row.method_id, row.kind);
  }
  const kindOf = (f: PaymentFacts, when: 'before' | 'after'): string | undefined => {
    const methodId = f.initiated?.methodId;
    if (!methodId) return undefined;
    const kind = kinds[when].has(methodId) ? kinds[when].get(methodId) : storedKinds.get(methodId);
    return kind ?? undefined;
  };

  const after = new Map<string, PaymentFacts>();
  const changedFacts: Array<{ payment_id: string; facts: PaymentFacts; method_id: string | null }> = [];
  const writes: HistoryEntry[] = [];
  const deletes: string[] = [];
  const totals = new DailyTotalsChange();
  for (const paymentId of [...paymentIds].sort()) {
    const merged = facts.get(paymentId);
    if (!merged) continue;
    after.set(paymentId, merged);
    const before = stored.get(paymentId);
    if (told.has(paymentId)) changedFacts.push({ payment_id: paymentId, facts: merged, method_id: merged.initiated?.methodId ?? null });
    const oldEntries = new Map((before ? deriveEntries(before, kindOf(before, 'before')) : []).map((e) => [e.entryId, e]));
    for (const entry of deriveEntries(merged, kindOf(merged, 'after'))) {
      const old = oldEntries.get(entry.entryId);
      oldEntries.delete(entry.entryId);
      if (old && sameEntry(old, entry)) continue;
      writes.push(entry);
      totals.replace(old, entry);
    }
    for (const [entryId, old] of oldEntries) {
      deletes.push(entryId);
      totals.replace(old, undefined);
    }
  }

  return { facts: after, factRows: changedFacts, entryRows: writes.map(entryRecord), deletes, totals: totals.toList() };
}
