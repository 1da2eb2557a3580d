import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Instrument release tied to a payment (docs/security.md, "Instrument release"): the payments the
 * wallet learns from payments.events.v1, whether each still awaits its charge, and the audit of
 * every release asked for (who, which payment, person, method, when, what was answered).
 */
export class InstrumentReleases1765670400000 implements MigrationInterface {
  name = 'InstrumentReleases1765670400000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE payments_in_progress (
        payment_id text PRIMARY KEY,
        payer_id text,
        payment_method_id text,
        app text,
        stage text NOT NULL CHECK (stage IN ('awaiting_charge', 'past_charge')),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE instrument_releases (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        asked_at timestamptz NOT NULL DEFAULT now(),
        caller text NOT NULL,
        payment_id text NOT NULL,
        person_id text NOT NULL,
        method_id text NOT NULL,
        app text NOT NULL,
        outcome text NOT NULL
      );
      CREATE INDEX instrument_releases_payment ON instrument_releases (payment_id);
      -- A release waiting for a payment the wallet has not read yet is woken at the commit that records it
      -- (the channel as paymentKnownChannel in payments-in-progress/payment-arrivals.ts names it).
      CREATE FUNCTION payments_in_progress_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('payment_known_' || CASE WHEN length(TG_TABLE_SCHEMA) <= 48 THEN TG_TABLE_SCHEMA ELSE md5(TG_TABLE_SCHEMA) END, NEW.payment_id);
        RETURN NULL;
      END
      $$;
      CREATE TRIGGER payments_in_progress_notify AFTER INSERT ON payments_in_progress FOR EACH ROW EXECUTE FUNCTION payments_in_progress_notify();
      CREATE INDEX instrument_releases_person ON instrument_releases (person_id, asked_at);
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE instrument_releases; DROP TABLE payments_in_progress; DROP FUNCTION payments_in_progress_notify();');
  }
}
