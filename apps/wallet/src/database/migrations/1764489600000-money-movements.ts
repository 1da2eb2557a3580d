import { LEDGER_SERVICE_ROLE } from '@pay/ledger-store';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the wallet remembers about money movements beside the ledger (docs/adr/0007):
 *
 * - `payment_ledger_postings`: each payment event posted to the ledger (capture, refund, lost
 *   dispute), so that a refund finds its capture, and refunds plus chargebacks never add up to
 *   more than was captured;
 * - `funds_command_answers`: the answer given to each funds command (reserve, post, void), so a
 *   repeated command gets the same answer; `funds_answer_streams` numbers a payment's answers
 *   (the envelope's `sequence` on wallet.events.v1).
 *
 * Rows are only ever inserted (the stream counter excepted).
 */
export class MoneyMovements1764489600000 implements MigrationInterface {
  name = 'MoneyMovements1764489600000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE payment_ledger_postings (
        transaction_id          text        PRIMARY KEY,
        payment_id              text        NOT NULL,
        movement                text        NOT NULL CHECK (movement IN ('capture', 'refund', 'dispute_loss')),
        event_id                uuid        NOT NULL,
        ledger_position         bigint      NOT NULL,
        clearing_account_id     text        NOT NULL,
        counterparty_account_id text        NOT NULL,
        currency                char(3)     NOT NULL,
        amount                  bigint      NOT NULL CHECK (amount > 0),
        fee                     bigint      NOT NULL CHECK (fee >= 0),
        posted_at               timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX payment_ledger_postings_one_capture ON payment_ledger_postings (payment_id) WHERE movement = 'capture';
      CREATE INDEX payment_ledger_postings_payment ON payment_ledger_postings (payment_id);

      CREATE TABLE funds_command_answers (
        command_id  uuid        PRIMARY KEY,
        payment_id  text        NOT NULL,
        command     text        NOT NULL CHECK (command IN ('reserve', 'post', 'void')),
        outcome     text        NOT NULL CHECK (outcome IN ('reserved', 'rejected', 'posted', 'voided')),
        sequence    integer     NOT NULL CHECK (sequence > 0),
        data        jsonb       NOT NULL,
        answered_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (payment_id, sequence)
      );
      CREATE INDEX funds_command_answers_first ON funds_command_answers (payment_id, command, sequence);

      CREATE TABLE funds_answer_streams (
        payment_id    text    PRIMARY KEY,
        last_sequence integer NOT NULL CHECK (last_sequence > 0)
      );
    `);
    // The ledger's migration creates the service role; the service needs these tables too.
    await runner.query(`
      DO $$
      BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${LEDGER_SERVICE_ROLE}') THEN
          GRANT SELECT, INSERT ON payment_ledger_postings, funds_command_answers TO ${LEDGER_SERVICE_ROLE};
          GRANT SELECT, INSERT, UPDATE ON funds_answer_streams TO ${LEDGER_SERVICE_ROLE};
        END IF;
      END $$;
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE IF EXISTS funds_answer_streams, funds_command_answers, payment_ledger_postings');
  }
}
