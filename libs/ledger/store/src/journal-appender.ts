import type { Account, AppendedEntry, Balance, ChainHead, CommandOutcome, JournalEntry, LedgerCommand, LedgerView, ValidatedCommand } from '@pay/ledger-domain';
import { contentHashOf, LedgerBatch, referencedAccountIds, referencedTransactionIds, reversalTargets, ZERO_BALANCE } from '@pay/ledger-domain';
import type { OutboxColumns, OutboxMessage } from '@pay/messaging';
import { outboxRowsOf } from '@pay/messaging';
import type { DataSource } from 'typeorm';
import type { AccountRow } from './journal-rows';
import type { EntryPostingRow } from './journal-rows';
import { accountFromRow, ENTRY_COLUMNS, entriesFromRows, loadEntries } from './journal-rows';
import type { NamedStatement, PgSimpleClient, Sql, SqlValue } from './sql';
import { executePrepared, queryNamed, sqlOf, toBigInt } from './sql';

export interface AppendContext {
  readonly dataSource: DataSource;
  readonly now: () => Date;
  readonly toOutbox: (appended: AppendedEntry) => OutboxMessage;
}

/**
 * Appends one group-committed batch in one database transaction (the steps of appendInTransaction)
 * in two round trips: BEGIN travels with the batch's read, COMMIT with its write, each pair as one
 * simple-protocol query (node-postgres sends one statement per round trip otherwise). Under load
 * every round trip waits to be scheduled twice, Node's turn and PostgreSQL's; there were four.
 */
export async function appendBatch(context: AppendContext, commands: readonly ValidatedCommand[]): Promise<CommandOutcome[]> {
  const runner = context.dataSource.createQueryRunner('master');
  await runner.connect();
  const client = (runner as unknown as { databaseConnection: PgClient }).databaseConnection;
  let committed = false;
  const writeAndCommit: BatchWrite = async (values) => {
    const rows = await writeBatchAndCommit(client, values);
    committed = true;
    return rows;
  };
  try {
    const outcomes = await appendInTransaction(sqlOf(runner), context, commands, (values) => beginAndLockAndLoad(client, values), writeAndCommit);
    // A batch that appended nothing (replays, refusals) wrote nothing: its COMMIT only releases the chain head.
    if (!committed) await client.query('COMMIT');
    return outcomes;
  } catch (error) {
    // Also when BEGIN itself failed: ROLLBACK outside a transaction only warns.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await runner.release();
  }
}

type PgClient = PgSimpleClient;

type LockAndLoadRow = { head: HeadJson | null; entries: EntryPostingJson[]; balances: BalanceRow[] };
type LockAndLoadRead = (values: [ids: string[], targets: string[], accounts: string[]]) => Promise<LockAndLoadRow[]>;
type BatchWrite = (values: SqlValue[]) => Promise<Array<{ balances: string }>>;

const BEGUN_LOCK_AND_LOAD = 'ledger_begin_lock_and_load';

/**
 * BEGIN and LOCK_AND_LOAD in one round trip (the statement prepared by SQL PREPARE, its parameters as
 * literals). The batch's statements run their generic plans, planned once per connection. Left to
 * itself PostgreSQL chose them here in bench:ledger, but planned LOCK_AND_LOAD again for every batch
 * in the wallet's consumer transactions (0.67 ms of planning against 0.16 ms of running, bench:e2e,
 * session 19; those plan once too now, InboxConsumerOptions.plans): planning holds the chain head.
 */
function beginAndLockAndLoad(client: PgClient, values: Parameters<LockAndLoadRead>[0]): Promise<LockAndLoadRow[]> {
  return executePrepared<LockAndLoadRow>(client, BEGUN_LOCK_AND_LOAD, LOCK_AND_LOAD.text, values, { begin: true, plans: 'generic' });
}

const BEGUN_WRITE_BATCH = 'ledger_write_batch_and_commit';

/**
 * WRITE_BATCH and COMMIT in one round trip. If the write fails, PostgreSQL skips the COMMIT and the
 * transaction is aborted (the caller rolls back); the statement itself refuses a short balance update.
 */
function writeBatchAndCommit(client: PgClient, values: SqlValue[]): Promise<Array<{ balances: string }>> {
  return executePrepared<{ balances: string }>(client, BEGUN_WRITE_BATCH, WRITE_BATCH.text, values, { commit: true });
}

/**
 * The same steps inside a transaction the caller owns and commits (appendBatch's, or a
 * consumer's that records its inbox rows with the entries): the chain head stays locked until
 * that COMMIT, so the caller should append last and commit soon after.
 */
export async function appendInTransaction(
  sql: Sql,
  context: Pick<AppendContext, 'now' | 'toOutbox'>,
  commands: readonly ValidatedCommand[],
  read: LockAndLoadRead = (values) => queryNamed(sql, LOCK_AND_LOAD, values),
  write: BatchWrite = (values) => queryNamed(sql, WRITE_BATCH, values),
): Promise<CommandOutcome[]> {
  const loading = lockAndLoad(sql, commands, read);
  // Awaited below; marked handled so that a throw in between cannot leave its rejection unhandled.
  loading.catch(() => undefined);
  // While PostgreSQL locks and reads, Node hashes what each command asks for (the batch needs the
  // hashes and they depend on nothing the read returns): the two overlap instead of taking turns.
  for (const command of commands) contentHashOf(command);
  const { head, view } = await loading;
  const batch = new LedgerBatch(view, head, context.now());
  // A rejected command leaves no trace and does not affect the others.
  const outcomes = commands.map((command) => batch.executeValidated(command));
  if (batch.appended.length > 0) await writeBatch(batch, view, context, write);
  return outcomes;
}

/**
 * The one ordered append point, taken once per batch and held by every append (in any process)
 * until COMMIT: what the transaction reads afterwards (idempotency lookups, reservation states,
 * balances) cannot be raced. Every writer of balances holds it.
 *
 * A writer that changes balances without appending (a rebuild) takes it with `moving: true`: the
 * row gets a new version although its values stay, which tells a batch that waited for the head
 * that its snapshot is stale (lockAndLoad compares the head's xmin).
 */
export async function lockChainHead(sql: Sql, options: { moving?: boolean } = {}): Promise<ChainHead> {
  const [row] = await sql.query<{ position: string; hash: string; recorded_at: Date | null }>(
    options.moving
      ? 'UPDATE chain_head SET position = position RETURNING position, hash, recorded_at'
      : 'SELECT position, hash, recorded_at FROM chain_head FOR UPDATE',
  );
  if (!row) throw new Error('the ledger has no chain head row: were the ledger migrations run?');
  return { position: toBigInt(row.position), hash: row.hash, recordedAt: row.recorded_at };
}

interface BatchView extends LedgerView {
  readonly opening: ReadonlyMap<string, Balance>;
}

interface BalanceRow extends AccountRow {
  debits_posted: string;
  credits_posted: string;
  debits_pending: string;
  credits_pending: string;
}

const BALANCE_COLUMNS = `a.id, a.owner_type, a.owner_id, a.currency, a.normal_side, a.min_balance, a.metadata,
  b.debits_posted, b.credits_posted, b.debits_pending, b.credits_pending`;

/** The balances of `accountIds`, read under the chain lock by a statement of their own (a snapshot taken after the lock). */
const READ_BALANCES = `SELECT ${BALANCE_COLUMNS}
   FROM accounts a JOIN balances b ON b.account_id = a.id
  WHERE a.id = ANY($1::text[])`;

/**
 * One round trip for the three reads of a batch: lock the chain head, load the entries the
 * commands refer to, read the balances of their accounts (those the commands name and those of
 * the loaded entries). In READ COMMITTED a statement reads from the snapshot it started with,
 * while FOR UPDATE waits for and returns the newest row: if another writer committed between
 * the two, the `seen` head version (snapshot) differs from the locked one, and entries and
 * balances are read again by statements of their own, which see that writer's commit.
 *
 * Balances are not locked row by row: every writer of balances holds the chain head (batches,
 * and rebuildBalances, which moves its version), so the chain lock already serialises them, and
 * FOR UPDATE on each balance row cost a WAL record and a dirtied page per row (127 rows for a
 * batch of 64 transfers between spread accounts). The write statement still applies increments.
 */
const LOCK_AND_LOAD: NamedStatement = {
  name: 'ledger_lock_and_load',
  text: `WITH head AS (
     SELECT position, hash, recorded_at, xmin::text AS version, (SELECT xmin::text FROM chain_head) AS seen FROM chain_head FOR UPDATE
   ),
   entries AS (
     SELECT ${ENTRY_COLUMNS}, p.idx
       FROM journal_entries e LEFT JOIN postings p ON p.position = e.position
      WHERE (e.transaction_id = ANY($1::text[]) OR e.reverses = ANY($2::text[])) AND EXISTS (SELECT 1 FROM head)
   ),
   balances AS (
     SELECT ${BALANCE_COLUMNS}
       FROM accounts a JOIN balances b ON b.account_id = a.id
      WHERE a.id IN (SELECT unnest($3::text[]) UNION SELECT account_id FROM entries WHERE account_id IS NOT NULL)
        AND EXISTS (SELECT 1 FROM head)
   )
   SELECT (SELECT json_build_object('position', position::text, 'hash', hash, 'recorded_at', recorded_at, 'version', version, 'seen', seen) FROM head) AS head,
          (SELECT coalesce(json_agg(json_build_object(
                    'position', position::text, 'transaction_id', transaction_id, 'kind', kind, 'reservation_id', reservation_id,
                    'expires_at', expires_at, 'reverses', reverses, 'metadata', metadata, 'content_hash', content_hash,
                    'recorded_at', recorded_at, 'prev_hash', prev_hash, 'hash', hash, 'account_id', account_id, 'direction', direction,
                    'layer', layer, 'amount', amount::text, 'currency', currency) ORDER BY position, idx), '[]') FROM entries) AS entries,
          (SELECT coalesce(json_agg(json_build_object(
                    'id', id, 'owner_type', owner_type, 'owner_id', owner_id, 'currency', currency, 'normal_side', normal_side,
                    'min_balance', min_balance::text, 'metadata', metadata, 'debits_posted', debits_posted::text,
                    'credits_posted', credits_posted::text, 'debits_pending', debits_pending::text,
                    'credits_pending', credits_pending::text)), '[]') FROM balances) AS balances`,
};

interface HeadJson {
  position: string;
  hash: string;
  recorded_at: string | null;
  /** xmin of the locked (newest) head row, and of the head row in the statement's snapshot. */
  version: string;
  seen: string;
}

type EntryPostingJson = Omit<EntryPostingRow, 'expires_at' | 'recorded_at'> & { expires_at: string | null; recorded_at: string };

async function lockAndLoad(sql: Sql, commands: readonly LedgerCommand[], read: LockAndLoadRead): Promise<{ head: ChainHead; view: BatchView }> {
  const ids = unique(commands.flatMap(referencedTransactionIds));
  const targets = unique(commands.flatMap(reversalTargets));
  // The accounts named by the commands themselves; those reached through loaded entries are added by the statement.
  const named = unique(commands.flatMap((c) => referencedAccountIds(c, () => undefined)));
  const [row] = await read([ids, targets, named]);
  if (!row?.head) throw new Error('the ledger has no chain head row: were the ledger migrations run?');
  const head: ChainHead = {
    position: toBigInt(row.head.position),
    hash: row.head.hash,
    recordedAt: row.head.recorded_at === null ? null : new Date(row.head.recorded_at),
  };
  const fresh = row.head.seen === row.head.version;
  const entries = fresh
    ? entriesFromRows(
        row.entries.map((e) => ({ ...e, expires_at: e.expires_at === null ? null : new Date(e.expires_at), recorded_at: new Date(e.recorded_at) })),
      )
    : await loadEntries(sql, 'e.transaction_id = ANY($1::text[]) OR e.reverses = ANY($2::text[])', [ids, targets]);
  const byTransactionId = new Map(entries.map((e) => [e.transactionId, e]));
  const needed = unique(commands.flatMap((c) => referencedAccountIds(c, (id) => byTransactionId.get(id))));
  // A writer committed after the statement's snapshot: every balance it read may be stale.
  if (!fresh) return { head, view: viewOf(entries, await sql.query<BalanceRow>(READ_BALANCES, [needed])) };
  // Accounts the statement did not ask for are read on their own; those it asked for and found no row of do not exist.
  const found = new Set(row.balances.map((b) => b.id));
  const asked = new Set([...named, ...entries.flatMap((e) => e.postings.map((p) => p.accountId))]);
  const missing = needed.filter((id) => !found.has(id));
  const extra = missing.every((id) => asked.has(id)) ? [] : await sql.query<BalanceRow>(READ_BALANCES, [missing]);
  return { head, view: viewOf(entries, [...row.balances, ...extra]) };
}

function viewOf(entries: readonly JournalEntry[], rows: readonly BalanceRow[]): BatchView {
  const byTransactionId = new Map(entries.map((e) => [e.transactionId, e]));
  const reversals = new Map<string, JournalEntry[]>();
  for (const entry of entries) {
    if (entry.reverses !== null) reversals.set(entry.reverses, [...(reversals.get(entry.reverses) ?? []), entry]);
  }
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
 * Writes a batch with one statement (data-modifying CTEs): it appends the entries and postings,
 * moves the balances, pending holds and chain head, and puts the entries' events in the outbox.
 * Fewer round trips inside the chain lock is what lets group commit scale.
 */
async function writeBatch(batch: LedgerBatch, view: BatchView, context: Pick<AppendContext, 'toOutbox'>, write: BatchWrite): Promise<void> {
  const entries = batch.appended.map((a) => a.entry);
  const postings = entries.flatMap((e) => e.postings.map((p, idx) => ({ ...p, idx, position: e.position })));
  const deltas = balanceDeltas(batch.changedBalances, view.opening);
  const holds = pendingHoldChanges(entries);
  const messages = batch.appended.map(context.toOutbox);
  const outbox = outboxRowsOf(messages);
  const [written] = await write([
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
    outboxDocument(outbox),
    deltas.length,
  ]);
  if (Number(written?.balances) !== deltas.length) throw new Error(`expected to update ${deltas.length} balances, updated ${written?.balances}`);
}

/**
 * The outbox rows as one JSON array, for jsonb_to_recordset. As a jsonb[] parameter (one element
 * per row) node-postgres escapes each payload's quotes in JavaScript, character by character, and
 * PostgreSQL unescapes the array literal before parsing each element as jsonb; one document is
 * parsed once. The payloads and headers are JSON text already: spliced in, not parsed again.
 */
function outboxDocument(rows: readonly OutboxColumns[]): string {
  const objects = rows.map(
    (o) =>
      `{"topic":${JSON.stringify(o.topic)},"message_key":${JSON.stringify(o.messageKey)},"event_id":${JSON.stringify(o.eventId)},"payload":${o.payload},"headers":${o.headers}}`,
  );
  return `[${objects.join(',')}]`;
}

const WRITE_BATCH: NamedStatement = {
  name: 'ledger_write_batch',
  text: `WITH entries AS (
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
   -- Increments, not the values read: a writer that skipped the chain lock could never lose an update silently.
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
   ),
   -- The entries' events, in journal order (the outbox's position is the relay's order).
   outboxed AS (
     INSERT INTO outbox (topic, message_key, event_id, payload, headers)
     SELECT o.topic, o.message_key, o.event_id, o.payload, o.headers
       FROM ROWS FROM (jsonb_to_recordset($31::jsonb) AS (topic text, message_key text, event_id uuid, payload jsonb, headers jsonb))
            WITH ORDINALITY AS o(topic, message_key, event_id, payload, headers, n)
      ORDER BY o.n
   )
   -- A balance row that was not there to update fails the statement (a text that is no number), so
   -- that the transaction cannot commit, also when COMMIT travels in the same round trip.
   SELECT CASE WHEN count(*) = $32::bigint THEN count(*)
               ELSE ('expected to update ' || $32::bigint || ' balances, updated ' || count(*))::bigint END AS balances
     FROM balances`,
};

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
