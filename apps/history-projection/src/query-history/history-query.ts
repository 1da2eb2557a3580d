import type { EntryRecord } from '../read-model/entry-record';
import type { ReadModelTables } from '../read-model/read-model-tables';

/** Whose history: one person's (what they paid and what they received), one merchant's or non-profit's, or everyone's. */
export type HistoryScope =
  { kind: 'person'; personId: string } | { kind: 'counterparty'; counterpartyType: 'merchant' | 'non-profit'; counterpartyId: string } | { kind: 'all' };

export interface HistoryFilters {
  apps?: string[];
  kinds?: string[];
  statuses?: string[];
  currencies?: string[];
  methodTypes?: string[];
  /** The other party: for a person, whom they paid or who paid them; for a business, the payer; for everyone's, the payee. */
  counterpartyId?: string;
  /** One payment's entries: the payment, its refunds and chargebacks (a payment's detail page). */
  paymentId?: string;
  minAmount?: bigint;
  maxAmount?: bigint;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
}

export type SortOrder = 'desc' | 'asc';

/** Where a page ends: the sort key of its last entry. */
export interface CursorPosition {
  occurredAt: string;
  entryId: string;
}

export interface PageRequest {
  limit: number;
  after?: CursorPosition;
}

export interface BuiltQuery {
  text: string;
  values: unknown[];
}

/** Collects positional parameters. */
export class Parameters {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** The sort key as text with microseconds, exactly as stored: a cursor must not round it. */
export const OCCURRED_AT_KEY = `to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export const ENTRY_SELECT = `entry_id, payment_id, kind, status, payer_id, counterparty_type, counterparty_id, app, country, currency,
  amount::text AS amount, net_amount::text AS net_amount, method_id, method_type, provider, ledger_transaction_id, failure_code,
  ${OCCURRED_AT_KEY} AS occurred_at, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS updated_at`;

/** One row as the queries return it (timestamps and amounts as text). */
export interface EntryRow extends EntryRecord {
  /** In a person's history: whether they are the payer or the payee of the entry. */
  side: 'payer' | 'payee' | null;
}

/** Conditions of the filters (not the scope), for a branch whose "other party" is `otherColumn`. */
export function filterConditions(filters: HistoryFilters, params: Parameters, otherColumn: string): string[] {
  const where: string[] = [];
  const list = (column: string, values: string[] | undefined): void => {
    if (values && values.length > 0) where.push(`${column} = ANY(${params.add(values)}::text[])`);
  };
  list('app', filters.apps);
  list('kind', filters.kinds);
  list('status', filters.statuses);
  list('currency', filters.currencies);
  list('method_type', filters.methodTypes);
  if (filters.counterpartyId !== undefined) where.push(`${otherColumn} = ${params.add(filters.counterpartyId)}`);
  if (filters.paymentId !== undefined) where.push(`payment_id = ${params.add(filters.paymentId)}`);
  if (filters.minAmount !== undefined) where.push(`amount >= ${params.add(filters.minAmount.toString())}::bigint`);
  if (filters.maxAmount !== undefined) where.push(`amount <= ${params.add(filters.maxAmount.toString())}::bigint`);
  if (filters.from !== undefined) where.push(`occurred_at >= ${params.add(filters.from.toISOString())}::timestamptz`);
  if (filters.to !== undefined) where.push(`occurred_at < ${params.add(filters.to.toISOString())}::timestamptz`);
  return where;
}

/** The payee as analysts may filter by it: a business's id; a person payee matches no id. */
export const ANALYSTS_COUNTERPARTY = "(CASE WHEN counterparty_type = 'person' THEN NULL ELSE counterparty_id END)";

/** The branches of a scope: a person's history is what they paid plus what they received, each read from its own index. */
export function scopeBranches(scope: HistoryScope, params: Parameters): Array<{ where: string; otherColumn: string; side: string }> {
  switch (scope.kind) {
    case 'person': {
      const person = params.add(scope.personId);
      return [
        { where: `payer_id = ${person}`, otherColumn: 'counterparty_id', side: `'payer'` },
        { where: `counterparty_id = ${person} AND counterparty_type = 'person'`, otherColumn: 'payer_id', side: `'payee'` },
      ];
    }
    case 'counterparty':
      return [
        {
          where: `counterparty_id = ${params.add(scope.counterpartyId)} AND counterparty_type = ${params.add(scope.counterpartyType)}`,
          otherColumn: 'payer_id',
          side: `'payee'`,
        },
      ];
    case 'all':
      // Analysts' list: the counterparty filter names businesses only; a person id there would
      // tie it to the pseudonym analysts see (PersonPseudonyms).
      return [{ where: 'true', otherColumn: ANALYSTS_COUNTERPARTY, side: 'NULL' }];
  }
}

/**
 * The SQL of a history list. Newest first by default, ordered by (occurred_at, entry_id) — a
 * key that never changes once an entry is known — so a cursor page stays put while new events
 * arrive: new entries land before the first page, updated ones keep their place. Without a
 * page, the whole filtered history in order (the CSV export streams it through a cursor).
 */
export function historyQuery(tables: ReadModelTables, scope: HistoryScope, filters: HistoryFilters, order: SortOrder, page?: PageRequest): BuiltQuery {
  const params = new Parameters();
  const direction = order === 'desc' ? 'DESC' : 'ASC';
  // `occurred_at` in the output is the text key; sort by the column itself (`sort_at`), which the indexes hold.
  const orderBy = `ORDER BY sort_at ${direction}, entry_id ${direction}`;
  const branches = scopeBranches(scope, params).map((branch) => {
    const where = [branch.where, ...filterConditions(filters, params, branch.otherColumn)];
    if (page?.after) {
      where.push(
        `(occurred_at, entry_id) ${order === 'desc' ? '<' : '>'} (${params.add(page.after.occurredAt)}::timestamptz, ${params.add(page.after.entryId)})`,
      );
    }
    return `SELECT ${ENTRY_SELECT}, ${branch.side} AS side, occurred_at AS sort_at FROM ${tables.entries} WHERE ${where.join(' AND ')}`;
  });
  const limit = page ? ` LIMIT ${params.add(page.limit + 1)}` : '';
  // Each branch is read in index order and limited on its own; the outer query merges them.
  const text =
    branches.length === 1
      ? `${branches[0]} ${orderBy}${limit}`
      : `SELECT * FROM (${branches.map((b) => `(${b} ${orderBy}${limit})`).join(' UNION ALL ')}) AS history ${orderBy}${limit}`;
  return { text, values: params.values };
}

/**
 * Per currency and kind, what a party paid and received, net of refunds and chargebacks; and the
 * posted balance of its ledger accounts (which the other filters do not narrow).
 */
export function summaryQuery(tables: ReadModelTables, scope: Exclude<HistoryScope, { kind: 'all' }>, filters: HistoryFilters): BuiltQuery {
  const params = new Parameters();
  const branches = scopeBranches(scope, params).map((branch) => {
    const where = [branch.where, ...filterConditions(filters, params, branch.otherColumn)].join(' AND ');
    return `SELECT ${branch.side} AS side, currency, kind,
              count(*) FILTER (WHERE net_amount <> 0) AS settled,
              coalesce(sum(net_amount), 0)::text AS net,
              coalesce(sum(net_amount) FILTER (WHERE provider = 'wallet'), 0)::text AS wallet_net
            FROM ${tables.entries} WHERE ${where} GROUP BY currency, kind`;
  });
  // The party's ledger accounts (credit-normal: what we hold for them), up to `to` when given.
  const owner = scope.kind === 'person' ? { type: 'person', id: scope.personId } : { type: scope.counterpartyType, id: scope.counterpartyId };
  const ledgerWhere = [`owner_id = ${params.add(owner.id)}`, `owner_type = ${params.add(owner.type)}`, `layer = 'posted'`];
  if (filters.to !== undefined) ledgerWhere.push(`recorded_at < ${params.add(filters.to.toISOString())}::timestamptz`);
  branches.push(`SELECT 'ledger' AS side, currency, '' AS kind, 0::bigint AS settled,
                  coalesce(sum(CASE direction WHEN 'credit' THEN amount ELSE -amount END), 0)::text AS net, '0' AS wallet_net
                FROM ${tables.ledgerPostings} WHERE ${ledgerWhere.join(' AND ')} GROUP BY currency`);
  return { text: `${branches.join(' UNION ALL ')} ORDER BY 1, 2, 3`, values: params.values };
}
