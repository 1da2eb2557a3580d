import { Injectable } from '@nestjs/common';
import type { BucketTake, Sql } from '@pay/platform';
import { sqlOfPool, takeToken } from '@pay/platform';
import { DataSource } from 'typeorm';

export type { BucketTake } from '@pay/platform';

/**
 * The wallet's token buckets (rate_limit_buckets in its schema), shared by every replica; each
 * take is one statement of its own (`takeToken`).
 */
@Injectable()
export class RateLimitBuckets {
  private readonly sql: Sql;

  constructor(dataSource: DataSource) {
    this.sql = sqlOfPool(dataSource);
  }

  take(bucket: string, perMinute: number, now: Date): Promise<BucketTake> {
    return takeToken(this.sql, bucket, perMinute, now);
  }
}
