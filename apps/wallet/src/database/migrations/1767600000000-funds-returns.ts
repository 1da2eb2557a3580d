import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Refunds of person-to-person payments: the wallet answers a `return` command (the recipient
 * gives a posted transfer back, in part or whole) with `returned` or `rejected`. Several returns
 * may follow one payment (partial refunds), each answered once by its command id.
 */
export class FundsReturns1767600000000 implements MigrationInterface {
  name = 'FundsReturns1767600000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE funds_command_answers DROP CONSTRAINT funds_command_answers_command_check,
        ADD CONSTRAINT funds_command_answers_command_check CHECK (command IN ('reserve', 'post', 'void', 'return'));
      ALTER TABLE funds_command_answers DROP CONSTRAINT funds_command_answers_outcome_check,
        ADD CONSTRAINT funds_command_answers_outcome_check CHECK (outcome IN ('reserved', 'rejected', 'posted', 'voided', 'returned'))`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE funds_command_answers DROP CONSTRAINT funds_command_answers_command_check,
        ADD CONSTRAINT funds_command_answers_command_check CHECK (command IN ('reserve', 'post', 'void'));
      ALTER TABLE funds_command_answers DROP CONSTRAINT funds_command_answers_outcome_check,
        ADD CONSTRAINT funds_command_answers_outcome_check CHECK (outcome IN ('reserved', 'rejected', 'posted', 'voided'))`);
  }
}
