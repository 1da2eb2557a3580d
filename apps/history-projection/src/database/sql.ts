import type { Sql } from '@pay/platform';

export interface JsonColumn {
  name: string;
  /** The column's PostgreSQL type: a scalar (`text`, `bigint`, `timestamptz`, `jsonb`, …) or a one-dimensional array (`text[]`). */
  type: string;
}

/** A one-dimensional array as PostgreSQL's array literal, sent as one text element of the column's array. */
function arrayLiteral(items: readonly unknown[]): string {
  return `{${items.map((item) => (item === null || item === undefined ? 'NULL' : `"${String(item).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)).join(',')}}`;
}

/**
 * Writes many rows in one statement: each column travels as one array parameter that
 * `unnest` turns back into rows (fewer round trips than one INSERT per row, no parameter limit,
 * and PostgreSQL parses flat arrays, not one JSON document of every row). A column of an array
 * type travels as the text of each row's array. Rows are written in key order, so concurrent
 * writers lock them in the same order.
 */
export async function upsertRows(
  sql: Sql,
  table: string,
  columns: readonly JsonColumn[],
  rows: readonly object[],
  conflict: { keys: readonly string[]; update: 'all' | 'nothing' },
): Promise<void> {
  if (rows.length === 0) return;
  const names = columns.map((c) => c.name);
  const keys = new Set(conflict.keys);
  const onConflict =
    conflict.update === 'nothing'
      ? `ON CONFLICT (${conflict.keys.join(', ')}) DO NOTHING`
      : `ON CONFLICT (${conflict.keys.join(', ')}) DO UPDATE SET ${names
          .filter((n) => !keys.has(n))
          .map((n) => `${n} = EXCLUDED.${n}`)
          .join(', ')}`;
  const records = rows as ReadonlyArray<Record<string, unknown>>;
  const parameters = columns.map(({ name, type }) =>
    type.endsWith('[]')
      ? records.map((r) => (r[name] === null || r[name] === undefined ? null : arrayLiteral(r[name] as unknown[])))
      : records.map((r) => r[name] ?? null),
  );
  const arrays = columns.map((c, i) => `$${i + 1}::${c.type.endsWith('[]') ? 'text' : c.type}[]`);
  const selected = columns.map((c) => (c.type.endsWith('[]') ? `${c.name}::${c.type}` : c.name));
  await sql.query(
    `INSERT INTO ${table} (${names.join(', ')})
     SELECT ${selected.join(', ')} FROM unnest(${arrays.join(', ')}) AS r(${names.join(', ')})
     ORDER BY ${conflict.keys.join(', ')}
     ${onConflict}`,
    parameters,
  );
}
