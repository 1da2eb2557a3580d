import { LEDGER_SERVICE_ROLE } from '@pay/ledger-store';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `ledger_corrections`: the audit record of every correction an operator posts through
 * `POST /v1/ledger/corrections` (docs/security.md): who, why, and which journal entry it became.
 * Written in the same database transaction as the entry; rows are only ever inserted.
 */
export class LedgerCorrections1765238400000 implements MigrationInterface {
  name = 'LedgerCorrections1765238400000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE ledger_corrections (
        transaction_id  text        PRIMARY KEY,
        kind            text        NOT NULL CHECK (kind IN ('reversal', 'adjustment')),
        reverses        text,
        reason          text        NOT NULL CHECK (length(reason) >= 10),
        actor           text        NOT NULL,
        ledger_position bigint      NOT NULL,
        recorded_at     timestamptz NOT NULL DEFAULT now(),
        CHECK ((kind = 'reversal') = (reverses IS NOT NULL))
      );
    `);
    await runner.query(`
      DO $$
      BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${LEDGER_SERVICE_ROLE}') THEN
          GRANT SELECT, INSERT ON ledger_corrections TO ${LEDGER_SERVICE_ROLE};
        END IF;
      END $$;
    `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE IF EXISTS ledger_corrections');
  }
}
