import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Privacy budgets are kept per advertiser organisation (the token's `org` claim), no longer per
 * token subject: several users of one organisation share one budget. Rows spent before this
 * migration stay under the subject that spent them (an id no organisation uses), so no ε already
 * spent is handed back to anyone by a rename.
 */
export class BudgetsPerOrganisation1765324800000 implements MigrationInterface {
  name = 'BudgetsPerOrganisation1765324800000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE advertiser_budgets RENAME COLUMN advertiser TO organisation;
      ALTER TABLE advertiser_budget_charges RENAME COLUMN advertiser TO organisation;
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE advertiser_budget_charges RENAME COLUMN organisation TO advertiser;
      ALTER TABLE advertiser_budgets RENAME COLUMN organisation TO advertiser;
    `);
  }
}
