/**
 * History's migrations that add columns to every read model version, run on data written before
 * them: a schema migrated up to the migration before, its tables in the shape they had then (the
 * first migration creates version 1 with today's columns, so the later ones are dropped first),
 * rows as the projection wrote them then, then the migration.
 */
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import type { DataSource } from 'typeorm';
import { readModelTablesSql } from '../src/read-model/read-model-tables';
import { historyProjectionMigrations } from '../src/database/migrations';
import { EntryFailureCode1768891000002 } from '../src/database/migrations/1768891000002-entry-failure-code';
import { MethodUnusable1768894000002 } from '../src/database/migrations/1768894000002-method-unusable';

/** The migrations before this one: the schema as the previous release left it. */
const before = (migration: unknown): (new () => object)[] =>
  (historyProjectionMigrations as unknown[]).slice(0, (historyProjectionMigrations as unknown[]).indexOf(migration)) as (new () => object)[];

async function run(dataSource: DataSource, migration: { up(runner: import('typeorm').QueryRunner): Promise<void> }): Promise<void> {
  const runner = dataSource.createQueryRunner();
  try {
    await migration.up(runner);
  } finally {
    await runner.release();
  }
}

/** A history entry as the projection wrote it before entries said why a payment failed. */
function entryBefore(entryId: string, paymentId: string, kind: string, status: string): unknown[] {
  return [entryId, paymentId, kind, status, 'person-1', 'merchant', 'merchant-7', 'instagram', 'US', 'USD', '2500', '0', null, 'bank_account', 'stripe', null];
}

describe('history migration: entries say why a payment failed (failure_code)', () => {
  let schema: TestSchema;

  beforeAll(async () => {
    schema = await createTestSchema('it_history_failure_code_migration', before(EntryFailureCode1768891000002));
  });

  afterAll(async () => {
    await schema?.drop();
  });

  it("fills failed payments' entries of every version from their stored facts (an unknown code as payment_failed), leaves the others empty, and skips a version whose tables are gone", async () => {
    const sql = schema.dataSource;
    // Version 1 (live, from the first migration) and a version 2 being rebuilt, both as the previous release had them; version 3 retired and dropped.
    for (const statement of readModelTablesSql(2)) await sql.query(statement);
    await sql.query(`INSERT INTO read_model_versions (version, state) VALUES (2, 'building'), (3, 'retired')`);
    for (const version of [1, 2]) await sql.query(`ALTER TABLE history_entries_v${version} DROP COLUMN failure_code`);

    const facts: Record<string, object> = {
      'pay-closed': { failed: { code: 'account_closed', at: '2026-12-01T10:00:00.000Z' } },
      'pay-declined': { failed: { code: 'card_declined', at: '2026-12-01T10:00:00.000Z' } },
      'pay-unknown': { failed: { code: 'some_new_provider_code', at: '2026-12-01T10:00:00.000Z' } },
      'pay-captured': { captured: { amount: '2500', at: '2026-12-01T10:00:00.000Z' } },
      // Failed, but its stored facts say nothing of why (written before facts kept failures): left as it is.
      'pay-no-facts': {},
    };
    for (const version of [1, 2]) {
      for (const [paymentId, fact] of Object.entries(facts)) {
        await sql.query(`INSERT INTO payment_facts_v${version} (payment_id, facts) VALUES ($1, $2)`, [paymentId, JSON.stringify(fact)]);
      }
      const rows = [
        entryBefore('payment:pay-closed', 'pay-closed', 'purchase', 'failed'),
        entryBefore('payment:pay-declined', 'pay-declined', 'purchase', 'failed'),
        entryBefore('payment:pay-unknown', 'pay-unknown', 'purchase', 'failed'),
        entryBefore('payment:pay-captured', 'pay-captured', 'purchase', 'captured'),
        entryBefore('payment:pay-no-facts', 'pay-no-facts', 'purchase', 'failed'),
        // A chargeback entry of a failed payment's stream is not the payment's own entry.
        entryBefore('chargeback:pay-closed:return_pi_1', 'pay-closed', 'chargeback', 'charged_back'),
      ];
      for (const row of rows) {
        await sql.query(
          `INSERT INTO history_entries_v${version} (entry_id, payment_id, kind, status, payer_id, counterparty_type, counterparty_id, app, country, currency,
             amount, net_amount, method_id, method_type, provider, ledger_transaction_id, occurred_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, now(), now())`,
          row,
        );
      }
    }

    await run(sql, new EntryFailureCode1768891000002());
    // Run again (a migration retried after a crash): the same result.
    await run(sql, new EntryFailureCode1768891000002());

    for (const version of [1, 2]) {
      const rows: { entry_id: string; failure_code: string | null }[] = await sql.query(
        `SELECT entry_id, failure_code FROM history_entries_v${version} ORDER BY entry_id`,
      );
      expect({ version, codes: Object.fromEntries(rows.map((row) => [row.entry_id, row.failure_code])) }).toEqual({
        version,
        codes: {
          'chargeback:pay-closed:return_pi_1': null,
          'payment:pay-captured': null,
          'payment:pay-closed': 'account_closed',
          'payment:pay-declined': 'card_declined',
          'payment:pay-no-facts': null,
          'payment:pay-unknown': 'payment_failed',
        },
      });
    }
    const [dropped]: { absent: boolean }[] = await sql.query(`SELECT to_regclass('history_entries_v3') IS NULL AS absent`);
    expect(dropped.absent).toBe(true);
  });
});

describe('history migration: the copy of methods says when the wallet marked a bank account unusable', () => {
  let schema: TestSchema;

  beforeAll(async () => {
    schema = await createTestSchema('it_history_method_unusable_migration', before(MethodUnusable1768894000002));
  });

  afterAll(async () => {
    await schema?.drop();
  });

  it('adds unusable_reason and unusable_since to every version that has a methods table, keeping its rows', async () => {
    const sql = schema.dataSource;
    for (const statement of readModelTablesSql(2)) await sql.query(statement);
    await sql.query(`INSERT INTO read_model_versions (version, state) VALUES (2, 'building'), (3, 'retired')`);
    for (const version of [1, 2]) {
      await sql.query(`ALTER TABLE payment_methods_v${version} DROP COLUMN unusable_reason, DROP COLUMN unusable_since`);
      await sql.query(
        `INSERT INTO payment_methods_v${version} (method_id, person_id, kind, last4, country, added_at) VALUES ('m-1', 'person-1', 'bank_account', '3000', 'DE', now())`,
      );
    }

    await run(sql, new MethodUnusable1768894000002());
    await run(sql, new MethodUnusable1768894000002());

    for (const version of [1, 2]) {
      const rows: unknown[] = await sql.query(`SELECT method_id, kind, last4, unusable_reason, unusable_since FROM payment_methods_v${version}`);
      expect(rows).toEqual([{ method_id: 'm-1', kind: 'bank_account', last4: '3000', unusable_reason: null, unusable_since: null }]);
    }
  });
});
