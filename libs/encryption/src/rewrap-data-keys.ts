import type { Sql } from '@pay/sql';
import type { KeyWrapper } from './master-key-ring';

export interface RewrapOptions {
  wrapper: KeyWrapper;
  /** Runs `work` in one database transaction and commits it. */
  inTransaction<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  batchSize?: number;
  onBatch?: (progress: { rewrapped: number }) => void;
}

export interface RewrapResult {
  rewrapped: number;
  /** Data keys still under another master key (held by a concurrent rotation); 0 when done. */
  remaining: number;
}

interface Row {
  id: string;
  master_key_id: string;
  wrapped_key: Buffer;
}

/**
 * Re-wraps every data key that is not under the active master key, in small transactions, while
 * the services keep running: a data key's plaintext never changes, only its wrapping, so readers
 * see either the old or the new wrapping and both unwrap as long as both master keys are
 * configured. Rows are locked with SKIP LOCKED, so two runs can share the work.
 */
export async function rewrapDataKeys(options: RewrapOptions): Promise<RewrapResult> {
  const { wrapper } = options;
  let rewrapped = 0;
  for (;;) {
    const done = await options.inTransaction(async (sql) => {
      const rows = await sql.query<Row>(
        `SELECT id, master_key_id, wrapped_key FROM data_keys
          WHERE master_key_id <> $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [wrapper.activeKeyId, options.batchSize ?? 200],
      );
      for (const row of rows) {
        const key = await wrapper.unwrap(row.id, { masterKeyId: row.master_key_id, wrapped: row.wrapped_key });
        const next = await wrapper.wrap(row.id, key);
        key.fill(0);
        await sql.query('UPDATE data_keys SET master_key_id = $2, wrapped_key = $3, rewrapped_at = now() WHERE id = $1', [
          row.id,
          next.masterKeyId,
          next.wrapped,
        ]);
      }
      return rows.length;
    });
    if (done === 0) break;
    rewrapped += done;
    options.onBatch?.({ rewrapped });
  }
  const remaining = await options.inTransaction(async (sql) =>
    Number((await sql.query<{ n: string }>('SELECT count(*) AS n FROM data_keys WHERE master_key_id <> $1', [wrapper.activeKeyId]))[0]?.n ?? 0),
  );
  return { rewrapped, remaining };
}
