import type { Sql } from '@pay/platform';

export interface JsonColumn {
  name: string;
  type: string;
}

/**
 * Writes many rows in one statement: the rows travel as one JSON array that PostgreSQL turns
 * back into a record set (fewer round trips than one INSERT per row, no parameter limit).
 * Rows are written in key order, so concurrent writers lock them in the same order.
 */
export async function upsertRows(
  sql: Sql,
  table: string,
  columns: readonly JsonColumn[],
  rows: readonly object[],
  conflict: { keys: readonly string[]; update: 'all' | 'nothing' },
): Promise<void> {
  if (rows.length === 0) return;
  await sql.query(upsertRowsSql(table, columns, conflict, 1), [JSON.stringify(rows)]);
}

/** The ON CONFLICT clause of an upsert: nothing on a conflict, or every column but the keys from the row proposed. */
export function onConflictClause(names: readonly string[], conflict: { keys: readonly string[]; update: 'all' | 'nothing' }): string {
  const keys = new Set(conflict.keys);
  return conflict.update === 'nothing'
    ? `ON CONFLICT (${conflict.keys.join(', ')}) DO NOTHING`
    : `ON CONFLICT (${conflict.keys.join(', ')}) DO UPDATE SET ${names
        .filter((n) => !keys.has(n))
        .map((n) => `${n} = EXCLUDED.${n}`)
        .join(', ')}`;
}

/** The statement of upsertRows, its rows in parameter `$parameter`, filtered by `where` (also a data-modifying CTE of a larger statement). */
export function upsertRowsSql(
  table: string,
  columns: readonly JsonColumn[],
  conflict: { keys: readonly string[]; update: 'all' | 'nothing' },
  parameter: number,
  where = '',
): string {
  const names = columns.map((c) => c.name);
  const onConflict = onConflictClause(names, conflict);
  const filter = where ? `\n     WHERE ${where}` : '';
  return `INSERT INTO ${table} (${names.join(', ')})
     SELECT ${names.join(', ')} FROM jsonb_to_recordset($${parameter}::jsonb) AS r(${columns.map((c) => `${c.name} ${c.type}`).join(', ')})${filter}
     ORDER BY ${conflict.keys.join(', ')}
     ${onConflict}`;
}
