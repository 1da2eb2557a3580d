import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Housekeeping of `payments_in_progress` (ForgetFinishedPayments): the rows no instrument release
 * can need any more — past their charge, or without a method (a transfer) — by their last change,
 * so the sweep finds the oldest of them without reading the rows live payments still need.
 */
export class PaymentsInProgressHousekeeping1767500000001 implements MigrationInterface {
  name = 'PaymentsInProgressHousekeeping1767500000001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE INDEX payments_in_progress_finished ON payments_in_progress (updated_at) WHERE stage = 'past_charge' OR payment_method_id IS NULL`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX payments_in_progress_finished');
  }
}
