import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When a webhook not applied yet is looked at again, so the sweep sleeps until then instead of
 * polling. `next_attempt_at` is set when the webhook is recorded (a crash before applying it
 * leaves it due a few seconds later) and pushed back with `attempts` each time its payment is
 * still unknown; NULL once applied, or once given up (outcome `unmatched`, for reconciliation and
 * an operator). The column default covers rows recorded by the previous version during a rollout.
 */
export class PspWebhookRetries1765238400000 implements MigrationInterface {
  name = 'PspWebhookRetries1765238400000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      "ALTER TABLE psp_webhook_events ADD COLUMN attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0), ADD COLUMN next_attempt_at timestamptz DEFAULT now() + interval '5 seconds'",
    );
    await runner.query("UPDATE psp_webhook_events SET next_attempt_at = CASE WHEN applied_at IS NULL THEN received_at + interval '5 seconds' END");
    await runner.query('DROP INDEX IF EXISTS psp_webhook_events_unapplied');
    await runner.query('CREATE INDEX psp_webhook_events_due ON psp_webhook_events (next_attempt_at) WHERE applied_at IS NULL');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX IF EXISTS psp_webhook_events_due');
    await runner.query('ALTER TABLE psp_webhook_events DROP COLUMN IF EXISTS next_attempt_at, DROP COLUMN IF EXISTS attempts');
    await runner.query('CREATE INDEX IF NOT EXISTS psp_webhook_events_unapplied ON psp_webhook_events (received_at) WHERE applied_at IS NULL');
  }
}
