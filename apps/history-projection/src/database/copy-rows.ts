import { createHash } from 'node:crypto';
import type { Sql } from '@pay/platform';
import { runnerOf } from '@pay/platform';
import type { ClientBase, Connection, Submittable } from 'pg';
import type { JsonColumn } from './sql';
import { onConflictClause, upsertRows } from './sql';

/**
 * Writes many rows as upsertRows does (same rows, same conflict rule, rows locked in key order),
 * but sends them with COPY into a staging table of the connection and moves them in one
 * `INSERT … SELECT … ON CONFLICT`: PostgreSQL parses each value once with its type's input
 * function instead of one JSON document of every row (its parse and key sort, then
 * `jsonb_to_recordset`, were ~40 % of the rebuild's writing backend in Session 8). The staging
 * table's creation, the COPY with its rows and the move travel together: one round trip, as an
 * upsert takes. Falls back to upsertRows when `sql` has no connection of its own (the pool).
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
  const names = columns.map((c) => c.name);
  const onConflict = onConflictClause(names, conflict);
  // One staging table per column set and connection: temporary, emptied by the statement that
  // reads it (a transaction may copy several batches, the switch's) and at every commit.
  const statements = [
    `CREATE TEMP TABLE IF NOT EXISTS ${stage} (${columns.map((c) => `${c.name} ${c.type}`).join(', ')}) ON COMMIT DELETE ROWS`,
    `COPY ${stage} (${names.join(', ')}) FROM STDIN`,
    `WITH staged AS (DELETE FROM ${stage} RETURNING ${names.join(', ')})
     INSERT INTO ${table} (${names.join(', ')})
     SELECT ${names.join(', ')} FROM staged ORDER BY ${conflict.keys.join(', ')}
     ${onConflict}`,
  ];
  await new Promise<void>((resolve, reject) => {
    void client.query(new CopyWithRows(statements.join(';\n'), Buffer.from(copyText(columns, rows)), (error) => (error ? reject(error) : resolve())));
  });
}

/**
 * A simple-protocol query of several statements, one of them `COPY … FROM STDIN`, sent with the
 * COPY's rows (CopyData, CopyDone) right behind it instead of after PostgreSQL's CopyInResponse.
 * PostgreSQL reads them when its COPY starts; if the query fails before that, it ignores them
 * (copy messages outside a COPY are skipped by the protocol's rules). Ends at ReadyForQuery, or at
 * the first error (PostgreSQL then ends the query; the connection stays usable).
 */
class CopyWithRows implements Submittable {
  private settled = false;

  constructor(
    private readonly text: string,
    private readonly rows: Buffer,
    private readonly done: (error?: Error) => void,
  ) {}

  submit(connection: Connection): void {
    const wire = connection as Connection & { sendCopyFromChunk(chunk: Buffer): void; endCopyFrom(): void };
    wire.query(this.text);
    wire.sendCopyFromChunk(this.rows);
    wire.endCopyFrom();
  }

  // The rows are on their way already; the statements return no rows.
  handleCopyInResponse(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}

  handleError(error: Error): void {
    this.settle(error);
  }

  handleReadyForQuery(): void {
    this.settle();
  }

  private settle(error?: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.done(error);
  }
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
