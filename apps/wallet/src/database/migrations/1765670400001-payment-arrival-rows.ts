import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A payment's arrival in `payments_in_progress` is announced with its row (JSON: paymentId,
 * payerId, paymentMethodId, app, stage), so an instrument release that waits for it has what it
 * needs without reading it again (PaymentArrivals); the listener still reads a bare id.
 */
export class PaymentArrivalRows1765670400001 implements MigrationInterface {
  name = 'PaymentArrivalRows1765670400001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE OR REPLACE FUNCTION payments_in_progress_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('payment_known_' || CASE WHEN length(TG_TABLE_SCHEMA) <= 48 THEN TG_TABLE_SCHEMA ELSE md5(TG_TABLE_SCHEMA) END,
          json_build_object('paymentId', NEW.payment_id, 'payerId', NEW.payer_id, 'paymentMethodId', NEW.payment_method_id, 'app', NEW.app, 'stage', NEW.stage)::text);
        RETURN NULL;
      END
      $$`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE OR REPLACE FUNCTION payments_in_progress_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('payment_known_' || CASE WHEN length(TG_TABLE_SCHEMA) <= 48 THEN TG_TABLE_SCHEMA ELSE md5(TG_TABLE_SCHEMA) END, NEW.payment_id);
        RETURN NULL;
      END
      $$`);
  }
}
