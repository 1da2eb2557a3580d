import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Bank debits (docs/adr/0007, "Bank debits"): a debit on its way is posted to the pending layer
 * (`debit_pending`), and a late failure reverses it (`debit_failed`); the settled debit is the
 * payment's `capture`, as before.
 */
export class BankDebitPostings1765584000000 implements MigrationInterface {
  name = 'BankDebitPostings1765584000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE payment_ledger_postings DROP CONSTRAINT payment_ledger_postings_movement_check;
      ALTER TABLE payment_ledger_postings ADD CONSTRAINT payment_ledger_postings_movement_check
        CHECK (movement IN ('capture', 'refund', 'dispute_loss', 'debit_pending', 'debit_failed'));
      CREATE UNIQUE INDEX payment_ledger_postings_one_debit ON payment_ledger_postings (payment_id, movement) WHERE movement IN ('debit_pending', 'debit_failed');
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      DROP INDEX payment_ledger_postings_one_debit;
      ALTER TABLE payment_ledger_postings DROP CONSTRAINT payment_ledger_postings_movement_check;
      ALTER TABLE payment_ledger_postings ADD CONSTRAINT payment_ledger_postings_movement_check CHECK (movement IN ('capture', 'refund', 'dispute_loss'));
    `);
  }
}
