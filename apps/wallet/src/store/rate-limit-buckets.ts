import { Injectable } from '@nestjs/common';
import type { BucketTake } from '@pay/platform';
import { takeToken } from '@pay/platform';
import { DataSource } from 'typeorm';

export type { BucketTake } from '@pay/platform';

/**
 * The wallet's token buckets (rate_limit_buckets in its schema), shared by every replica; each
 * take is one statement of its own (`takeToken`).
 */
@Injectable()
export class RateLimitBuckets {
  constructor(private readonly dataSource: DataSource) {}

  take(bucket: string, perMinute: number, now: Date): Promise<BucketTake> {
    return takeToken({ query: (text, parameters) => this.dataSource.query(text, parameters as unknown[]) }, bucket, perMinute, now);
  }
}
