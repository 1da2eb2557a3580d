import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export type BucketTake = { allowed: true } | { allowed: false; retryAfterSeconds: number };

// Tokens in the bucket at $3: what it held plus the refill since, at most a full bucket ($2 a minute).
const AVAILABLE = 'LEAST($2::double precision, b.tokens + GREATEST(0, EXTRACT(EPOCH FROM ($3::timestamptz - b.refilled_at))) * $2::double precision / 60)';

/**
 * Token buckets in PostgreSQL, shared by every wallet replica: `perMinute` tokens at most,
 * refilled at `perMinute` a minute. Taking one is a single upsert, so concurrent requests on
 * any replica never take more than the bucket holds. A bucket idle for a minute is full again,
 * so its row may be deleted at any time without loosening the limit.
 */
@Injectable()
export class RateLimitBuckets {
  constructor(private readonly dataSource: DataSource) {}

  async take(bucket: string, perMinute: number, now: Date): Promise<BucketTake> {
    const taken: unknown[] = await this.dataSource.query(
      `INSERT INTO rate_limit_buckets AS b (bucket, tokens, refilled_at) VALUES ($1, $2::double precision - 1, $3)
       ON CONFLICT (bucket) DO UPDATE SET tokens = ${AVAILABLE} - 1, refilled_at = GREATEST(b.refilled_at, $3::timestamptz)
         WHERE ${AVAILABLE} >= 1
       RETURNING b.tokens`,
      [bucket, perMinute, now],
    );
    if (taken.length > 0) return { allowed: true };
    const rows: { available: number }[] = await this.dataSource.query(`SELECT ${AVAILABLE} AS available FROM rate_limit_buckets b WHERE b.bucket = $1`, [
      bucket,
      perMinute,
      now,
    ]);
    const available = rows[0]?.available ?? 0;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(((1 - available) * 60) / perMinute)) };
  }
}
