/**
 * Which hidden values can be computed exactly from what is published.
 *
 * Every published relation "parent = sum of its children" is one linear equation; published
 * cells are constants in it and suppressed cells are the unknowns. An unknown x_i is disclosed
 * exactly when the unit vector e_i lies in the row space of the equations' coefficients over the
 * unknowns — whatever combination of totals and differences an attacker tries. Gauss–Jordan
 * elimination over the integers (exact, BigInt) brings the rows to reduced form, where that is
 * the case precisely when some row has a single non-zero entry.
 */
export type LinearRow = ReadonlyMap<string, number>;

type IntRow = Map<number, bigint>;

export function determinedUnknowns(rows: readonly LinearRow[]): Set<string> {
  const ids = [...new Set(rows.flatMap((row) => [...row.keys()]))].sort();
  const column = new Map(ids.map((id, index) => [id, index]));
  const pivots = new Map<number, IntRow>();

  for (const input of rows) {
    let row: IntRow = new Map();
    for (const [id, coefficient] of input) if (coefficient !== 0) row.set(column.get(id) as number, BigInt(coefficient));
    // Reduce by the pivots found so far; they are zero in each other's pivot columns.
    for (const col of [...row.keys()]) {
      const pivot = pivots.get(col);
      const value = row.get(col);
      if (pivot && value !== undefined) row = combine(row, pivot, col);
    }
    if (row.size === 0) continue;
    const pivotColumn = Math.min(...row.keys());
    for (const [col, other] of pivots) {
      if (other.has(pivotColumn)) pivots.set(col, combine(other, row, pivotColumn));
    }
    pivots.set(pivotColumn, row);
  }

  const determined = new Set<string>();
  for (const [col, row] of pivots) if (row.size === 1) determined.add(ids[col]);
  return determined;
}

/** `a·target − b·pivot`, with a, b chosen to cancel column `col`, divided by the gcd of its entries. */
function combine(target: IntRow, pivot: IntRow, col: number): IntRow {
  const a = pivot.get(col) as bigint;
  const b = target.get(col) as bigint;
  const result: IntRow = new Map();
  for (const [c, v] of target) result.set(c, a * v);
  for (const [c, v] of pivot) {
    const next = (result.get(c) ?? 0n) - b * v;
    if (next === 0n) result.delete(c);
    else result.set(c, next);
  }
  result.delete(col);
  let divisor = 0n;
  for (const v of result.values()) divisor = gcd(divisor, v < 0n ? -v : v);
  if (divisor > 1n) for (const [c, v] of result) result.set(c, v / divisor);
  return result;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}
