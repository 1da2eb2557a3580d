import type { Account, Balance, BalanceSummary, Direction, EntryKind, Posting } from '@pay/ledger-domain';
import { applyToBalance, assertId, invalidInput, LedgerError, summarize, ZERO_BALANCE } from '@pay/ledger-domain';
import { findAccount } from './accounts';
import type { EntryPostingRow } from './journal-rows';
import { entriesFromRows, ENTRY_COLUMNS } from './journal-rows';
import type { Sql } from './sql';
import { toBigInt } from './sql';

/** An account's balance at one point of the journal. */
export interface AccountBalance extends BalanceSummary {
  readonly accountId: string;
  readonly currency: string;
  readonly normalSide: Direction;
  /** The journal position the balance is read at (the whole journal up to and including it). */
  readonly asOfPosition: bigint;
  readonly totals: Balance;
}

export type AsOf = { readonly position: bigint } | { readonly timestamp: Date };

interface TotalsRow {
  debits_posted: string;
  credits_posted: string;
  debits_pending: string;
  credits_pending: string;
}

function totalsFromRow(row: TotalsRow | undefined): Balance {
  if (!row) return ZERO_BALANCE;
  return {
    debitsPosted: toBigInt(row.debits_posted),
    creditsPosted: toBigInt(row.credits_posted),
    debitsPending: toBigInt(row.debits_pending),
    creditsPending: toBigInt(row.credits_pending),
  };
}

function balanceOf(account: Account, totals: Balance, asOfPosition: bigint): AccountBalance {
  return { accountId: account.id, currency: account.currency, normalSide: account.normalSide, asOfPosition, totals, ...summarize(account.normalSide, totals) };
}

async function requireAccount(sql: Sql, accountId: string): Promise<Account> {
  const account = await findAccount(sql, assertId(accountId, 'accountId'));
  if (!account) throw new LedgerError('ACCOUNT_NOT_FOUND', `account ${accountId} does not exist`, { accountId });
  return account;
}

async function headPosition(sql: Sql): Promise<bigint> {
  const [row] = await sql.query<{ position: string }>('SELECT position FROM chain_head');
  return toBigInt(row?.position ?? '0');
}

/** The maintained balance (the derived table), with the journal position it reflects. */
export async function currentBalance(sql: Sql, accountId: string): Promise<AccountBalance> {
  const account = await requireAccount(sql, accountId);
  const [row] = await sql.query<TotalsRow & { head: string }>(
    `SELECT b.debits_posted, b.credits_posted, b.debits_pending, b.credits_pending, h.position AS head
       FROM balances b CROSS JOIN chain_head h WHERE b.account_id = $1`,
    [account.id],
  );
  return balanceOf(account, totalsFromRow(row), toBigInt(row?.head ?? '0'));
}

/** Sums an account's postings up to a position: the balance recomputed from the journal. */
export async function totalsUpTo(sql: Sql, accountId: string, position: bigint): Promise<Balance> {
  const [row] = await sql.query<TotalsRow>(
    `SELECT coalesce(sum(amount) FILTER (WHERE direction = 'debit' AND layer = 'posted'), 0) AS debits_posted,
            coalesce(sum(amount) FILTER (WHERE direction = 'credit' AND layer = 'posted'), 0) AS credits_posted,
            coalesce(sum(CASE layer WHEN 'pending' THEN amount ELSE -amount END) FILTER (WHERE direction = 'debit' AND layer <> 'posted'), 0) AS debits_pending,
            coalesce(sum(CASE layer WHEN 'pending' THEN amount ELSE -amount END) FILTER (WHERE direction = 'credit' AND layer <> 'posted'), 0) AS credits_pending
       FROM postings WHERE account_id = $1 AND position <= $2`,
    [accountId, position.toString()],
  );
  return totalsFromRow(row);
}

/**
 * The balance as of a journal position, or as of a time (the last position recorded at or
 * before it; times never decrease along the journal). Call inside a REPEATABLE READ snapshot.
 */
export async function balanceAsOf(sql: Sql, accountId: string, asOf: AsOf): Promise<AccountBalance> {
  const account = await requireAccount(sql, accountId);
  const head = await headPosition(sql);
  let position: bigint;
  if ('position' in asOf) {
    if (asOf.position < 0n) throw invalidInput('asOfPosition must be 0 or a positive journal position');
    if (asOf.position > head) throw invalidInput(`asOfPosition ${asOf.position} is beyond the end of the journal (position ${head})`);
    position = asOf.position;
  } else {
    if (Number.isNaN(asOf.timestamp.getTime())) throw invalidInput('asOf must be a valid ISO-8601 time');
    const [row] = await sql.query<{ position: string }>(
      'SELECT position FROM journal_entries WHERE recorded_at <= $1 ORDER BY recorded_at DESC, position DESC LIMIT 1',
      [asOf.timestamp],
    );
    position = row ? toBigInt(row.position) : 0n;
  }
  return balanceOf(account, await totalsUpTo(sql, account.id, position), position);
}

export interface StatementLine {
  readonly position: bigint;
  readonly transactionId: string;
  readonly kind: EntryKind;
  readonly recordedAt: Date;
  readonly reverses: string | null;
  readonly reservationId: string | null;
  /** This account's postings in the entry. */
  readonly postings: readonly Posting[];
  /** The account's balance right after the entry. */
  readonly balanceAfter: BalanceSummary;
}

export interface StatementPage {
  readonly accountId: string;
  readonly currency: string;
  readonly normalSide: Direction;
  /** The balance before the first line of the page. */
  readonly opening: BalanceSummary;
  readonly lines: readonly StatementLine[];
  /** Pass as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

export const MAX_STATEMENT_PAGE = 500;

/** Parses a statement cursor: the journal position the previous page ended at. */
export function parseCursor(cursor: string | undefined): bigint {
  if (cursor === undefined || cursor === '') return 0n;
  if (!/^(0|[1-9][0-9]{0,18})$/.test(cursor)) throw invalidInput('cursor must be the nextCursor of a previous statement page');
  return BigInt(cursor);
}

/**
 * One page of an account's statement: its entries in journal order with the running balance,
 * starting after `cursor`. Call inside a REPEATABLE READ snapshot so the page is consistent.
 */
export async function statementPage(sql: Sql, accountId: string, options: { cursor?: string; limit?: number }): Promise<StatementPage> {
  const limit = options.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_STATEMENT_PAGE) throw invalidInput(`limit must be an integer from 1 to ${MAX_STATEMENT_PAGE}`);
  const after = parseCursor(options.cursor);
  const account = await requireAccount(sql, accountId);
  let running = after > 0n ? await totalsUpTo(sql, account.id, after) : ZERO_BALANCE;
  const opening = summarize(account.normalSide, running);

  const positions = await sql.query<{ position: string }>(
    'SELECT DISTINCT position FROM postings WHERE account_id = $1 AND position > $2 ORDER BY position LIMIT $3',
    [account.id, after.toString(), limit + 1],
  );
  const page = positions.slice(0, limit).map((r) => r.position);
  const rows = await sql.query<EntryPostingRow>(
    `SELECT ${ENTRY_COLUMNS}
       FROM journal_entries e JOIN postings p ON p.position = e.position AND p.account_id = $1
      WHERE e.position = ANY($2::bigint[])
      ORDER BY e.position, p.idx`,
    [account.id, page],
  );
  const lines = entriesFromRows(rows).map((entry): StatementLine => {
    for (const posting of entry.postings) running = applyToBalance(running, posting);
    return {
      position: entry.position,
      transactionId: entry.transactionId,
      kind: entry.kind,
      recordedAt: entry.recordedAt,
      reverses: entry.reverses,
      reservationId: entry.reservationId,
      postings: entry.postings,
      balanceAfter: summarize(account.normalSide, running),
    };
  });
  const last = lines[lines.length - 1];
  return {
    accountId: account.id,
    currency: account.currency,
    normalSide: account.normalSide,
    opening,
    lines,
    nextCursor: positions.length > limit && last ? last.position.toString() : null,
  };
}
