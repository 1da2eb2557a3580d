import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `payment_steps.leased_by`: the instance (KAFKA_GROUP_INSTANCE_ID, ADR 0015) whose process holds a
 * step's lease, when that process holds the instance's lock. Once the holder is dead — the
 * instance's next process took the lock, or no process holds it — a starting process frees those
 * leases instead of waiting for them to run out (docs/operations.md, "Crash recovery").
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
