import type { LedgerTransactionRecordedData } from '@pay/contracts';
import type { Sql } from '@pay/platform';
import type { JsonColumn } from '../database/sql';
import { upsertRows } from '../database/sql';
import type { EntryRecord } from '../read-model/entry-record';
import type { MethodRecord } from '../read-model/method-record';
import { METHOD_RECORD_COLUMNS, methodFromRecord, methodRecord } from '../read-model/method-record';
import type { ReadModelTables } from '../read-model/read-model-tables';
import { readModelTables } from '../read-model/read-model-tables';
import type { DailyTotalDelta } from './daily-totals';
import { DailyTotalsChange } from './daily-totals';
import type { HistoryEntry } from './history-entries';
import { deriveEntries } from './history-entries';
import { ledgerPostingRows } from './ledger-postings';
import type { LedgerLink, PaymentFacts } from './payment-facts';
import { applyLedgerLink, applyPaymentEvent, ledgerLinkOf, paymentIdOf } from './payment-facts';
import type { ProjectableEvent } from './projectable-event';
import { isLedgerEvent, isPaymentEvent, stableJson } from './projectable-event';
import type { MethodRow, WalletRow } from './wallet-profile';
import { applyMethodEvent, applyWalletEvent, emptyMethod, emptyWallet, isProjectedWalletEvent, methodIdOf } from './wallet-profile';

/** What one call changed, for progress reports and tests. */
export interface ProjectionOutcome {
  events: number;
  payments: number;
  entriesWritten: number;
  dailyTotalsTouched: number;
}

export const ENTRY_COLUMNS: readonly JsonColumn[] = [
  { name: 'entry_id', type: 'text' },
  { name: 'payment_id', type: 'text' },
  { name: 'kind', type: 'text' },
  { name: 'status', type: 'text' },
  { name: 'payer_id', type: 'text' },
  { name: 'counterparty_type', type: 'text' },
  { name: 'counterparty_id', type: 'text' },
  { name: 'app', type: 'text' },
  { name: 'country', type: 'text' },
  { name: 'currency', type: 'text' },
  { name: 'amount', type: 'bigint' },
  { name: 'net_amount', type: 'bigint' },
  { name: 'method_id', type: 'text' },
  { name: 'method_type', type: 'text' },
  { name: 'provider', type: 'text' },
  { name: 'ledger_transaction_id', type: 'text' },
  { name: 'failure_code', type: 'text' },
  { name: 'occurred_at', type: 'timestamptz' },
  { name: 'updated_at', type: 'timestamptz' },
];

export const WALLET_COLUMNS: readonly JsonColumn[] = [
  { name: 'person_id', type: 'text' },
  { name: 'country', type: 'text' },
  { name: 'opened_at', type: 'timestamptz' },
  { name: 'apps', type: 'text[]' },
  { name: 'apps_sequence', type: 'integer' },
  { name: 'has_email', type: 'boolean' },
  { name: 'has_phone', type: 'boolean' },
  { name: 'contact_sequence', type: 'integer' },
  { name: 'preferred_method_id', type: 'text' },
  { name: 'preferred_sequence', type: 'integer' },
];

export const METHOD_COLUMNS: readonly JsonColumn[] = [
  { name: 'method_id', type: 'text' },
  { name: 'person_id', type: 'text' },
  { name: 'kind', type: 'text' },
  { name: 'brand', type: 'text' },
  { name: 'last4', type: 'text' },
  { name: 'exp_month', type: 'integer' },
  { name: 'exp_year', type: 'integer' },
  { name: 'country', type: 'text' },
  { name: 'added_at', type: 'timestamptz' },
  { name: 'removed_at', type: 'timestamptz' },
  { name: 'unusable_reason', type: 'text' },
  { name: 'unusable_since', type: 'timestamptz' },
];

export const POSTING_COLUMNS: readonly JsonColumn[] = [
  { name: 'transaction_id', type: 'text' },
  { name: 'posting_index', type: 'integer' },
  { name: 'position', type: 'bigint' },
  { name: 'kind', type: 'text' },
  { name: 'account_id', type: 'text' },
  { name: 'direction', type: 'text' },
  { name: 'layer', type: 'text' },
  { name: 'currency', type: 'text' },
  { name: 'amount', type: 'bigint' },
  { name: 'recorded_at', type: 'timestamptz' },
  { name: 'payment_id', type: 'text' },
  { name: 'owner_type', type: 'text' },
  { name: 'owner_id', type: 'text' },
];

const TOTAL_KEY_COLUMNS = ['day', 'app', 'country', 'currency', 'kind', 'method_type', 'status'] as const;

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

export function entryFromRecord(r: EntryRecord<Date | string>): HistoryEntry {
  return {
    entryId: r.entry_id,
    paymentId: r.payment_id,
    kind: r.kind as HistoryEntry['kind'],
    status: r.status as HistoryEntry['status'],
    payerId: r.payer_id,
    counterpartyType: r.counterparty_type,
    counterpartyId: r.counterparty_id,
    app: r.app,
    country: r.country,
    currency: r.currency,
    amount: String(r.amount),
    netAmount: String(r.net_amount),
    methodId: r.method_id,
    methodType: r.method_type as HistoryEntry['methodType'],
    provider: r.provider,
    ledgerTransactionId: r.ledger_transaction_id,
    failureCode: r.failure_code as HistoryEntry['failureCode'],
    occurredAt: iso(r.occurred_at)!,
    updatedAt: iso(r.updated_at)!,
  };
}

export function entryRecord(e: HistoryEntry): EntryRecord {
  return {
    entry_id: e.entryId,
    payment_id: e.paymentId,
    kind: e.kind,
    status: e.status,
    payer_id: e.payerId,
    counterparty_type: e.counterpartyType,
    counterparty_id: e.counterpartyId,
    app: e.app,
    country: e.country,
    currency: e.currency,
    amount: e.amount,
    net_amount: e.netAmount,
    method_id: e.methodId,
    method_type: e.methodType,
    provider: e.provider,
    ledger_transaction_id: e.ledgerTransactionId,
    failure_code: e.failureCode,
    occurred_at: e.occurredAt,
    updated_at: e.updatedAt,
  };
}

export const sortedUnique = (values: Iterable<string>): string[] => [...new Set(values)].sort();

/** Whose each method is: as the payments name it, the wallet's word overriding (it is the authority). */
export function methodOwnersOf(walletEvents: readonly ProjectableEvent[], paymentEvents: readonly ProjectableEvent[]): Map<string, string> {
  const owners = new Map<string, string>();
  for (const event of paymentEvents) {
    const data = event.data as { paymentMethodId?: string; payerId?: string };
    if (data.paymentMethodId && data.payerId) owners.set(data.paymentMethodId, data.payerId);
  }
  for (const event of walletEvents) {
    const methodId = methodIdOf(event);
    if (methodId) owners.set(methodId, (event.data as { personId: string }).personId);
  }
  return owners;
}

/** Applies the wallet's events to these wallets and methods (missing ones start empty); the methods told of. */
export function applyWalletEvents(wallets: Map<string, WalletRow>, methods: Map<string, MethodRow>, events: readonly ProjectableEvent[]): Set<string> {
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
  return told;
}

/** The stored wallets of these people (those that have a row). */
export async function readWallets(sql: Sql, t: ReadModelTables, personIds: readonly string[]): Promise<WalletRow[]> {
  const records = await sql.query<Record<string, unknown>>(
    `SELECT person_id, country, opened_at, apps, apps_sequence, has_email, has_phone, contact_sequence, preferred_method_id, preferred_sequence
     FROM ${t.wallets} WHERE person_id = ANY($1)`,
    [personIds],
  );
  return records.map(walletFromRecord);
}

/** A wallets row as the driver returns it (timestamps as Date) or as JSON gives it (text). */
export function walletFromRecord(r: Record<string, unknown>): WalletRow {
  return {
    personId: r.person_id as string,
    country: r.country as string | null,
    openedAt: iso(r.opened_at as Date | string | null),
    apps: r.apps as string[],
    appsSequence: Number(r.apps_sequence),
    hasEmail: r.has_email as boolean | null,
    hasPhone: r.has_phone as boolean | null,
    contactSequence: Number(r.contact_sequence),
    preferredMethodId: r.preferred_method_id as string | null,
    preferredSequence: Number(r.preferred_sequence),
  };
}

/** The stored methods of these ids (those that have a row). */
export async function readMethods(sql: Sql, t: ReadModelTables, methodIds: readonly string[]): Promise<MethodRow[]> {
  const records = await sql.query<MethodRecord>(`SELECT ${METHOD_RECORD_COLUMNS} FROM ${t.methods} WHERE method_id = ANY($1)`, [methodIds]);
  return records.map(methodFromRecord);
}

/** A wallet as its row is written (WALLET_COLUMNS). */
export const walletRecord = (w: WalletRow): Record<string, unknown> => ({
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
});

/** The postings of these ledger events as their rows are written (POSTING_COLUMNS): one per key, a redelivered transaction in the batch once. */
export function postingRecords(events: readonly ProjectableEvent[]): Record<string, unknown>[] {
  const rows = new Map<string, Record<string, unknown>>();
  for (const event of events) {
    for (const p of ledgerPostingRows(event.data as LedgerTransactionRecordedData)) {
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

/**
 * Projects events into one version of the read model, in the caller's transaction, a statement
 * per step: load what the events touch (locked, in key order), fold the events in with the pure
 * functions, write back only what changed. Idempotent and order-independent, because the folds
 * are. `projectEvents` (project-chunk.ts) takes this path only for chunks in which the wallet
 * tells a saved method's kind (the payments of that method are then read, locked and derived
 * again); the others take its three statements.
 */
export async function projectStepwise(sql: Sql, version: number, events: readonly ProjectableEvent[]): Promise<ProjectionOutcome> {
  const tables = readModelTables(version);
  // Every writer locks in the same order — wallets, methods, ledger postings, payment facts,
  // daily totals — each kind in key order and in one statement, so concurrent transactions
  // (partitions, a redelivery on another partition) queue instead of deadlocking.
  const walletEvents = events.filter(isProjectedWalletEvent);
  const paymentEvents = events.filter(isPaymentEvent);
  const ledgerEvents = events.filter(isLedgerEvent);
  const newlyKnownMethods = await projectWallets(sql, tables, walletEvents, paymentEvents);
  await storeLedgerPostings(sql, tables, ledgerEvents);
  const payments = await projectPayments(sql, tables, paymentEvents, ledgerEvents, newlyKnownMethods);
  return { events: events.length, ...payments };
}

/**
 * Locks the rows of these keys, creating the missing ones with the given values, in key order
 * and in one statement (`DO UPDATE ... WHERE false` locks an existing row without writing it).
 */
async function lockOrCreate(sql: Sql, table: string, key: string, columns: readonly JsonColumn[], rows: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  if (rows.length === 0) return;
  const names = columns.map((c) => c.name).join(', ');
  await sql.query(
    `INSERT INTO ${table} AS t (${names})
     SELECT ${names} FROM jsonb_to_recordset($1::jsonb) AS r(${columns.map((c) => `${c.name} ${c.type}`).join(', ')})
     ORDER BY ${key}
     ON CONFLICT (${key}) DO UPDATE SET ${key} = EXCLUDED.${key} WHERE false`,
    [JSON.stringify(rows)],
  );
}

/**
 * Wallet and method rows. Methods named by payments are locked here too (created empty if the
 * wallet has not told of them yet): a payment that names a method waits for a transaction that
 * is telling that method's kind, and the other way round, so neither derives from the other's
 * uncommitted state. Returns the methods whose kind just became known (their payments' method
 * type changes).
 */
async function projectWallets(
  sql: Sql,
  t: ReadModelTables,
  events: readonly ProjectableEvent[],
  paymentEvents: readonly ProjectableEvent[],
): Promise<string[]> {
  const methodOwners = methodOwnersOf(events, paymentEvents);
  const personIds = sortedUnique(events.map((e) => (e.data as { personId: string }).personId));
  const methodIds = sortedUnique(methodOwners.keys());
  if (personIds.length === 0 && methodIds.length === 0) return [];

  await lockOrCreate(
    sql,
    t.wallets,
    'person_id',
    [
      { name: 'person_id', type: 'text' },
      { name: 'apps', type: 'text[]' },
      { name: 'apps_sequence', type: 'integer' },
      { name: 'contact_sequence', type: 'integer' },
      { name: 'preferred_sequence', type: 'integer' },
    ],
    personIds.map((id) => ({ person_id: id, apps: [], apps_sequence: 0, contact_sequence: 0, preferred_sequence: 0 })),
  );
  const wallets = new Map<string, WalletRow>((personIds.length === 0 ? [] : await readWallets(sql, t, personIds)).map((w) => [w.personId, w]));

  const methods = new Map<string, MethodRow>();
  if (methodIds.length > 0) {
    await lockOrCreate(
      sql,
      t.methods,
      'method_id',
      [
        { name: 'method_id', type: 'text' },
        { name: 'person_id', type: 'text' },
      ],
      methodIds.map((id) => ({ method_id: id, person_id: methodOwners.get(id) })),
    );
    for (const method of await readMethods(sql, t, methodIds)) methods.set(method.methodId, method);
  }
  if (events.length === 0) return [];

  const kindBefore = new Map([...methods].map(([id, m]) => [id, m.kind]));
  const told = applyWalletEvents(wallets, methods, events);
  const changedMethods = [...methods.values()].filter((m) => told.has(m.methodId));

  await upsertRows(sql, t.wallets, WALLET_COLUMNS, [...wallets.values()].map(walletRecord), { keys: ['person_id'], update: 'all' });
  await upsertRows(sql, t.methods, METHOD_COLUMNS, changedMethods.map(methodRecord), { keys: ['method_id'], update: 'all' });
  return changedMethods.filter((m) => m.kind !== null && kindBefore.get(m.methodId) !== m.kind).map((m) => m.methodId);
}

async function storeLedgerPostings(sql: Sql, t: ReadModelTables, events: readonly ProjectableEvent[]): Promise<void> {
  await upsertRows(sql, t.ledgerPostings, POSTING_COLUMNS, postingRecords(events), { keys: ['transaction_id', 'posting_index'], update: 'nothing' });
}

/** The ledger links of these ledger events (the payments their transactions post). */
export function ledgerLinks(ledgerEvents: readonly ProjectableEvent[]): PaymentLink[] {
  const links: PaymentLink[] = [];
  for (const event of ledgerEvents) {
    const link = ledgerLinkOf(event.data as LedgerTransactionRecordedData);
    if (link) links.push(link);
  }
  return links;
}

export interface PaymentLink {
  paymentId: string;
  transactionId: string;
  link: LedgerLink;
}

/** A payment's stored facts (`{}` for a placeholder row). */
export interface StoredFacts {
  payment_id: string;
  facts: PaymentFacts | Record<string, never>;
}

/** The payments' facts after the events, with the text of each one's stored facts (to write only what changed). */
export interface MergedFacts {
  facts: Map<string, PaymentFacts | undefined>;
  before: Map<string, string>;
}

/** Folds the events and ledger links into the stored facts. Pure. */
export function mergeFacts(stored: readonly StoredFacts[], paymentEvents: readonly ProjectableEvent[], links: readonly PaymentLink[]): MergedFacts {
  const before = new Map<string, string>();
  const facts = new Map<string, PaymentFacts | undefined>();
  for (const row of stored) {
    const known = 'paymentId' in row.facts ? (row.facts as PaymentFacts) : undefined;
    facts.set(row.payment_id, known);
    before.set(row.payment_id, known ? stableJson(known) : '');
  }
  for (const event of paymentEvents) {
    const paymentId = paymentIdOf(event);
    facts.set(paymentId, applyPaymentEvent(facts.get(paymentId), event));
  }
  for (const { paymentId, transactionId, link } of links) facts.set(paymentId, applyLedgerLink(facts.get(paymentId), paymentId, transactionId, link));
  return { facts, before };
}

/** The saved methods the merged facts name (their kind decides the entries' method type). */
export const methodsNamed = (merged: MergedFacts): string[] =>
  sortedUnique([...merged.facts.values()].flatMap((f) => (f?.initiated?.methodId ? [f.initiated.methodId] : [])));

/** What the payments' rows become: facts and entries to write, entries to delete, daily totals to add. */
export interface PaymentWrites {
  facts: Array<{ payment_id: string; facts: PaymentFacts; method_id: string | null }>;
  entries: HistoryEntry[];
  deletes: string[];
  totals: DailyTotalDelta[];
}

/** Whether two entries hold the same values (what equal stableJson texts say, without building them: every field is a string or null). */
function sameEntry(a: HistoryEntry, b: HistoryEntry): boolean {
  const left = a as unknown as Record<string, unknown>;
  const right = b as unknown as Record<string, unknown>;
  for (const key in left) if (left[key] !== right[key]) return false;
  for (const key in right) if (!(key in left) && right[key] !== undefined) return false;
  return true;
}

/** Derives the payments' entries from their merged facts and compares them with the stored ones. Pure. */
export function paymentWrites(
  paymentIds: readonly string[],
  merged: MergedFacts,
  methodKinds: ReadonlyMap<string, string>,
  stored: ReadonlyArray<EntryRecord<Date | string>>,
): PaymentWrites {
  const oldEntries = new Map(stored.map((r) => [r.entry_id, entryFromRecord(r)]));
  const changedFacts: PaymentWrites['facts'] = [];
  const writes: HistoryEntry[] = [];
  const deletes: string[] = [];
  const totals = new DailyTotalsChange();
  const derivedIds = new Set<string>();
  for (const paymentId of paymentIds) {
    const facts = merged.facts.get(paymentId);
    if (!facts) continue;
    if (stableJson(facts) !== merged.before.get(paymentId)) changedFacts.push({ payment_id: paymentId, facts, method_id: facts.initiated?.methodId ?? null });
    const methodId = facts.initiated?.methodId;
    for (const entry of deriveEntries(facts, methodId ? methodKinds.get(methodId) : undefined)) {
      derivedIds.add(entry.entryId);
      const old = oldEntries.get(entry.entryId);
      if (old && sameEntry(old, entry)) continue;
      writes.push(entry);
      totals.replace(old, entry);
    }
  }
  for (const [entryId, old] of oldEntries) {
    if (derivedIds.has(entryId)) continue;
    deletes.push(entryId);
    totals.replace(old, undefined);
  }
  return { facts: changedFacts, entries: writes, deletes, totals: totals.toList() };
}

export const FACT_COLUMNS: readonly JsonColumn[] = [
  { name: 'payment_id', type: 'text' },
  { name: 'facts', type: 'jsonb' },
  { name: 'method_id', type: 'text' },
];

async function projectPayments(
  sql: Sql,
  t: ReadModelTables,
  paymentEvents: readonly ProjectableEvent[],
  ledgerEvents: readonly ProjectableEvent[],
  newlyKnownMethods: readonly string[],
): Promise<Omit<ProjectionOutcome, 'events'>> {
  const links = ledgerLinks(ledgerEvents);
  const told = sortedUnique([...paymentEvents.map(paymentIdOf), ...links.map((l) => l.paymentId)]);
  let retold: string[] = [];
  if (newlyKnownMethods.length > 0) {
    const rows = await sql.query<{ payment_id: string }>(`SELECT payment_id FROM ${t.facts} WHERE method_id = ANY($1)`, [newlyKnownMethods]);
    retold = rows.map((r) => r.payment_id);
  }
  const paymentIds = sortedUnique([...told, ...retold]);
  if (paymentIds.length === 0) return { payments: 0, entriesWritten: 0, dailyTotalsTouched: 0 };

  await lockOrCreate(
    sql,
    t.facts,
    'payment_id',
    [
      { name: 'payment_id', type: 'text' },
      { name: 'facts', type: 'jsonb' },
    ],
    paymentIds.map((id) => ({ payment_id: id, facts: {} })),
  );
  const factRows = await sql.query<StoredFacts>(`SELECT payment_id, facts FROM ${t.facts} WHERE payment_id = ANY($1)`, [paymentIds]);
  const merged = mergeFacts(factRows, paymentEvents, links);

  const methodIds = methodsNamed(merged);
  const methodKinds = new Map<string, string>();
  if (methodIds.length > 0) {
    const rows = await sql.query<{ method_id: string; kind: string | null }>(`SELECT method_id, kind FROM ${t.methods} WHERE method_id = ANY($1)`, [methodIds]);
    for (const row of rows) if (row.kind !== null) methodKinds.set(row.method_id, row.kind);
  }

  const existing = await sql.query<EntryRecord<Date | string>>(
    `SELECT ${ENTRY_COLUMNS.map((c) => c.name).join(', ')} FROM ${t.entries} WHERE payment_id = ANY($1)`,
    [paymentIds],
  );
  const writes = paymentWrites(paymentIds, merged, methodKinds, existing);

  await upsertRows(sql, t.facts, FACT_COLUMNS, writes.facts, { keys: ['payment_id'], update: 'all' });
  await upsertRows(sql, t.entries, ENTRY_COLUMNS, writes.entries.map(entryRecord), { keys: ['entry_id'], update: 'all' });
  if (writes.deletes.length > 0) await sql.query(`DELETE FROM ${t.entries} WHERE entry_id = ANY($1)`, [writes.deletes]);
  await applyDailyTotals(sql, t, writes.totals);
  return { payments: paymentIds.length, entriesWritten: writes.entries.length + writes.deletes.length, dailyTotalsTouched: writes.totals.length };
}

export async function applyDailyTotals(sql: Sql, t: ReadModelTables, deltas: readonly DailyTotalDelta[]): Promise<void> {
  if (deltas.length === 0) return;
  const rows = JSON.stringify(dailyTotalRows(deltas));
  await sql.query(dailyTotalsAddSql(t, 1), [rows]);
  await sql.query(dailyTotalsRemoveEmptySql(t), [rows]);
}

/** The daily-total deltas as the rows of dailyTotalsAddSql's parameter. */
export const dailyTotalRows = (deltas: readonly DailyTotalDelta[]): Array<Record<string, unknown>> =>
  deltas.map((d) => ({
    day: d.day,
    app: d.app,
    country: d.country,
    currency: d.currency,
    kind: d.kind,
    method_type: d.methodType,
    status: d.status,
    entries: d.entries,
    amount: d.amount.toString(),
    net_amount: d.netAmount.toString(),
  }));

const totalsRecordSet = (parameter: number): string =>
  `jsonb_to_recordset($${parameter}::jsonb) AS r(day date, app text, country text, currency text, kind text, method_type text, status text, entries bigint, amount bigint, net_amount bigint)`;

/** Adds the deltas (parameter `$parameter`) to their rows, in key order, returning each row as it now is. */
export function dailyTotalsAddSql(t: ReadModelTables, parameter: number): string {
  const keys = TOTAL_KEY_COLUMNS.join(', ');
  return `INSERT INTO ${t.dailyTotals} AS t (${keys}, entries, amount, net_amount)
     SELECT ${keys}, entries, amount, net_amount FROM ${totalsRecordSet(parameter)} ORDER BY ${keys}
     ON CONFLICT (${keys}) DO UPDATE SET entries = t.entries + EXCLUDED.entries, amount = t.amount + EXCLUDED.amount, net_amount = t.net_amount + EXCLUDED.net_amount`;
}

/** A row whose entries all moved elsewhere is removed: a rebuilt version never has empty rows. */
export function dailyTotalsRemoveEmptySql(t: ReadModelTables): string {
  return `DELETE FROM ${t.dailyTotals} AS t USING ${totalsRecordSet(1)}
     WHERE (${TOTAL_KEY_COLUMNS.map((c) => `t.${c}`).join(', ')}) = (${TOTAL_KEY_COLUMNS.map((c) => `r.${c}`).join(', ')})
       AND t.entries = 0 AND t.amount = 0 AND t.net_amount = 0`;
}
