import type { Account, Direction, EntryKind, JournalEntry, Layer, OwnerType, Posting } from '@pay/ledger-domain';
import type { Sql } from './sql';
import { toBigInt, toNullableBigInt } from './sql';

/** Mapping between rows and the domain's types; every bigint is converted explicitly. */

export interface AccountRow {
  id: string;
  owner_type: string;
  owner_id: string;
  currency: string;
  normal_side: string;
  min_balance: string | null;
  metadata: Record<string, string>;
}

export function accountFromRow(row: AccountRow): Account {
  return {
    id: row.id,
    ownerType: row.owner_type as OwnerType,
    ownerId: row.owner_id,
    currency: row.currency,
    normalSide: row.normal_side as Direction,
    minBalance: toNullableBigInt(row.min_balance),
    metadata: row.metadata,
  };
}

export interface EntryPostingRow {
  position: string;
  transaction_id: string;
  kind: string;
  reservation_id: string | null;
  expires_at: Date | null;
  reverses: string | null;
  metadata: Record<string, string>;
  content_hash: string;
  recorded_at: Date;
  prev_hash: string;
  hash: string;
  account_id: string | null;
  direction: string | null;
  layer: string | null;
  amount: string | null;
  currency: string | null;
}

export const ENTRY_COLUMNS = `e.position, e.transaction_id, e.kind, e.reservation_id, e.expires_at, e.reverses, e.metadata,
  e.content_hash, e.recorded_at, e.prev_hash, e.hash, p.account_id, p.direction, p.layer, p.amount, p.currency`;

/**
 * Loads entries with their postings in one round trip. `where` filters `journal_entries e`;
 * a LEFT JOIN keeps an entry whose postings were removed, so that verify can report it.
 */
export async function loadEntries(sql: Sql, where: string, parameters: readonly unknown[]): Promise<JournalEntry[]> {
  const rows = await sql.query<EntryPostingRow>(
    `SELECT ${ENTRY_COLUMNS}
       FROM journal_entries e LEFT JOIN postings p ON p.position = e.position
      WHERE ${where}
      ORDER BY e.position, p.idx`,
    parameters,
  );
  return entriesFromRows(rows);
}

export function entriesFromRows(rows: readonly EntryPostingRow[]): JournalEntry[] {
  const entries: JournalEntry[] = [];
  let current: { entry: JournalEntry; postings: Posting[] } | undefined;
  for (const row of rows) {
    if (!current || current.entry.position !== toBigInt(row.position)) {
      const postings: Posting[] = [];
      current = {
        postings,
        entry: {
          position: toBigInt(row.position),
          transactionId: row.transaction_id,
          kind: row.kind as EntryKind,
          postings,
          reservationId: row.reservation_id,
          expiresAt: row.expires_at,
          reverses: row.reverses,
          metadata: row.metadata,
          contentHash: row.content_hash,
          recordedAt: row.recorded_at,
          prevHash: row.prev_hash,
          hash: row.hash,
        },
      };
      entries.push(current.entry);
    }
    if (row.account_id !== null) {
      current.postings.push({
        accountId: row.account_id,
        direction: row.direction as Direction,
        layer: row.layer as Layer,
        amount: toBigInt(row.amount),
        currency: row.currency as string,
      });
    }
  }
  return entries;
}
