import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Sql } from '@pay/platform';
import { runnerOf } from '@pay/platform';
import type { ClientBase } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { JsonColumn } from './sql';
import { upsertRows } from './sql';

/**
 * Writes many rows as upsertRows does (same rows, same conflict rule, rows locked in key order),
 * but sends them with COPY into a staging table of the connection and moves them in one
 * `INSERT … SELECT … ON CONFLICT`: PostgreSQL parses each value once with its type's input
 * function instead of one JSON document of every row (its parse and key sort, then
 * `jsonb_to_recordset`, were ~40 % of the rebuild's writing backend in Session 8). For large
 * batches (the rebuild's): COPY and the move take three round trips where an upsert takes one.
 * Falls back to upsertRows when `sql` has no connection of its own (the pool).
 */
export async function copyRows(
  sql: Sql,
  table: string,
  columns: readonly JsonColumn[],
  rows: readonly object[],
  conflict: { keys: readonly string[]; update: 'all' | 'nothing' },
): Promise<void> {
  if (rows.length === 0) return;
  const client = clientOf(sql);
  if (!client) return upsertRows(sql, table, columns, rows, conflict);
  const stage = stagingTable(columns);
  if (!staged.get(sql)?.has(stage)) await stageCopies(sql, [columns]);
  const names = columns.map((c) => c.name);
  await pipeline(Readable.from([copyText(columns, rows)]), client.query(copyFrom(`COPY ${stage} (${names.join(', ')}) FROM STDIN`)));
  const keys = new Set(conflict.keys);
  const onConflict =
    conflict.update === 'nothing'
      ? `ON CONFLICT (${conflict.keys.join(', ')}) DO NOTHING`
      : `ON CONFLICT (${conflict.keys.join(', ')}) DO UPDATE SET ${names
          .filter((n) => !keys.has(n))
          .map((n) => `${n} = EXCLUDED.${n}`)
          .join(', ')}`;
  // Emptied by the statement that reads it (a transaction may copy several batches, the switch's)
  // and at every commit.
  await sql.query(
    `WITH staged AS (DELETE FROM ${stage} RETURNING ${names.join(', ')})
     INSERT INTO ${table} (${names.join(', ')})
     SELECT ${names.join(', ')} FROM staged ORDER BY ${conflict.keys.join(', ')}
     ${onConflict}`,
  );
}

/** Staging tables known to exist in the transaction of an Sql (inTransaction makes one Sql per transaction). */
const staged = new WeakMap<Sql, Set<string>>();

/**
 * Creates, in one round trip with `alongside` (statements without parameters, e.g. `SET LOCAL …`),
 * the staging tables copyRows needs for these column sets: one per column set and connection,
 * temporary, emptied at every commit. copyRows in the same transaction (the same Sql) then skips
 * creating them; on a busy machine every round trip waits for both processes to be scheduled.
 */
export async function stageCopies(sql: Sql, columnSets: ReadonlyArray<readonly JsonColumn[]>, alongside: readonly string[] = []): Promise<void> {
  const client = clientOf(sql);
  const stages = columnSets.map((columns) => ({ name: stagingTable(columns), columns }));
  const creates = stages.map(
    ({ name, columns }) => `CREATE TEMP TABLE IF NOT EXISTS ${name} (${columns.map((c) => `${c.name} ${c.type}`).join(', ')}) ON COMMIT DELETE ROWS`,
  );
  if (!client) {
    for (const statement of alongside) await sql.query(statement);
    return;
  }
  // One simple-protocol query of several statements (no parameters), on the transaction's client.
  await client.query([...alongside, ...creates].join(';\n'));
  const known = staged.get(sql) ?? new Set<string>();
  for (const { name } of stages) known.add(name);
  staged.set(sql, known);
}

/** The pg client behind an Sql made on one query runner (a transaction's), if it has connected. */
function clientOf(sql: Sql): ClientBase | undefined {
  const runner = runnerOf(sql) as { databaseConnection?: ClientBase } | undefined;
  const client = runner?.databaseConnection;
  return typeof client?.query === 'function' ? client : undefined;
}

const stagingTables = new Map<string, string>();
function stagingTable(columns: readonly JsonColumn[]): string {
  const shape = columns.map((c) => `${c.name} ${c.type}`).join(',');
  let name = stagingTables.get(shape);
  if (name === undefined) {
    name = `copy_stage_${createHash('sha256').update(shape).digest('hex').slice(0, 16)}`;
    stagingTables.set(shape, name);
  }
  return name;
}

/**
 * The rows in COPY's text format: a line per row, values separated by tabs, `\N` for null or
 * missing (as jsonb_to_recordset reads a missing key), jsonb columns as JSON text. Backslash,
 * tab, newline and carriage return are escaped; everything else is taken as it is.
 */
export function copyText(columns: readonly JsonColumn[], rows: readonly object[]): string {
  const names = columns.map((c) => c.name);
  const kinds = columns.map((c) => {
    if (c.type === 'jsonb' || c.type === 'json') return 'json';
    if (c.type.endsWith('[]')) throw new Error(`copyRows: array column ${c.name} (${c.type}) is not supported`);
    return 'scalar';
  });
  let text = '';
  for (const row of rows) {
    const record = row as Record<string, unknown>;
    let line = '';
    for (let i = 0; i < names.length; i += 1) {
      const value = record[names[i]];
      if (i > 0) line += '\t';
      if (value === null || value === undefined) line += '\\N';
      else if (kinds[i] === 'json') line += escapeCopy(JSON.stringify(value));
      else if (typeof value === 'string') line += escapeCopy(value);
      else if (typeof value === 'number' || typeof value === 'bigint') line += String(value);
      else if (typeof value === 'boolean') line += value ? 't' : 'f';
      else throw new Error(`copyRows: column ${names[i]} holds a ${typeof value}, not a scalar`);
    }
    text += `${line}\n`;
  }
  return text;
}

const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPED = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escapeCopy(value: string): string {
  return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPED, (c) => ESCAPES[c]) : value;
}
