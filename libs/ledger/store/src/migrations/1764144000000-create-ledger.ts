import type { MigrationInterface, QueryRunner } from 'typeorm';
import { OUTBOX_TABLE_SQL } from '@pay/messaging';

/** The role the wallet service runs as in production. It may read and append; never rewrite. */
export const LEDGER_SERVICE_ROLE = 'wallet_service';

/** Tables that form the record of what happened; no row of them is ever updated or deleted. */
export const JOURNAL_TABLES = ['accounts', 'journal_entries', 'postings'] as const;

// Regular expressions with bounded repeats ({0,127}, {64}) cost PostgreSQL 5-30 µs per row
// (measured: they made a 64-entry insert 10x slower); an unbounded class plus length() is ~1 µs.
const idCheck = (column: string): string => `${column} ~ '^[A-Za-z0-9][A-Za-z0-9._-]*$' AND length(${column}) <= 128`;
const transactionIdCheck = (column: string): string => `${column} ~ '^[A-Za-z0-9][A-Za-z0-9._-]*(:(post|void|expire))?$' AND length(${column}) <= 135`;
const hashCheck = (column: string): string => `${column} ~ '^[0-9a-f]+$' AND length(${column}) = 64`;
const currencyCheck = (column: string): string => `${column} ~ '^[A-Z]+$' AND length(${column}) = 3`;

/**
 * The ledger's schema (runs inside the service schema: its connections' search_path).
 *
 * Journal (append-only): accounts, journal_entries, postings. Reservation events are journal
 * entries too (kinds reserve / post_pending / void_pending / expire_pending, with
 * reservation_id), and a partial unique index lets a reservation be resolved only once.
 * Derived (rebuildable from the journal): balances, pending_reservations, chain_head.
 */
const UP_SQL = `
CREATE TABLE accounts (
  id           text        PRIMARY KEY CHECK (${idCheck('id')}),
  owner_type   text        NOT NULL CHECK (owner_type IN ('person', 'merchant', 'non_profit', 'system')),
  owner_id     text        NOT NULL,
  currency     text        NOT NULL CHECK (${currencyCheck('currency')}),
  normal_side  text        NOT NULL CHECK (normal_side IN ('debit', 'credit')),
  min_balance  bigint,
  metadata     jsonb       NOT NULL DEFAULT '{}'::jsonb,
  opened_at    timestamptz NOT NULL DEFAULT now(),
  CHECK (min_balance <= 0),
  -- A person's account never goes below zero: its guard is exactly 0 (NULL would pass a bare "= 0").
  CHECK (owner_type <> 'person' OR (min_balance IS NOT NULL AND min_balance = 0))
);

CREATE TABLE journal_entries (
  position       bigint      PRIMARY KEY CHECK (position > 0),
  transaction_id text        NOT NULL UNIQUE CHECK (${transactionIdCheck('transaction_id')}),
  kind           text        NOT NULL CHECK (kind IN ('transfer', 'reversal', 'reserve', 'post_pending', 'void_pending', 'expire_pending')),
  reservation_id text,
  expires_at     timestamptz,
  reverses       text        REFERENCES journal_entries (transaction_id),
  metadata       jsonb       NOT NULL DEFAULT '{}'::jsonb,
  content_hash   text        NOT NULL CHECK (${hashCheck('content_hash')}),
  recorded_at    timestamptz NOT NULL,
  prev_hash      text        NOT NULL CHECK (${hashCheck('prev_hash')}),
  hash           text        NOT NULL CHECK (${hashCheck('hash')}),
  CHECK ((kind = 'reserve') = (expires_at IS NOT NULL)),
  CHECK ((kind IN ('reserve', 'post_pending', 'void_pending', 'expire_pending')) = (reservation_id IS NOT NULL)),
  CHECK ((kind = 'reversal') = (reverses IS NOT NULL))
);
-- A reservation is posted, voided or expired once, whatever the application does.
CREATE UNIQUE INDEX journal_entries_one_resolution ON journal_entries (reservation_id)
  WHERE kind IN ('post_pending', 'void_pending', 'expire_pending');
CREATE INDEX journal_entries_reverses ON journal_entries (reverses) WHERE reverses IS NOT NULL;
-- "As of time T": recorded_at never decreases along positions.
CREATE INDEX journal_entries_recorded_at ON journal_entries (recorded_at, position);

-- No row-level foreign keys here: ledger_check_postings() checks, for the whole statement at
-- once, that every posting's entry and account exist (row-level RI triggers cost two lookups
-- and a FOR KEY SHARE lock of the account row per posting, a hot merchant's row included).
-- Rows of accounts and journal_entries can never be deleted, so the check at insert suffices.
CREATE TABLE postings (
  position   bigint   NOT NULL,
  idx        smallint NOT NULL CHECK (idx >= 0),
  account_id text     NOT NULL,
  direction  text     NOT NULL CHECK (direction IN ('debit', 'credit')),
  layer      text     NOT NULL CHECK (layer IN ('posted', 'pending', 'released')),
  amount     bigint   NOT NULL CHECK (amount > 0),
  currency   text     NOT NULL CHECK (${currencyCheck('currency')}),
  PRIMARY KEY (position, idx)
);
-- Statements and balances as of a position read an account's postings in journal order.
CREATE INDEX postings_account_position ON postings (account_id, position) INCLUDE (direction, layer, amount);

-- Derived: running totals per account, written in the same transaction as the journal.
-- normal_side and min_balance are copied from the (immutable) account so that the database
-- itself refuses a balance that breaks the guard, whatever the application computes.
CREATE TABLE balances (
  account_id      text   PRIMARY KEY REFERENCES accounts (id),
  normal_side     text   NOT NULL CHECK (normal_side IN ('debit', 'credit')),
  min_balance     bigint,
  debits_posted   bigint NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
  credits_posted  bigint NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
  debits_pending  bigint NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
  credits_pending bigint NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
  CONSTRAINT balances_guard CHECK (
    min_balance IS NULL
    OR (normal_side = 'credit' AND credits_posted - debits_posted - debits_pending >= min_balance)
    OR (normal_side = 'debit' AND debits_posted - credits_posted - credits_pending >= min_balance)
  )
);

-- Derived: holds not yet resolved, for the expiry sweeper.
CREATE TABLE pending_reservations (
  reservation_id text        PRIMARY KEY,
  position       bigint      NOT NULL,
  expires_at     timestamptz NOT NULL
);
CREATE INDEX pending_reservations_expiry ON pending_reservations (expires_at);

-- The end of the hash chain: the one ordered append point. Every batch locks this row.
CREATE TABLE chain_head (
  singleton   boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
  position    bigint      NOT NULL,
  hash        text        NOT NULL,
  recorded_at timestamptz
);
INSERT INTO chain_head (position, hash, recorded_at) VALUES (0, repeat('0', 64), NULL);

-- Append-only: UPDATE, DELETE and TRUNCATE on the journal fail, even for the table owner.
-- Statement-level, so even an UPDATE that matches no row is refused.
CREATE FUNCTION ledger_refuse_mutation() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'ledger table % is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
    USING HINT = 'correct a transaction with a reversing transaction';
END
$fn$;

CREATE TRIGGER accounts_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON accounts
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_mutation();
CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON journal_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_mutation();
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON postings
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_mutation();

-- Double entry, checked by the database too: the postings inserted by one statement balance
-- per entry, currency and layer, belong to an existing entry, and each names an existing
-- account of its currency. An entry's postings are therefore inserted whole, in one statement.
CREATE FUNCTION ledger_check_postings() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $fn$
DECLARE
  bad record;
BEGIN
  SELECT position, currency, layer INTO bad FROM new_postings
    GROUP BY position, currency, layer
    HAVING sum(CASE direction WHEN 'debit' THEN amount ELSE -amount END) <> 0
    LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'journal entry % is not balanced in % (%)', bad.position, bad.currency, bad.layer;
  END IF;
  SELECT p.position INTO bad FROM new_postings p
    WHERE NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.position = p.position) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'postings refer to journal entry %, which does not exist', bad.position USING ERRCODE = 'foreign_key_violation';
  END IF;
  SELECT p.position, p.account_id, a.currency AS account_currency INTO bad FROM new_postings p LEFT JOIN accounts a ON a.id = p.account_id
    WHERE a.id IS NULL OR a.currency <> p.currency LIMIT 1;
  IF FOUND AND bad.account_currency IS NULL THEN
    RAISE EXCEPTION 'journal entry % posts to account %, which does not exist', bad.position, bad.account_id USING ERRCODE = 'foreign_key_violation';
  ELSIF FOUND THEN
    RAISE EXCEPTION 'journal entry % posts to account % in another currency than the account''s', bad.position, bad.account_id;
  END IF;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER postings_balanced AFTER INSERT ON postings
  REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_postings();

-- Least privilege: the service role reads and appends the journal, and maintains derived tables.
DO $do$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${LEDGER_SERVICE_ROLE}') THEN
    BEGIN
      CREATE ROLE ${LEDGER_SERVICE_ROLE} NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- another migration created it at the same moment
    END;
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO ${LEDGER_SERVICE_ROLE}', current_schema());
END
$do$;
REVOKE ALL ON accounts, journal_entries, postings, balances, pending_reservations, chain_head, outbox, outbox_checkpoint FROM PUBLIC;
GRANT SELECT, INSERT ON accounts, journal_entries, postings, outbox TO ${LEDGER_SERVICE_ROLE};
GRANT SELECT, INSERT, UPDATE, DELETE ON balances, pending_reservations TO ${LEDGER_SERVICE_ROLE};
GRANT SELECT, UPDATE ON chain_head TO ${LEDGER_SERVICE_ROLE};
GRANT SELECT, INSERT, UPDATE ON outbox_checkpoint TO ${LEDGER_SERVICE_ROLE};
GRANT USAGE ON SEQUENCE outbox_position_seq TO ${LEDGER_SERVICE_ROLE};
`;

/** Leaves the outbox: it is shared with the service's other features (see up()). */
const DOWN_SQL = `
DROP TABLE IF EXISTS postings, journal_entries, pending_reservations, balances, chain_head, accounts;
DROP FUNCTION IF EXISTS ledger_refuse_mutation();
DROP FUNCTION IF EXISTS ledger_check_postings();
`;

export class CreateLedger1764144000000 implements MigrationInterface {
  name = 'CreateLedger1764144000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // The ledger writes its events to the service's outbox. The wallet service's messaging
    // migration may have created it already; on its own (tests, benchmark) the ledger creates it.
    const [outbox] = (await queryRunner.query("SELECT to_regclass('outbox') IS NULL AS missing")) as Array<{ missing: boolean }>;
    if (outbox?.missing) await queryRunner.query(OUTBOX_TABLE_SQL);
    await queryRunner.query(UP_SQL);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(DOWN_SQL);
  }
}
