import type { Sql } from '@pay/sql';

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

/** Tokens in the bucket at `now`: what it held plus the refill since, at most a full bucket (`size` every `windowSeconds`). */
const available = (size: string, now: string, windowSeconds = '60'): string =>
  `LEAST(${size}::double precision, b.tokens + GREATEST(0, EXTRACT(EPOCH FROM (${now}::timestamptz - b.refilled_at))) * ${size}::double precision / ${windowSeconds}::double precision)`;

/** Statement placeholders ($n) of a take: the bucket, its size a minute, the time and how many tokens. */
export interface TokenTakePlaceholders {
  readonly bucket: string;
  readonly perMinute: string;
  readonly now: string;
  readonly count: string;
  /** Seconds in which an empty bucket fills again (a literal or placeholder; default 60: `perMinute` a minute). */
  readonly windowSeconds?: string;
}

/**
 * A take from several buckets at once: `bucket` may name a column of `from`, whose rows must name
 * each bucket at most once (an upsert touches a row once); `count` stays a literal or placeholder.
 */
export interface TokenTakeFrom extends TokenTakePlaceholders {
  /** The FROM clause of the rows to take for (e.g. `r JOIN claim USING (key)`). */
  readonly from?: string;
  /** What the upsert returns (default the tokens left). */
  readonly returning?: string;
}

/**
 * The upsert that takes tokens, for a statement that does more (as a CTE): one row returned when
 * they were taken, none when the bucket holds too few (it is then left as it was). `onlyIf`: a
 * condition (SQL) without which nothing is taken (e.g. that another CTE wrote its row).
 */
export function takeTokensUpsert(p: TokenTakeFrom, onlyIf?: string): string {
  const held = available(p.perMinute, p.now, p.windowSeconds);
  return `INSERT INTO rate_limit_buckets AS b (bucket, tokens, refilled_at)
     SELECT ${p.bucket}::text, ${p.perMinute}::double precision - ${p.count}, ${p.now}::timestamptz${
       p.from
         ? `
       FROM ${p.from}`
         : ''
     }
       WHERE ${p.count} <= ${p.perMinute}::double precision${onlyIf ? ` AND (${onlyIf})` : ''}
     ON CONFLICT (bucket) DO UPDATE SET tokens = ${held} - ${p.count}, refilled_at = GREATEST(b.refilled_at, ${p.now}::timestamptz)
       WHERE ${held} >= ${p.count}
     RETURNING ${p.returning ?? 'b.tokens'}`;
}

/**
 * Takes `count` tokens (one by default) from a bucket in PostgreSQL, shared by every replica of a
 * service: `perMinute` tokens at most, refilled at `perMinute` a minute. Taking them is a single
 * upsert, so concurrent requests on any replica never take more than the bucket holds; in a
 * transaction, the bucket's row stays locked (and the tokens taken) until it ends, and a rollback
 * gives them back. A bucket idle for a minute is full again, so its row may be deleted at any time
 * without loosening the limit. A refusal changes nothing.
 */
export async function takeToken(sql: Sql, bucket: string, perMinute: number, now: Date, count = 1): Promise<BucketTake> {
  return takeFromBucket(sql, bucket, { size: perMinute, windowSeconds: 60 }, now, count);
}

/** A bucket of `size` tokens that fills again from empty in `windowSeconds` (at `size / windowSeconds` a second). */
export interface BucketLimit {
  readonly size: number;
  readonly windowSeconds: number;
}

/**
 * Takes `count` tokens as `takeToken` does, from a bucket of any size and window (e.g. an amount
 * an hour: `count` is then the amount). A bucket idle for its window is full again, so its row may
 * be deleted after that long without loosening the limit.
 */
export async function takeFromBucket(sql: Sql, bucket: string, limit: BucketLimit, now: Date, count = 1): Promise<BucketTake> {
  const taken = await sql.query(takeTokensUpsert({ bucket: '$1', perMinute: '$2', now: '$3', count: '$4', windowSeconds: '$5' }), [
    bucket,
    limit.size,
    now,
    count,
    limit.windowSeconds,
  ]);
  if (taken.length > 0) return { allowed: true };
  return refusedFromBucket(sql, bucket, limit, now, count);
}

/** The refusal of a take that found too few tokens: when to ask again. */
export async function refusedTake(sql: Sql, bucket: string, perMinute: number, now: Date, count = 1): Promise<BucketTake> {
  return refusedFromBucket(sql, bucket, { size: perMinute, windowSeconds: 60 }, now, count);
}

async function refusedFromBucket(sql: Sql, bucket: string, limit: BucketLimit, now: Date, count: number): Promise<BucketTake> {
  const rows = await sql.query<{ available: number }>(`SELECT ${available('$2', '$3', '$4')} AS available FROM rate_limit_buckets b WHERE b.bucket = $1`, [
    bucket,
    limit.size,
    now,
    limit.windowSeconds,
  ]);
  const left = rows[0]?.available ?? 0;
  // More than a full bucket never fits: after a full window it is as full as it gets.
  if (count > limit.size) return { allowed: false, retryAfterSeconds: limit.windowSeconds };
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(((count - left) * limit.windowSeconds) / limit.size)) };
}

/**
 * The update that puts back tokens taken in this transaction for something that turned out not to
 * need them (a replay, found after the take): the bucket is as if they had not been taken. Part of
 * a statement that does more (as a CTE; add conditions with AND).
 */
export function returnTokensUpdate(p: Omit<TokenTakePlaceholders, 'now'>): string {
  return `UPDATE rate_limit_buckets SET tokens = LEAST(${p.perMinute}::double precision, tokens + ${p.count}) WHERE bucket = ${p.bucket}`;
}
