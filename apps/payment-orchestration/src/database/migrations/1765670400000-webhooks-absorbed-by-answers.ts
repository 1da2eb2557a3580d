import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A webhook that arrives while its payment's step is waiting for the PSP's answer is not applied
 * at once: it carries the same news as that answer. It keeps what would make it news the payment
 * already reflects (the domain's `unchangedWhen`: provider and PaymentIntent, the statuses and
 * amounts the news cannot move), and the answer's append marks it applied (`unchanged`) in the
 * same statement; one not absorbed so is applied by the sweep when due. The partial index finds a
 * payment's webhooks not applied yet. Rows recorded before have no condition: never absorbed.
 */
export class WebhooksAbsorbedByAnswers1765670400000 implements MigrationInterface {
  name = 'WebhooksAbsorbedByAnswers1765670400000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE psp_webhook_events
      ADD COLUMN unchanged_provider text, ADD COLUMN unchanged_reference text, ADD COLUMN unchanged_statuses text[],
      ADD COLUMN unchanged_amount bigint, ADD COLUMN unchanged_captured bigint`);
    await runner.query('CREATE INDEX psp_webhook_events_waiting ON psp_webhook_events (payment_id) WHERE applied_at IS NULL');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX IF EXISTS psp_webhook_events_waiting');
    await runner.query(`ALTER TABLE psp_webhook_events
      DROP COLUMN IF EXISTS unchanged_provider, DROP COLUMN IF EXISTS unchanged_reference, DROP COLUMN IF EXISTS unchanged_statuses,
      DROP COLUMN IF EXISTS unchanged_amount, DROP COLUMN IF EXISTS unchanged_captured`);
  }
}
