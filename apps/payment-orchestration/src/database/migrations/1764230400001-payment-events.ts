import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The payment aggregates' event streams: the source of truth of every payment. One row per
 * event; (payment_id, sequence) is unique, so of two writers that read the same version only one
 * can append (optimistic concurrency). Append-only: the database refuses UPDATE, DELETE and
 * TRUNCATE, as for the ledger journal.
 */
export class PaymentEvents1764230400001 implements MigrationInterface {
  name = 'PaymentEvents1764230400001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE payment_events (
        payment_id     text        NOT NULL,
        sequence       integer     NOT NULL CHECK (sequence >= 1),
        event_id       uuid        NOT NULL UNIQUE,
        type           text        NOT NULL,
        data           jsonb       NOT NULL,
        correlation_id uuid        NOT NULL,
        causation_id   uuid,
        occurred_at    timestamptz NOT NULL,
        PRIMARY KEY (payment_id, sequence)
      )`);
    await runner.query(`
      CREATE FUNCTION payment_events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'payment_events is append-only: % is not allowed', TG_OP USING ERRCODE = 'restrict_violation';
      END $$`);
    await runner.query(
      'CREATE TRIGGER payment_events_no_change BEFORE UPDATE OR DELETE ON payment_events FOR EACH ROW EXECUTE FUNCTION payment_events_are_append_only()',
    );
    await runner.query(
      'CREATE TRIGGER payment_events_no_truncate BEFORE TRUNCATE ON payment_events FOR EACH STATEMENT EXECUTE FUNCTION payment_events_are_append_only()',
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE IF EXISTS payment_events');
    await runner.query('DROP FUNCTION IF EXISTS payment_events_are_append_only()');
  }
}
