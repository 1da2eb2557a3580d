import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Escalating PIN locks (how many locks since the last right PIN; blocked until re-verified) and
 * the token buckets that rate-limit PIN and step-up attempts, shared by every wallet replica.
 */
export class PinAbuseLimits1765324800000 implements MigrationInterface {
  name = 'PinAbuseLimits1765324800000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE pin_credentials
        ADD COLUMN lock_count integer     NOT NULL DEFAULT 0 CHECK (lock_count >= 0),
        ADD COLUMN blocked_at timestamptz;
      CREATE TABLE rate_limit_buckets (
        bucket      text             PRIMARY KEY,
        tokens      double precision NOT NULL,
        refilled_at timestamptz      NOT NULL
      );
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(
      'DROP TABLE IF EXISTS rate_limit_buckets; ALTER TABLE pin_credentials DROP COLUMN IF EXISTS lock_count, DROP COLUMN IF EXISTS blocked_at',
    );
  }
}
