import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * History entries say why a payment failed (`failure_code`, an enumerated code: a bank debit's late
 * failure carries the bank's answer). Added to every version's entries table that exists (a new
 * version is created with it), and filled for the failed payments already projected, from their
 * stored facts; a code outside the enumeration of this migration's time is shown as
 * `payment_failed`, as the projection does. Chargebacks of returned debits get theirs at the next
 * rebuild.
 */
export class EntryFailureCode1768891000002 implements MigrationInterface {
  name = 'EntryFailureCode1768891000002';

  async up(runner: QueryRunner): Promise<void> {
    const versions = (await runner.query('SELECT version FROM read_model_versions ORDER BY version')) as Array<{ version: number }>;
    for (const { version } of versions) {
      const [entries, facts] = [`history_entries_v${Number(version)}`, `payment_facts_v${Number(version)}`];
      const [exists] = (await runner.query('SELECT to_regclass($1) IS NOT NULL AS present', [entries])) as Array<{ present: boolean }>;
      if (!exists?.present) continue;
      await runner.query(`ALTER TABLE ${entries} ADD COLUMN IF NOT EXISTS failure_code text`);
      await runner.query(
        `UPDATE ${entries} e
            SET failure_code = CASE WHEN f.facts->'failed'->>'code' = ANY($1::text[]) THEN f.facts->'failed'->>'code' ELSE 'payment_failed' END
           FROM ${facts} f
          WHERE f.payment_id = e.payment_id AND e.entry_id = 'payment:' || e.payment_id AND e.status = 'failed' AND e.failure_code IS NULL
            AND f.facts ? 'failed'`,
        [PAYMENT_FAILURE_CODES_AT_THIS_MIGRATION],
      );
    }
  }

  async down(runner: QueryRunner): Promise<void> {
    const versions = (await runner.query('SELECT version FROM read_model_versions ORDER BY version')) as Array<{ version: number }>;
    for (const { version } of versions) await runner.query(`ALTER TABLE IF EXISTS history_entries_v${Number(version)} DROP COLUMN IF EXISTS failure_code`);
  }
}

/** PAYMENT_FAILURE_CODES (libs/contracts) as they were when this migration was written: a migration does not change with the code. */
const PAYMENT_FAILURE_CODES_AT_THIS_MIGRATION = [
  'insufficient_funds',
  'account_closed',
  'no_account',
  'invalid_account_number',
  'debit_not_authorized',
  'account_frozen',
  'bank_account_restricted',
  'bank_ownership_changed',
  'could_not_process',
  'card_declined',
  'expired_card',
  'incorrect_cvc',
  'processing_error',
  'authentication_required',
  'authentication_failed',
  'payment_intent_authentication_failure',
  'capture_declined',
  'bank_account_unverified',
  'bank_account_needs_resaving',
  'bank_account_unusable',
  'bank_mandate_missing',
  'payment_method_removed',
  'payment_method_not_supported',
  'payment_method_missing',
  'payment_failed',
];
