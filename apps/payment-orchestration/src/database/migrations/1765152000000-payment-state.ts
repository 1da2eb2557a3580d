import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The payment's current state in its row, written in the same transaction as each append, so a
 * step, a webhook or a refund reads one row instead of replaying the stream. The stream stays the
 * source of truth: `state` is derived (NULL until the payment's next append for rows written
 * before this migration; the store then replays the stream). `correlation_id` is the one of the
 * payment's first event (every later event shares it); `captured_amount` lets a webhook that
 * changes nothing be recognised in the statement that records it.
 */
export class PaymentState1765152000000 implements MigrationInterface {
  name = 'PaymentState1765152000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE payments ADD COLUMN state jsonb, ADD COLUMN correlation_id uuid, ADD COLUMN captured_amount bigint NOT NULL DEFAULT 0');
    await runner.query('UPDATE payments p SET correlation_id = e.correlation_id FROM payment_events e WHERE e.payment_id = p.payment_id AND e.sequence = 1');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE payments DROP COLUMN IF EXISTS state, DROP COLUMN IF EXISTS correlation_id, DROP COLUMN IF EXISTS captured_amount');
  }
}
