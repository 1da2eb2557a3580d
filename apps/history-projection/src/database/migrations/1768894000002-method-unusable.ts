import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * History's copy of saved methods says when the wallet marked a bank account unusable
 * (`wallet.payment-method.marked-unusable`): `unusable_reason` (the bank's code) and
 * `unusable_since`. Added to every version's methods table that exists (a new version is created
 * with them); filled by the events themselves, among them those the wallet publishes for the
 * accounts it marked before it told anyone (its migration 1768894000010).
 */
export class MethodUnusable1768894000002 implements MigrationInterface {
  name = 'MethodUnusable1768894000002';

  async up(runner: QueryRunner): Promise<void> {
    const versions = (await runner.query('SELECT version FROM read_model_versions ORDER BY version')) as Array<{ version: number }>;
    for (const { version } of versions) {
      await runner.query(
        `ALTER TABLE IF EXISTS payment_methods_v${Number(version)} ADD COLUMN IF NOT EXISTS unusable_reason text, ADD COLUMN IF NOT EXISTS unusable_since timestamptz`,
      );
    }
  }

  async down(runner: QueryRunner): Promise<void> {
    const versions = (await runner.query('SELECT version FROM read_model_versions ORDER BY version')) as Array<{ version: number }>;
    for (const { version } of versions) {
      await runner.query(
        `ALTER TABLE IF EXISTS payment_methods_v${Number(version)} DROP COLUMN IF EXISTS unusable_reason, DROP COLUMN IF EXISTS unusable_since`,
      );
    }
  }
}
