import type { QueryRunner } from 'typeorm';
import type { NamedStatement } from './sql';
import { sqlStateOf } from './sql-errors';

/**
 * A transaction's BEGIN sent with its first statement, in one round trip.
 *
 * node-postgres sends one statement per round trip, so a transaction costs BEGIN, its statements
 * and COMMIT each a trip of its own: under load every trip waits to be scheduled twice (Node's turn,
 * then PostgreSQL's) and each write wakes the other side. `BEGIN; EXECUTE <prepared>(<literals>)` is
 * one simple-protocol query: the statement prepared once per connection by SQL PREPARE (parsed and
 * planned once, as a named statement of the extended protocol would be), its parameters as literals.
 * The ledger's batches have travelled this way since session 12 (libs/ledger/store's appender); the
 * inbox consumer's and the outbox relay's transactions begin this way too.
 */

type SqlScalar = string | number | boolean | Date | null;
/** A statement parameter that can travel as a literal: a scalar or a one-dimensional array of them. */
export type SqlValue = SqlScalar | readonly SqlScalar[];

/** The part of node-postgres' Client used here. */
export interface PgSimpleClient {
  query(text: string): Promise<unknown>;
  escapeLiteral(value: string): string;
}

/**
 * A long text's quote: dollar quoting passes a document (~1 KB per ledger event) unescaped. The text
 * must not hold the tag without its last `$` either: a text ending in it would end the quote early.
 */
const DOCUMENT_QUOTE = '$pay_document$';

/**
 * Only these need escaping in a standard string literal (standard_conforming_strings, on since
 * PostgreSQL 9.1); most texts (ids, hashes, times) hold neither, and escapeLiteral walks every character.
 */
const QUOTE_OR_BACKSLASH = /['\\]/;

/** A parameter value as an SQL literal for EXECUTE: NULL, a number, a boolean, a quoted text, or a quoted array literal. */
export function sqlLiteral(client: Pick<PgSimpleClient, 'escapeLiteral'>, value: SqlValue): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`a statement parameter must be a finite number, got ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return `'${value.toISOString()}'`;
  if (Array.isArray(value)) {
    // An array's elements quoted for the array parser (only `"` and `\` escaped), the whole quoted as a text.
    const elements = value.map((item: SqlScalar) =>
      item === null || item === undefined ? 'NULL' : `"${arrayElementText(item).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`,
    );
    return quotedText(client, `{${elements.join(',')}}`);
  }
  if (typeof value !== 'string')
    throw new TypeError(`a statement parameter must be a text, number, boolean, date, null or an array of them, got ${typeof value}`);
  return quotedText(client, value);
}

/**
 * A text as a literal: a long one (documents, arrays of them) dollar-quoted, unescaped, unless it holds
 * the quote's tag; a short one single-quoted, escaped only when it holds a quote or a backslash.
 */
function quotedText(client: Pick<PgSimpleClient, 'escapeLiteral'>, text: string): string {
  if (text.length > 256 && !text.includes(DOCUMENT_QUOTE.slice(0, -1))) return `${DOCUMENT_QUOTE}${text}${DOCUMENT_QUOTE}`;
  return QUOTE_OR_BACKSLASH.test(text) ? client.escapeLiteral(text) : `'${text}'`;
}

function arrayElementText(item: string | number | boolean | Date): string {
  if (item instanceof Date) return item.toISOString();
  // An object would become "[object Object]": a document travels as its JSON text.
  if (typeof item === 'object' || typeof item === 'function' || typeof item === 'symbol') {
    throw new TypeError(`an array parameter's element must be a text, number, boolean, date or null, got ${typeof item}`);
  }
  return String(item);
}

/** SQLSTATEs of SQL PREPARE/EXECUTE: no such prepared statement; one of that name exists. */
export const UNKNOWN_PREPARED_STATEMENT = '26000';
const DUPLICATE_PREPARED_STATEMENT = '42P05';

/** Names SQL PREPARE accepts unquoted (the names of NamedStatement and namedStatement are such). */
const PREPARED_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const prepared = new WeakMap<PgSimpleClient, Set<string>>();

/** Prepares `text` under `name` by SQL PREPARE, once per connection (the parameters' types come from the text's casts and context). */
export async function prepareOnce(client: PgSimpleClient, name: string, text: string): Promise<void> {
  if (!PREPARED_NAME.test(name)) throw new Error(`prepared statement name "${name}" is not accepted: lower-case letters, digits and "_"`);
  let names = prepared.get(client);
  if (!names) prepared.set(client, (names = new Set()));
  if (names.has(name)) return;
  // On its own, not with a transaction's statements: a PREPARE that failed with them would be
  // retried, one that succeeded could not be.
  await client.query(`PREPARE ${name} AS ${text}`).catch((error: unknown) => {
    if (sqlStateOf(error) !== DUPLICATE_PREPARED_STATEMENT) throw error;
  });
  names.add(name);
}

/** Forgets what `prepareOnce` prepared on this connection (the session lost its prepared statements). */
export function forgetPrepared(client: PgSimpleClient): void {
  prepared.delete(client);
}

/** The name under which `beginWith` prepares a statement: SQL PREPARE shares the namespace of the protocol's named statements. */
function begunName(statement: NamedStatement): string {
  return `${statement.name}_begun`.toLowerCase();
}

/** `EXECUTE <name>(<literals>)`: a statement prepared by `prepareOnce`, called with its parameters as literals. */
export function executeText(client: Pick<PgSimpleClient, 'escapeLiteral'>, name: string, values: readonly SqlValue[]): string {
  return `EXECUTE ${name}(${values.map((value) => sqlLiteral(client, value)).join(', ')})`;
}

/**
 * What travels with a prepared statement in its round trip (executePrepared):
 * - `begin`: BEGIN ahead of it, so that it begins the transaction;
 * - `plans`: `generic` sends `SET LOCAL plan_cache_mode = force_generic_plan` ahead of it, so that it and
 *   the rest of its transaction run their generic plans (TransactionPlans);
 * - `commit`: COMMIT after it, so that it ends the transaction. If the statement fails PostgreSQL
 *   skips the COMMIT and the transaction is left aborted: the caller rolls back.
 */
export interface PreparedRun {
  readonly begin?: boolean;
  readonly plans?: TransactionPlans;
  readonly commit?: boolean;
}

/**
 * Runs `text`, prepared once per connection under `name`, with its parameters as literals, and
 * returns its rows; `run` says what travels with it (BEGIN, SET LOCAL, COMMIT), all in one round trip.
 * If the session lost its prepared statements (DEALLOCATE ALL or DISCARD ALL by another user of the
 * pooled connection) nothing of the statement ran. When this round trip began the transaction, the
 * transaction is rolled back and the whole round trip sent again once the statement is prepared
 * again; inside a transaction begun earlier, what the transaction did would be lost with it, so the
 * error is thrown (the transaction is aborted; the caller rolls back and may run it again).
 */
export async function executePrepared<Row>(
  client: PgSimpleClient,
  name: string,
  text: string,
  values: readonly SqlValue[],
  run: PreparedRun = {},
): Promise<Row[]> {
  await prepareOnce(client, name, text);
  const ahead = [...(run.begin ? ['BEGIN;'] : []), ...(run.plans === 'generic' ? [GENERIC_PLANS] : [])];
  const send = async (): Promise<Row[]> => {
    const sent = [...ahead, executeText(client, name, values) + (run.commit ? '; COMMIT' : '')].join(' ');
    // pg answers one result for one statement, an array of them for several.
    const results = (await client.query(sent)) as { rows: Row[] } | Array<{ rows: Row[] }>;
    return (Array.isArray(results) ? results[ahead.length] : results).rows;
  };
  try {
    return await send();
  } catch (error) {
    if (sqlStateOf(error) !== UNKNOWN_PREPARED_STATEMENT) throw error;
    forgetPrepared(client);
    if (!run.begin) throw error;
    await client.query('ROLLBACK');
    await prepareOnce(client, name, text);
    return send();
  }
}

/**
 * How the prepared statements of a transaction begun here are planned:
 * - `auto`: as PostgreSQL chooses (`plan_cache_mode = auto`), which plans a statement again at every
 *   run while a plan for the run's values looks cheaper than the generic one;
 * - `generic`: each runs its generic plan, made once per connection (`SET LOCAL plan_cache_mode =
 *   force_generic_plan` travels with the BEGIN, and ends with the transaction: the connection goes
 *   back to the pool as it was). For batch statements whose plans are index lookups by key that no
 *   value changes: measured under bench:e2e, PostgreSQL planned most of them at every run, and the
 *   ledger's lock-and-load spent 0.67 ms planning and 0.16 ms running per call; a fifth of the
 *   services' statement time was planning (docs/benchmarks.md, session 19). The transaction's
 *   unnamed statements with parameters (TypeORM's `query`) are then planned without their values
 *   too. Not for statements whose best plan depends on their values (a range whose width varies:
 *   the generic plan assumes a third of the table per bound).
 *
 * A NamedStatement can say the same of itself (`plans`): then, when it runs on its own (not inside a
 * transaction), queryNamed sends it as `BEGIN; SET LOCAL …; EXECUTE …; COMMIT` in one round trip
 * (runAlone), as many round trips as the autocommitted statement it replaces.
 */
export type TransactionPlans = 'auto' | 'generic';

const GENERIC_PLANS = 'SET LOCAL plan_cache_mode = force_generic_plan;';

/**
 * Runs a statement on its own, in a transaction of its own sent with it in one round trip (as an
 * autocommitted statement would run), planned as the statement says (its `plans`). Whatever fails,
 * the connection is left outside any transaction, ready for the pool.
 */
export async function runAlone<Row>(client: PgSimpleClient, statement: NamedStatement, values: readonly SqlValue[]): Promise<Row[]> {
  try {
    return await executePrepared<Row>(client, begunName(statement), statement.text, values, { begin: true, plans: statement.plans, commit: true });
  } catch (error) {
    // The failed statement left its transaction aborted (PostgreSQL skipped the COMMIT); after a
    // failed COMMIT there is none, and ROLLBACK only warns.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The node-postgres connection of a query runner (taken from the pool now if it has none yet). */
async function pgClientOf(runner: QueryRunner, caller: string): Promise<PgSimpleClient> {
  await runner.connect();
  const client = (runner as unknown as { databaseConnection?: PgSimpleClient }).databaseConnection;
  if (typeof client?.query !== 'function' || typeof client.escapeLiteral !== 'function') {
    throw new Error(`${caller}: the query runner has no node-postgres connection`);
  }
  return client;
}

/**
 * Begins a transaction on `runner` with `statement` in the same round trip and returns the
 * statement's rows; the runner is then in its transaction as after TypeORM's `startTransaction`
 * (commit or roll back through the runner). If the statement fails the transaction is aborted:
 * the caller rolls back through the runner, as after any failed statement. `plans`: how the
 * transaction's prepared statements are planned (TransactionPlans).
 */
export async function beginWith<Row>(
  runner: QueryRunner,
  statement: NamedStatement,
  values: readonly SqlValue[],
  plans: TransactionPlans = 'auto',
): Promise<Row[]> {
  if (runner.isTransactionActive) throw new Error(`beginWith(${statement.name}): the query runner is in a transaction already`);
  const client = await pgClientOf(runner, `beginWith(${statement.name})`);
  const name = begunName(statement);
  // Prepared before the transaction's state is taken: a PREPARE that failed inside it would abort it.
  await prepareOnce(client, name, statement.text);
  const sentBegin = await unsent(runner, 'START TRANSACTION', () => runner.startTransaction());
  return executePrepared<Row>(client, name, statement.text, values, { begin: !sentBegin, plans });
}

/**
 * Ends the runner's transaction with `statement`: the statement and COMMIT in one round trip, its
 * rows returned; the runner is then out of its transaction as after TypeORM's `commitTransaction`.
 * If the statement fails PostgreSQL skips the COMMIT: the transaction is aborted, and the caller
 * rolls back through the runner, as after any failed statement (also after a failed COMMIT, where
 * the ROLLBACK only warns). The transaction's plans stay as it began (beginWith's `plans`).
 */
export async function commitWith<Row>(runner: QueryRunner, statement: NamedStatement, values: readonly SqlValue[]): Promise<Row[]> {
  if (!runner.isTransactionActive) throw new Error(`commitWith(${statement.name}): the query runner is not in a transaction`);
  // Inside a nested transaction (a savepoint) TypeORM would release the savepoint: COMMIT would end the outer one.
  if ((runner as unknown as { transactionDepth?: number }).transactionDepth !== 1) {
    throw new Error(`commitWith(${statement.name}): the query runner is in a nested transaction`);
  }
  const client = await pgClientOf(runner, `commitWith(${statement.name})`);
  const rows = await executePrepared<Row>(client, begunName(statement), statement.text, values, { commit: true });
  if (await unsent(runner, 'COMMIT', () => runner.commitTransaction())) {
    throw new Error(`commitWith(${statement.name}): TypeORM sent a COMMIT of its own after the statement's`);
  }
  return rows;
}

/**
 * One of TypeORM's transaction steps on the runner (`startTransaction`, `commitTransaction`: its
 * state, depth and subscribers' events as usual) without sending its `text` (START TRANSACTION,
 * COMMIT), which the caller sends with a statement. Returns whether TypeORM sent something else in
 * its place (another version's text): then the caller must not send its own.
 */
async function unsent(runner: QueryRunner, text: 'START TRANSACTION' | 'COMMIT', step: () => Promise<void>): Promise<boolean> {
  const own = runner as QueryRunner & { query: QueryRunner['query'] };
  const ownQuery = Object.getOwnPropertyDescriptor(runner, 'query');
  const query = runner.query.bind(runner) as (...args: unknown[]) => Promise<unknown>;
  let intercepted = false;
  own.query = ((sent: string, ...rest: unknown[]) => {
    if (sent === text && !intercepted) {
      intercepted = true;
      return Promise.resolve(undefined);
    }
    return query(sent, ...rest);
  }) as QueryRunner['query'];
  try {
    await step();
  } finally {
    // The runner's own `query` again: the prototype's, or the one it had as its own property.
    if (ownQuery) Object.defineProperty(runner, 'query', ownQuery);
    else delete (own as { query?: unknown }).query;
  }
  return !intercepted;
}
