import { RATE_LIMIT_BUCKETS_TABLE } from '@pay/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Abuse limits of payment creation (docs/security.md): the token buckets of the HTTP door (per
 * payer and per caller, shared by every replica), and per payer and currency what was accepted
 * without a step-up proof since the last one (cumulative step-up). A row of
 * step_up_allowances is locked by the transaction that accepts a payment, so parallel payments
 * of one payer are counted one after the other.
 */
export class PaymentAbuseLimits1765411200000 implements MigrationInterface {
  name = 'PaymentAbuseLimits1765411200000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(RATE_LIMIT_BUCKETS_TABLE);
    await runner.query(`
      CREATE TABLE step_up_allowances (
        payer_id             text        NOT NULL,
        currency             char(3)     NOT NULL,
        unconfirmed_payments integer     NOT NULL DEFAULT 0 CHECK (unconfirmed_payments >= 0),
        unconfirmed_amount   bigint      NOT NULL DEFAULT 0 CHECK (unconfirmed_amount >= 0),
        updated_at           timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (payer_id, currency)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE IF EXISTS step_up_allowances; DROP TABLE IF EXISTS rate_limit_buckets');
  }
}
