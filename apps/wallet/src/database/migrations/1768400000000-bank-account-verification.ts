import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A US bank account is verified by micro-deposits before it may be debited: `pending` until the
 * person confirms what they received, `verified` then, `failed` after too many wrong tries. Null
 * for methods that need no verification (cards, PayPal, IBANs); a US account saved before this
 * has null too, and is refused for payment like a pending one.
 */
export class BankAccountVerification1768400000000 implements MigrationInterface {
  name = 'BankAccountVerification1768400000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE payment_methods ADD COLUMN verification text CHECK (verification IN ('pending', 'verified', 'failed'))`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE payment_methods DROP COLUMN verification');
  }
}
