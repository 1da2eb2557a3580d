import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `payments_open` left out `processing` (a bank debit on its way for days), which reconciliation
 * and the sweep of stuck payments select with the other open statuses: a partial index whose
 * predicate does not imply the query's is never used, so every run read the whole table. Built
 * concurrently would need a migration outside a transaction; the table is small where this runs
 * first, and the index is rebuilt under the same name.
 */
export class OpenPaymentsProcessing1765584000001 implements MigrationInterface {
  name = 'OpenPaymentsProcessing1765584000001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX IF EXISTS payments_open');
    await runner.query(
      "CREATE INDEX payments_open ON payments (updated_at) WHERE status IN ('initiated', 'requires_action', 'authorized', 'processing') OR pending_refunds > 0",
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX IF EXISTS payments_open');
    await runner.query(
      "CREATE INDEX payments_open ON payments (updated_at) WHERE status IN ('initiated', 'requires_action', 'authorized') OR pending_refunds > 0",
    );
  }
}
