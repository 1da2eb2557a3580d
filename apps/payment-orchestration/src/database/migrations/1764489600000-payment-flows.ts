import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What driving payments needs beside their event streams:
 * - `idempotency_keys`: the first answer to each key with the hash of its request (both intake
 *   doors share the `payment-request` scope; refunds use `refund:<payment id>`);
 * - `payments`: one row per payment, kept by the event store in the same transaction as each
 *   append — the lookup of a provider reference (PaymentIntent id -> payment id, for disputes) and
 *   of payments stuck in a non-final status (reconciliation);
 * - `payment_steps`: the next thing a payment waits for (a PSP call, a reservation deadline),
 *   leased by one worker at a time, so a crash resumes the work instead of forgetting it;
 * - `psp_refunds`: the provider's refund id of each of our refunds (reconciliation reads it);
 * - `funds_commands`: the commands sent to the wallet per payment (their ids are reused on
 *   re-sends, so the wallet applies each once);
 * - `wallet_holders`, `wallet_methods`: the read model of wallet.events.v1 the checks use;
 * - `step_up_proofs_used`: each step-up proof pays once.
 */
export class PaymentFlows1764489600000 implements MigrationInterface {
  name = 'PaymentFlows1764489600000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE idempotency_keys (
        scope           text        NOT NULL,
        key             text        NOT NULL,
        request_hash    text        NOT NULL,
        resource_id     text        NOT NULL,
        response_status integer     NOT NULL,
        response_body   jsonb       NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scope, key)
      )`);
    await runner.query(`
      CREATE TABLE payments (
        payment_id        text        PRIMARY KEY,
        request_id        uuid        NOT NULL UNIQUE,
        kind              text        NOT NULL,
        status            text        NOT NULL,
        payer_id          text        NOT NULL,
        counterparty_id   text        NOT NULL,
        amount            bigint      NOT NULL CHECK (amount > 0),
        currency          char(3)     NOT NULL,
        provider          text,
        reference         text,
        pending_refunds   integer     NOT NULL DEFAULT 0,
        version           integer     NOT NULL,
        created_at        timestamptz NOT NULL,
        updated_at        timestamptz NOT NULL
      )`);
    await runner.query('CREATE UNIQUE INDEX payments_reference ON payments (provider, reference) WHERE reference IS NOT NULL');
    await runner.query(
      "CREATE INDEX payments_open ON payments (updated_at) WHERE status IN ('initiated', 'requires_action', 'authorized') OR pending_refunds > 0",
    );
    await runner.query(`
      CREATE TABLE payment_steps (
        payment_id  text        NOT NULL,
        step        text        NOT NULL,
        due_at      timestamptz NOT NULL,
        attempts    integer     NOT NULL DEFAULT 0,
        lease_until timestamptz,
        last_error  text,
        created_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (payment_id, step)
      )`);
    await runner.query('CREATE INDEX payment_steps_due ON payment_steps (due_at)');
    await runner.query(`
      CREATE TABLE psp_refunds (
        provider      text NOT NULL,
        psp_refund_id text NOT NULL,
        payment_id    text NOT NULL,
        refund_id     text NOT NULL,
        PRIMARY KEY (provider, psp_refund_id),
        UNIQUE (payment_id, refund_id)
      )`);
    await runner.query(`
      CREATE TABLE funds_commands (
        command_id uuid        PRIMARY KEY,
        payment_id text        NOT NULL,
        sequence   integer     NOT NULL CHECK (sequence >= 1),
        type       text        NOT NULL,
        envelope   jsonb       NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (payment_id, sequence)
      )`);
    await runner.query(`
      CREATE TABLE wallet_holders (
        person_id           text        PRIMARY KEY,
        country             char(2),
        apps                text[]      NOT NULL DEFAULT '{}',
        preferred_method_id uuid,
        sequence            integer     NOT NULL,
        updated_at          timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`
      CREATE TABLE wallet_methods (
        method_id  uuid        PRIMARY KEY,
        person_id  text        NOT NULL,
        kind       text,
        removed    boolean     NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query('CREATE INDEX wallet_methods_person ON wallet_methods (person_id)');
    await runner.query(`
      CREATE TABLE step_up_proofs_used (
        proof_id   text        PRIMARY KEY,
        payment_id text        NOT NULL,
        expires_at timestamptz NOT NULL
      )`);
    // Why a webhook was or was not applied (applied, unchanged, conflict, unmatched, ignored).
    await runner.query('ALTER TABLE psp_webhook_events ADD COLUMN outcome text');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE psp_webhook_events DROP COLUMN IF EXISTS outcome');
    await runner.query(
      'DROP TABLE IF EXISTS step_up_proofs_used, wallet_methods, wallet_holders, funds_commands, psp_refunds, payment_steps, payments, idempotency_keys',
    );
  }
}
