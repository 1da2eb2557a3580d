import type { LedgerTransactionRecordedData } from '@pay/contracts';
import type { Sql } from '@pay/platform';
import type { JsonColumn } from '../database/sql';
import { upsertRows } from '../database/sql';
import type { DailyTotalDelta } from '../project-events/daily-totals';
import { DailyTotalsChange } from '../project-events/daily-totals';
import type { HistoryEntry } from '../project-events/history-entries';
import { deriveEntries } from '../project-events/history-entries';
import { ledgerPostingRows } from '../project-events/ledger-postings';
import type { LedgerLink, PaymentFacts } from '../project-events/payment-facts';
import { applyLedgerLink, applyPaymentEvent, ledgerLinkOf, paymentIdOf } from '../project-events/payment-facts';
import { applyDailyTotals, ENTRY_COLUMNS, entryRecord, METHOD_COLUMNS, POSTING_COLUMNS, WALLET_COLUMNS } from '../project-events/project-events';
import type { ProjectableEvent } from '../project-events/projectable-event';
import { isLedgerEvent, isPaymentEvent } from '../project-events/projectable-event';
import type { MethodRow, WalletRow } from '../project-events/wallet-profile';
import { applyMethodEvent, applyWalletEvent, emptyMethod, emptyWallet, isProjectedWalletEvent, methodIdOf } from '../project-events/wallet-profile';
import type { ReadModelTables } from '../read-model/read-model-tables';
import { readModelTables } from '../read-model/read-model-tables';

const FACT_COLUMNS: readonly JsonColumn[] = [
  { name: 'payment_id', type: 'text' },
  { name: 'facts', type: 'jsonb' },
  { name: 'method_id', type: 'text' },
];

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());
const sortedUnique = (values: Iterable<string>): string[] => [...new Set(values)].sort();

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
  const postings = postingRows(ledgerEvents);
  const payments = await planPayments(read, t, paymentEvents, ledgerEvents, wallets.kinds, previous);
  return {
    state: { wallets: wallets.wallets, methods: wallets.methods, facts: payments.facts },
    steps: [
      (sql) => upsertRows(sql, t.wallets, WALLET_COLUMNS, wallets.walletRows, { keys: ['person_id'], update: 'all' }),
      (sql) => upsertRows(sql, t.methods, METHOD_COLUMNS, wallets.methodRows, { keys: ['method_id'], update: 'all' }),
      (sql) => upsertRows(sql, t.ledgerPostings, POSTING_COLUMNS, postings, { keys: ['transaction_id', 'posting_index'], update: 'nothing' }),
      (sql) => upsertRows(sql, t.facts, FACT_COLUMNS, payments.factRows, { keys: ['payment_id'], update: 'all' }),
      (sql) => upsertRows(sql, t.entries, ENTRY_COLUMNS, payments.entryRows, { keys: ['entry_id'], update: 'all' }),
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
  const methodOwners = new Map<string, string>();
  for (const event of paymentEvents) {
    const data = event.data as { paymentMethodId?: string; payerId?: string };
    if (data.paymentMethodId && data.payerId) methodOwners.set(data.paymentMethodId, data.payerId);
  }
  // The wallet is the authority on whose method it is.
  for (const event of events) {
    const methodId = methodIdOf(event);
    if (methodId) methodOwners.set(methodId, (event.data as { personId: string }).personId);
  }
  const personIds = sortedUnique(events.map((e) => (e.data as { personId: string }).personId));
  const methodIds = sortedUnique(methodOwners.keys());

  const wallets = new Map<string, WalletRow>(personIds.map((id) => [id, previous?.wallets.get(id) ?? emptyWallet(id)]));
  const walletsToRead = personIds.filter((id) => !previous?.wallets.has(id));
  if (walletsToRead.length > 0) {
    const records = await sql.query<Record<string, unknown>>(
      `SELECT person_id, country, opened_at, apps, apps_sequence, has_email, has_phone, contact_sequence, preferred_method_id, preferred_sequence
       FROM ${t.wallets} WHERE person_id = ANY($1)`,
      [walletsToRead],
    );
    for (const r of records) {
      wallets.set(r.person_id as string, {
        personId: r.person_id as string,
        country: r.country as string | null,
        openedAt: iso(r.opened_at as Date | null),
        apps: r.apps as string[],
        appsSequence: Number(r.apps_sequence),
        hasEmail: r.has_email as boolean | null,
        hasPhone: r.has_phone as boolean | null,
        contactSequence: Number(r.contact_sequence),
        preferredMethodId: r.preferred_method_id as string | null,
        preferredSequence: Number(r.preferred_sequence),
      });
    }
  }

  // A method named by a payment before the wallet told of it gets a row of its owner only.
  const methods = new Map<string, MethodRow>();
  const created = new Set<string>();
  for (const id of methodIds) {
    const known = previous?.methods.get(id);
    methods.set(id, known ?? emptyMethod(id, methodOwners.get(id)!));
    if (!known) created.add(id);
  }
  if (created.size > 0) {
    const records = await sql.query<Record<string, unknown>>(
      `SELECT method_id, person_id, kind, brand, last4, exp_month, exp_year, country, added_at, removed_at
       FROM ${t.methods} WHERE method_id = ANY($1)`,
      [[...created]],
    );
    for (const r of records) {
      created.delete(r.method_id as string);
      methods.set(r.method_id as string, {
        methodId: r.method_id as string,
        personId: r.person_id as string,
        kind: r.kind as string | null,
        brand: r.brand as string | null,
        last4: r.last4 as string | null,
        expMonth: r.exp_month as number | null,
        expYear: r.exp_year as number | null,
        country: r.country as string | null,
        addedAt: iso(r.added_at as Date | null),
        removedAt: iso(r.removed_at as Date | null),
      });
    }
  }
  for (const [id, method] of methods) kinds.before.set(id, method.kind);

  const told = new Set<string>();
  for (const event of events) {
    const personId = (event.data as { personId: string }).personId;
    wallets.set(personId, applyWalletEvent(wallets.get(personId) ?? emptyWallet(personId), event));
    const methodId = methodIdOf(event);
    if (methodId) {
      methods.set(methodId, applyMethodEvent(methods.get(methodId) ?? emptyMethod(methodId, personId), event));
      told.add(methodId);
    }
  }
  for (const [id, method] of methods) {
    kinds.after.set(id, method.kind);
    if (told.has(id) && method.kind !== null && kinds.before.get(id) !== method.kind) kinds.newlyKnown.push(id);
  }

  return {
    kinds,
    wallets,
    methods,
    walletRows: [...wallets.values()].map((w) => ({
      person_id: w.personId,
      country: w.country,
      opened_at: w.openedAt,
      apps: w.apps,
      apps_sequence: w.appsSequence,
      has_email: w.hasEmail,
      has_phone: w.hasPhone,
      contact_sequence: w.contactSequence,
      preferred_method_id: w.preferredMethodId,
      preferred_sequence: w.preferredSequence,
    })),
    methodRows: [...methods.values()]
      .filter((m) => told.has(m.methodId) || created.has(m.methodId))
      .map((m) => ({
        method_id: m.methodId,
        person_id: m.personId,
        kind: m.kind,
        brand: m.brand,
        last4: m.last4,
        exp_month: m.expMonth,
        exp_year: m.expYear,
        country: m.country,
        added_at: m.addedAt,
        removed_at: m.removedAt,
      })),
  };
}

function postingRows(events: readonly ProjectableEvent[]): object[] {
  const rows = new Map<string, object>();
  for (const event of events) {
    for (const p of ledgerPostingRows(event.data as LedgerTransactionRecordedData)) {
      // The same transaction twice in a batch (a redelivery): one row per key per statement.
      rows.set(`${p.transactionId}\u0000${p.postingIndex}`, {
        transaction_id: p.transactionId,
        posting_index: p.postingIndex,
        position: p.position,
        kind: p.kind,
        account_id: p.accountId,
        direction: p.direction,
        layer: p.layer,
        currency: p.currency,
        amount: p.amount,
        recorded_at: p.recordedAt,
        payment_id: p.paymentId,
        owner_type: p.ownerType,
        owner_id: p.ownerId,
      });
    }
  }
  return [...rows.values()];
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
