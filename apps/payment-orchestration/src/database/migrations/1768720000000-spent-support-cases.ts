import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Support's case references already used (docs/security.md, "Support's refunds"): a case is good
 * for the one refund request support made with it, so a copy presented again — also after the
 * conversation closed — is refused. A row is needed only until the case expires.
 */
export class SpentSupportCases1768720000000 implements MigrationInterface {
  name = 'SpentSupportCases1768720000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE spent_support_cases (
        case_id uuid PRIMARY KEY,
        expires_at timestamptz NOT NULL
      )`);
    await runner.query('CREATE INDEX spent_support_cases_expiry ON spent_support_cases (expires_at)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE spent_support_cases');
  }
}
