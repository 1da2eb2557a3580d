import type { Account, AppendedEntry, Balance, ChainHead, CommandOutcome, JournalEntry, LedgerCommand, LedgerView } from '@pay/ledger-domain';
import { LedgerBatch, referencedAccountIds, referencedTransactionIds, reversalTargets, ZERO_BALANCE } from '@pay/ledger-domain';
import type { OutboxMessage } from '@pay/messaging';
import { appendToOutbox } from '@pay/messaging';
import type { DataSource } from 'typeorm';
import type { AccountRow } from './journal-rows';
import { accountFromRow, loadEntries } from './journal-rows';
import type { Sql } from './sql';
import { inTransaction, toBigInt } from './sql';

export interface AppendContext {
  readonly dataSource: DataSource;
  readonly now: () => Date;
  readonly toOutbox: (appended: AppendedEntry) => OutboxMessage;
}

/** Appends one group-committed batch in one database transaction (the steps of appendInTransaction). */
export async function appendBatch(context: AppendContext, commands: readonly LedgerCommand[]): Promise<CommandOutcome[]> {
  return inTransaction(context.dataSource, (sql) => appendInTransaction(sql, context, commands));
}

/**
 * The same steps inside a transaction the caller owns and commits (appendBatch's, or a
 * consumer's that records its inbox rows with the entries): the chain head stays locked until
 * that COMMIT, so the caller should append last and commit soon after.
 */
export async function appendInTransaction(
  sql: Sql,
  context: Pick<AppendContext, 'now' | 'toOutbox'>,
  commands: readonly LedgerCommand[],
): Promise<CommandOutcome[]> {
  const head = await lockChainHead(sql);
  const view = await loadEntriesAndLockBalances(sql, commands);
  const batch = new LedgerBatch(view, head, context.now());
  // A rejected command leaves no trace and does not affect the others.
  const outcomes = commands.map((command) => batch.execute(command));
  if (batch.appended.length > 0) await writeBatch(sql, batch, view, context);
  return outcomes;
}

/**
 * The one ordered append point, taken once per batch and held by every append (in any process)
 * until COMMIT: what the transaction reads afterwards (idempotency lookups, reservation states)
 * cannot be raced.
 */
export async function lockChainHead(sql: Sql): Promise<ChainHead> {
  const [row] = await sql.query<{ position: string; hash: string; recorded_at: Date | null }>('SELECT position, hash, recorded_at FROM chain_head FOR UPDATE');
  if (!row) throw new Error('the ledger has no chain head row: were the ledger migrations run?');
  return { position: toBigInt(row.position), hash: row.hash, recordedAt: row.recorded_at };
}

interface BatchView extends LedgerView {
  readonly opening: ReadonlyMap<string, Balance>;
}

interface LockedBalanceRow extends AccountRow {
  debits_posted: string;
  credits_posted: string;
  debits_pending: string;
  credits_pending: string;
}

/** The entries the commands refer to, and their accounts' balances locked in account id order (one order for every writer: no deadlock). */
async function loadEntriesAndLockBalances(sql: Sql, commands: readonly LedgerCommand[]): Promise<BatchView> {
  const ids = unique(commands.flatMap(referencedTransactionIds));
  const targets = unique(commands.flatMap(reversalTargets));
  const entries = await loadEntries(sql, 'e.transaction_id = ANY($1::text[]) OR e.reverses = ANY($2::text[])', [ids, targets]);
  const byTransactionId = new Map(entries.map((e) => [e.transactionId, e]));
  const reversals = new Map<string, JournalEntry[]>();
  for (const entry of entries) {
    if (entry.reverses !== null) reversals.set(entry.reverses, [...(reversals.get(entry.reverses) ?? []), entry]);
  }

  const accountIds = unique(commands.flatMap((c) => referencedAccountIds(c, (id) => byTransactionId.get(id))));
  const rows = await sql.query<LockedBalanceRow>(
    `SELECT a.id, a.owner_type, a.owner_id, a.currency, a.normal_side, a.min_balance, a.metadata,
            b.debits_posted, b.credits_posted, b.debits_pending, b.credits_pending
       FROM accounts a JOIN balances b ON b.account_id = a.id
      WHERE a.id = ANY($1::text[])
      ORDER BY a.id
        FOR UPDATE OF b`,
    [accountIds],
  );
  const accounts = new Map<string, Account>();
  const opening = new Map<string, Balance>();
  for (const row of rows) {
    accounts.set(row.id, accountFromRow(row));
    opening.set(row.id, {
      debitsPosted: toBigInt(row.debits_posted),
      creditsPosted: toBigInt(row.credits_posted),
      debitsPending: toBigInt(row.debits_pending),
      creditsPending: toBigInt(row.credits_pending),
    });
  }
  return {
    opening,
    account: (id) => accounts.get(id),
    balance: (id) => opening.get(id) ?? ZERO_BALANCE,
    entry: (id) => byTransactionId.get(id),
    reversalsOf: (id) => reversals.get(id) ?? [],
  };
}

/**
 * Writes a batch with two statements: one that appends the entries and postings and moves the
 * balances, pending holds and chain head (data-modifying CTEs), and the outbox insert. Fewer
 * round trips inside the chain lock is what lets group commit scale.
 */
async function writeBatch(sql: Sql, batch: LedgerBatch, view: BatchView, context: Pick<AppendContext, 'toOutbox'>): Promise<void> {
  const entries = batch.appended.map((a) => a.entry);
  const postings = entries.flatMap((e) => e.postings.map((p, idx) => ({ ...p, idx, position: e.position })));
  const deltas = balanceDeltas(batch.changedBalances, view.opening);
  const holds = pendingHoldChanges(entries);
  const writing = sql.query<{ balances: string }>(
    `WITH entries AS (
       INSERT INTO journal_entries (position, transaction_id, kind, reservation_id, expires_at, reverses, metadata,
                                    content_hash, recorded_at, prev_hash, hash)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::jsonb[],
                            $8::text[], $9::timestamptz[], $10::text[], $11::text[])
     ),
     -- One statement for all postings: the database's balance check sees each entry whole.
     postings AS (
       INSERT INTO postings (position, idx, account_id, direction, layer, amount, currency)
       SELECT * FROM unnest($12::bigint[], $13::smallint[], $14::text[], $15::text[], $16::text[], $17::bigint[], $18::text[])
     ),
     -- Increments of the locked rows, so that a missed lock could never lose an update silently.
     balances AS (
       UPDATE balances b
          SET debits_posted = b.debits_posted + d.debits_posted,
              credits_posted = b.credits_posted + d.credits_posted,
              debits_pending = b.debits_pending + d.debits_pending,
              credits_pending = b.credits_pending + d.credits_pending
         FROM unnest($19::text[], $20::bigint[], $21::bigint[], $22::bigint[], $23::bigint[])
              AS d(account_id, debits_posted, credits_posted, debits_pending, credits_pending)
        WHERE b.account_id = d.account_id
       RETURNING b.account_id
     ),
     held AS (
       INSERT INTO pending_reservations (reservation_id, position, expires_at)
       SELECT * FROM unnest($24::text[], $25::bigint[], $26::timestamptz[])
     ),
     released AS (
       DELETE FROM pending_reservations WHERE reservation_id = ANY($27::text[])
     ),
     head AS (
       UPDATE chain_head SET position = $28, hash = $29, recorded_at = $30
     )
     SELECT count(*) AS balances FROM balances`,
    [
      entries.map((e) => e.position.toString()),
      entries.map((e) => e.transactionId),
      entries.map((e) => e.kind),
      entries.map((e) => e.reservationId),
      entries.map((e) => e.expiresAt),
      entries.map((e) => e.reverses),
      entries.map((e) => JSON.stringify(e.metadata)),
      entries.map((e) => e.contentHash),
      entries.map((e) => e.recordedAt),
      entries.map((e) => e.prevHash),
      entries.map((e) => e.hash),
      postings.map((p) => p.position.toString()),
      postings.map((p) => p.idx),
      postings.map((p) => p.accountId),
      postings.map((p) => p.direction),
      postings.map((p) => p.layer),
      postings.map((p) => p.amount.toString()),
      postings.map((p) => p.currency),
      deltas.map((d) => d.accountId),
      deltas.map((d) => d.debitsPosted.toString()),
      deltas.map((d) => d.creditsPosted.toString()),
      deltas.map((d) => d.debitsPending.toString()),
      deltas.map((d) => d.creditsPending.toString()),
      holds.held.map((e) => e.transactionId),
      holds.held.map((e) => e.position.toString()),
      holds.held.map((e) => e.expiresAt),
      holds.released,
      batch.head.position.toString(),
      batch.head.hash,
      batch.head.recordedAt,
    ],
  );
  // Building and validating the outgoing events is the batch's main CPU cost: do it while
  // PostgreSQL executes the statement above, not after (the chain lock is held meanwhile).
  writing.catch(() => undefined); // awaited below; this only keeps an early failure from counting as unhandled
  await new Promise<void>((sent) => setImmediate(sent));
  const messages = batch.appended.map(context.toOutbox);
  const [written] = await writing;
  if (Number(written?.balances) !== deltas.length) throw new Error(`expected to update ${deltas.length} balances, updated ${written?.balances}`);
  await appendToOutbox(sql, messages);
}

interface BalanceDelta extends Balance {
  readonly accountId: string;
}

function balanceDeltas(changed: ReadonlyMap<string, Balance>, opening: ReadonlyMap<string, Balance>): BalanceDelta[] {
  return [...changed].map(([accountId, after]) => {
    const before = opening.get(accountId) ?? ZERO_BALANCE;
    return {
      accountId,
      debitsPosted: after.debitsPosted - before.debitsPosted,
      creditsPosted: after.creditsPosted - before.creditsPosted,
      debitsPending: after.debitsPending - before.debitsPending,
      creditsPending: after.creditsPending - before.creditsPending,
    };
  });
}

/**
 * The net change to the holds the sweeper watches. Parts of one statement do not see each
 * other's rows, so a hold reserved and resolved in the same batch is simply never inserted.
 */
function pendingHoldChanges(entries: readonly JournalEntry[]): { held: JournalEntry[]; released: string[] } {
  const resolved = new Set(entries.filter((e) => e.kind !== 'reserve' && e.reservationId !== null).map((e) => e.reservationId as string));
  const reservedNow = new Set(entries.filter((e) => e.kind === 'reserve').map((e) => e.transactionId));
  return {
    held: entries.filter((e) => e.kind === 'reserve' && !resolved.has(e.transactionId)),
    released: [...resolved].filter((id) => !reservedNow.has(id)),
  };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
