/** Whatever runs SQL in the caller's transaction (a TypeORM EntityManager or DataSource). */
export interface Sql {
  query<T = unknown>(sql: string, parameters?: unknown[]): Promise<T>;
}

/** TypeORM's `query` answers UPDATE … RETURNING with [rows, count]; SELECT with rows. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
