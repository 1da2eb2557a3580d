/** Token buckets in PostgreSQL (takeToken): one token or several at once, never more than the bucket holds. */
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import type { Sql } from '@pay/sql';
import { RATE_LIMIT_BUCKETS_TABLE, returnTokensUpdate, takeFromBucket, takeToken } from './token-buckets';

class Buckets1765670400000 implements MigrationInterface {
  name = 'Buckets1765670400000';
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(RATE_LIMIT_BUCKETS_TABLE);
  }
  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE rate_limit_buckets');
  }
}

let schema: TestSchema;
let sql: Sql;

/** The update as intake runs it inside its statement (returnTokensUpdate), here alone. */
const returnTokens = (bucket: string, perMinute: number, count = 1) =>
  sql.query(returnTokensUpdate({ bucket: '$1', perMinute: '$2', count: '$3' }), [bucket, perMinute, count]);

beforeAll(async () => {
  schema = await createTestSchema('it_token_buckets', [Buckets1765670400000], 2);
  sql = { query: (text, parameters) => schema.dataSource.query(text, parameters as unknown[]) };
});

afterAll(async () => {
  await schema?.drop();
});

describe('takeToken', () => {
  const at = new Date('2026-12-06T04:00:00Z');

  it('takes several tokens in one statement, refuses a take larger than what is left, then still gives what is left one by one', async () => {
    // 120 a minute: 120 in a full bucket.
    expect(await takeToken(sql, 'app:a', 120, at, 100)).toEqual({ allowed: true });
    const refused = await takeToken(sql, 'app:a', 120, at, 30);
    expect(refused).toEqual({ allowed: false, retryAfterSeconds: 5 });
    for (let i = 0; i < 20; i += 1) expect(await takeToken(sql, 'app:a', 120, at)).toEqual({ allowed: true });
    expect(await takeToken(sql, 'app:a', 120, at)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    // Two tokens a second come back: a second later, two more.
    const later = new Date(at.getTime() + 1_000);
    expect(await takeToken(sql, 'app:a', 120, later, 2)).toEqual({ allowed: true });
    expect((await takeToken(sql, 'app:a', 120, later)).allowed).toBe(false);
  });

  it('puts back a token taken for what turned out not to need it, never beyond a full bucket', async () => {
    expect(await takeToken(sql, 'payer:b', 3, at, 3)).toEqual({ allowed: true });
    expect((await takeToken(sql, 'payer:b', 3, at)).allowed).toBe(false);
    await returnTokens('payer:b', 3);
    expect(await takeToken(sql, 'payer:b', 3, at)).toEqual({ allowed: true });
    expect((await takeToken(sql, 'payer:b', 3, at)).allowed).toBe(false);
    // A full bucket stays full.
    await returnTokens('payer:b', 3, 10);
    const [{ tokens }] = await sql.query<{ tokens: number }>("SELECT tokens FROM rate_limit_buckets WHERE bucket = 'payer:b'");
    expect(tokens).toBe(3);
  });
});

describe('takeFromBucket (any size and window)', () => {
  const at = new Date('2026-12-06T05:00:00Z');
  const hourly = { size: 5_000, windowSeconds: 3_600 };

  it('takes an amount an hour: refills at size/window a second, says when the rest fits, never takes more than a full bucket', async () => {
    expect(await takeFromBucket(sql, 'amount:usd', hourly, at, 4_000)).toEqual({ allowed: true });
    // 1000 left; 1500 needs 500 more, which come back in 360 s (5000 an hour).
    expect(await takeFromBucket(sql, 'amount:usd', hourly, at, 1_500)).toEqual({ allowed: false, retryAfterSeconds: 360 });
    expect(await takeFromBucket(sql, 'amount:usd', hourly, new Date(at.getTime() + 360_000), 1_500)).toEqual({ allowed: true });
    // More than the bucket ever holds: refused, even full.
    expect(await takeFromBucket(sql, 'amount:eur', hourly, at, 5_001)).toEqual({ allowed: false, retryAfterSeconds: 3_600 });
    expect(await takeFromBucket(sql, 'amount:eur', hourly, at, 5_000)).toEqual({ allowed: true });
  });

  it('never gives more than the bucket holds to concurrent takes', async () => {
    const takes = await Promise.all(Array.from({ length: 10 }, () => takeFromBucket(sql, 'agent:count', { size: 3, windowSeconds: 3_600 }, at)));
    expect(takes.filter((take) => take.allowed)).toHaveLength(3);
    expect(takes.filter((take) => !take.allowed)).toEqual(Array.from({ length: 7 }, () => ({ allowed: false, retryAfterSeconds: 1_200 })));
  });
});
