import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every PSP webhook received, once per provider event id: the deduplication of deliveries
 * (providers deliver at least once, sometimes twice) and the record reconciliation works from.
 * `applied_at` is set when the event has been applied to its payment.
 */
export class PspWebhookEvents1764230400000 implements MigrationInterface {
  name = 'PspWebhookEvents1764230400000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE psp_webhook_events (
        provider       text        NOT NULL,
        event_id       text        NOT NULL,
        event_type     text        NOT NULL,
        object_type    text        NOT NULL,
        object_id      text,
        payment_id     text,
        livemode       boolean     NOT NULL,
        psp_created_at timestamptz NOT NULL,
        payload        jsonb       NOT NULL,
        received_at    timestamptz NOT NULL DEFAULT now(),
        deliveries     integer     NOT NULL DEFAULT 1 CHECK (deliveries >= 1),
        applied_at     timestamptz,
        PRIMARY KEY (provider, event_id)
      )`);
    await runner.query('CREATE INDEX psp_webhook_events_unapplied ON psp_webhook_events (received_at) WHERE applied_at IS NULL');
    await runner.query('CREATE INDEX psp_webhook_events_object ON psp_webhook_events (provider, object_id)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE IF EXISTS psp_webhook_events');
  }
}
