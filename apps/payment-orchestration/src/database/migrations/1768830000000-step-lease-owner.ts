import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `payment_steps.leased_by`: the instance (KAFKA_GROUP_INSTANCE_ID, ADR 0015) whose process holds a
 * step's lease, when that process holds the instance's lock. The instance's next process — the
 * same replica restarted after a crash, the previous one dead since it took the lock — frees those
 * leases at start instead of waiting for them to run out (docs/operations.md, "Crash recovery").
 */
export class StepLeaseOwner1768830000000 implements MigrationInterface {
  name = 'StepLeaseOwner1768830000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE payment_steps ADD COLUMN leased_by text');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE payment_steps DROP COLUMN leased_by');
  }
}
