import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A saved bank account whose debit the payer's bank refused or returned for good (closed, not
 * found, mandate revoked…): `unusable_reason` holds that code (BANK_ACCOUNT_UNUSABLE_CODES in
 * libs/contracts, as of this migration) and `unusable_since` when the wallet learnt it. Such an
 * account is no longer released for payment; its owner replaces it. Null for every usable method.
 */
export class BankAccountUnusable1768891000000 implements MigrationInterface {
  name = 'BankAccountUnusable1768891000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE payment_methods
        ADD COLUMN unusable_reason text CHECK (unusable_reason IN (
          'account_closed', 'no_account', 'invalid_account_number', 'debit_not_authorized', 'account_frozen', 'bank_account_restricted', 'bank_ownership_changed')),
        ADD COLUMN unusable_since timestamptz,
        ADD CONSTRAINT payment_methods_unusable_since CHECK ((unusable_reason IS NULL) = (unusable_since IS NULL)),
        ADD CONSTRAINT payment_methods_unusable_bank_account CHECK (unusable_reason IS NULL OR kind = 'bank_account')
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE payment_methods DROP CONSTRAINT payment_methods_unusable_bank_account, DROP CONSTRAINT payment_methods_unusable_since,
        DROP COLUMN unusable_since, DROP COLUMN unusable_reason`);
  }
}
