import type { Sql } from '../database/sql';

export type BucketTake = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * The table a service keeps its token buckets in (its own schema; one migration per service
 * creates it: bucket text PRIMARY KEY, tokens double precision, refilled_at timestamptz).
 */
export const RATE_LIMIT_BUCKETS_TABLE = `
  CREATE TABLE rate_limit_buckets (
    bucket      text             PRIMARY KEY,
    tokens      double precision NOT NULL,
    refilled_at timestamptz      NOT NULL
  )`;

// Tokens in the bucket at $3: what it held plus the refill since, at most a full bucket ($2 a minute).
const AVAILABLE = 'LEAST($2::double precision, b.tokens + GREATEST(0, EXTRACT(EPOCH FROM ($3::timestamptz - b.refilled_at))) * $2::double precision / 60)';

/**
 * Takes `count` tokens (one by default) from a bucket in PostgreSQL, shared by every replica of a
 * service: `perMinute` tokens at most, refilled at `perMinute` a minute. Taking them is a single
 * upsert, so concurrent requests on any replica never take more than the bucket holds; in a
 * transaction, the bucket's row stays locked (and the tokens taken) until it ends, and a rollback
 * gives them back. A bucket idle for a minute is full again, so its row may be deleted at any time
 * without loosening the limit. A refusal changes nothing.
 */
export async function takeToken(sql: Sql, bucket: string, perMinute: number, now: Date, count = 1): Promise<BucketTake> {
  const taken = await sql.query(
    `INSERT INTO rate_limit_buckets AS b (bucket, tokens, refilled_at) VALUES ($1, $2::double precision - $4, $3)
     ON CONFLICT (bucket) DO UPDATE SET tokens = ${AVAILABLE} - $4, refilled_at = GREATEST(b.refilled_at, $3::timestamptz)
       WHERE ${AVAILABLE} >= $4
     RETURNING b.tokens`,
    [bucket, perMinute, now, count],
  );
  if (taken.length > 0) return { allowed: true };
  const rows = await sql.query<{ available: number }>(`SELECT ${AVAILABLE} AS available FROM rate_limit_buckets b WHERE b.bucket = $1`, [
    bucket,
    perMinute,
    now,
  ]);
  const available = rows[0]?.available ?? 0;
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(((count - available) * 60) / perMinute)) };
}
