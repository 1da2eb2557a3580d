/**
 * Nothing in the journal is ever updated or deleted, and a change made behind the
 * application's back (here: by a superuser who disables the trigger) is found by verify.
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { PostingInput } from '@pay/ledger-domain';
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import { JOURNAL_TABLES, LEDGER_MIGRATIONS, LEDGER_SERVICE_ROLE, PostgresLedger } from './index';

const ROOT = resolve(__dirname, '../../../..');

/** Runs one of the ledger CLIs the way `npm run` does (through tsx) against the test schema. */
function runCli(script: string, schema: TestSchema, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'tools/ledger', script), ...args],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: schema.url, LEDGER_SCHEMA: schema.schema }, timeout: 60_000 },
      (error, stdout, stderr) => done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const eur = (accountId: string, direction: 'debit' | 'credit', amount: bigint): PostingInput => ({ accountId, direction, amount, currency: 'EUR' });

describe('append-only journal', () => {
  let schema: TestSchema;
  let ledger: PostgresLedger;

  const failure = async (sql: string): Promise<string> => {
    try {
      await schema.dataSource.query(sql);
    } catch (error) {
      return (error as Error).message;
    }
    return 'no error';
  };

  beforeAll(async () => {
    schema = await createTestSchema('ledger_append', LEDGER_MIGRATIONS);
    ledger = new PostgresLedger(schema.dataSource);
    await ledger.openAccount({ id: 'clearing', ownerType: 'system', ownerId: 'psp', currency: 'EUR', normalSide: 'debit' });
    await ledger.openAccount({ id: 'alice', ownerType: 'person', ownerId: 'u-alice', currency: 'EUR' });
    await ledger.openAccount({ id: 'shop', ownerType: 'merchant', ownerId: 'm-shop', currency: 'EUR' });
    await ledger.record({ type: 'transfer', transactionId: 'fund', postings: [eur('clearing', 'debit', 5_000n), eur('alice', 'credit', 5_000n)] });
    for (let i = 1; i <= 6; i++) {
      await ledger.record({
        type: 'transfer',
        transactionId: `buy-${i}`,
        postings: [eur('alice', 'debit', BigInt(100 * i)), eur('shop', 'credit', BigInt(100 * i))],
      });
    }
  });

  afterAll(async () => {
    await ledger.close();
    await schema.drop();
  });

  const mutations = JOURNAL_TABLES.flatMap((table) => [
    [table, `UPDATE ${table} SET ${table === 'accounts' ? "owner_id = 'x'" : 'position = position'}`],
    [table, `DELETE FROM ${table}`],
    [table, `TRUNCATE ${table} CASCADE`],
    [table, `UPDATE ${table} SET ${table === 'accounts' ? "owner_id = 'x'" : 'position = position'} WHERE false`],
  ]);

  it.each(mutations)('refuses on %s: %s', async (table, sql) => {
    expect(await failure(sql)).toMatch(new RegExp(`ledger table ${table} is append-only: (UPDATE|DELETE|TRUNCATE) is not allowed`));
  });

  it('grants the service role SELECT and INSERT on the journal, and nothing more', async () => {
    const rows = await schema.dataSource.query<Array<{ table_name: string; privilege: string; granted: boolean }>>(
      `SELECT t AS table_name, p AS privilege, has_table_privilege($1, t, p) AS granted
         FROM unnest($2::text[]) t CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p`,
      [LEDGER_SERVICE_ROLE, [...JOURNAL_TABLES]],
    );
    const granted = rows.filter((r) => r.granted).map((r) => `${r.table_name}:${r.privilege}`);
    expect(granted.sort()).toEqual(JOURNAL_TABLES.flatMap((t) => [`${t}:INSERT`, `${t}:SELECT`]).sort());
  });

  it('as the service role, the journal can be read but not rewritten', async () => {
    const runner = schema.dataSource.createQueryRunner();
    await runner.startTransaction();
    try {
      await runner.query(`SET LOCAL ROLE ${LEDGER_SERVICE_ROLE}`);
      const rows = (await runner.query('SELECT count(*)::int AS n FROM journal_entries')) as Array<{ n: number }>;
      expect(rows[0]?.n).toBe(7);
      await expect(runner.query('UPDATE postings SET amount = 1')).rejects.toThrow(/permission denied/);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  });

  /** Runs statements in a transaction that is always rolled back; returns the error message. */
  const refusedInTransaction = async (...statements: string[]): Promise<string> => {
    const runner = schema.dataSource.createQueryRunner();
    await runner.startTransaction();
    try {
      for (const statement of statements) await runner.query(statement);
      return 'no error';
    } catch (error) {
      return (error as Error).message;
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  };

  const FORGED_ENTRY = `INSERT INTO journal_entries (position, transaction_id, kind, content_hash, recorded_at, prev_hash, hash)
    VALUES (1000, 'forged', 'transfer', repeat('a', 64), now(), repeat('b', 64), repeat('c', 64))`;
  const forgedPostings = (rows: string): string => `INSERT INTO postings (position, idx, account_id, direction, layer, amount, currency) VALUES ${rows}`;

  it('the database itself refuses unbalanced postings, unknown accounts or entries, and balances below a guard', async () => {
    expect(
      await refusedInTransaction(
        FORGED_ENTRY,
        forgedPostings("(1000, 0, 'clearing', 'debit', 'posted', 10, 'EUR'), (1000, 1, 'alice', 'credit', 'posted', 9, 'EUR')"),
      ),
    ).toMatch(/journal entry 1000 is not balanced in EUR/);
    expect(
      await refusedInTransaction(
        FORGED_ENTRY,
        forgedPostings("(1000, 0, 'clearing', 'debit', 'posted', 10, 'EUR'), (1000, 1, 'nobody', 'credit', 'posted', 10, 'EUR')"),
      ),
    ).toMatch(/posts to account nobody, which does not exist/);
    expect(
      await refusedInTransaction(
        FORGED_ENTRY,
        forgedPostings("(1000, 0, 'clearing', 'debit', 'posted', 10, 'USD'), (1000, 1, 'alice', 'credit', 'posted', 10, 'USD')"),
      ),
    ).toMatch(/in another currency/);
    expect(
      await refusedInTransaction(forgedPostings("(2000, 0, 'clearing', 'debit', 'posted', 10, 'EUR'), (2000, 1, 'alice', 'credit', 'posted', 10, 'EUR')")),
    ).toMatch(/journal entry 2000, which does not exist/);
    expect(
      await refusedInTransaction(
        "INSERT INTO journal_entries (position, transaction_id, kind, content_hash, recorded_at, prev_hash, hash) VALUES (1001, 'bad', 'transfer', 'XYZ', now(), 'b', 'c')",
      ),
    ).toMatch(/check constraint/);
    expect(
      await refusedInTransaction(
        "INSERT INTO accounts (id, owner_type, owner_id, currency, normal_side, min_balance) VALUES ('p-x', 'person', 'u', 'EUR', 'credit', NULL)",
      ),
    ).toMatch(/check constraint/);
    expect(await failure("UPDATE balances SET debits_posted = credits_posted + 1 WHERE account_id = 'alice'")).toMatch(/balances_guard/);
  });

  it('ledger:rebuild-balances finds and corrects a derived balance changed behind its back', async () => {
    await schema.dataSource.query("UPDATE balances SET credits_posted = credits_posted + 50 WHERE account_id = 'shop'");
    expect(await ledger.balanceDrift()).toHaveLength(1);
    const dry = await runCli('rebuild-balances.ts', schema, ['--dry-run']);
    expect(dry).toMatchObject({ code: 0, stdout: expect.stringContaining('1 account balances differ from the journal') });
    expect(await ledger.balanceDrift()).toHaveLength(1);
    const run = await runCli('rebuild-balances.ts', schema);
    expect(run.stdout).toContain('rebuilt balances of 3 accounts from 7 journal entries: 1 corrected');
    expect(run.stdout).toContain('shop: debits/credits posted 0/2150 -> 0/2100');
    expect(run.code).toBe(0);
    expect(await ledger.balanceDrift()).toEqual([]);
    expect(await ledger.balance('shop')).toMatchObject({ posted: 2_100n });
  });

  it('ledger:verify reports "verified N entries" on an intact journal', async () => {
    expect(await runCli('verify.ts', schema)).toMatchObject({ code: 0, stdout: 'verified 7 entries\n' });
  });

  it('a posting changed by a superuser with the trigger disabled is found at its position', async () => {
    await schema.dataSource.query('ALTER TABLE postings DISABLE TRIGGER postings_append_only');
    await schema.dataSource.query('UPDATE postings SET amount = amount + 1 WHERE position = 4 AND idx = 1');
    await schema.dataSource.query('ALTER TABLE postings ENABLE TRIGGER postings_append_only');

    expect(await ledger.verify()).toMatchObject({ ok: false, position: 4n, entries: 3n, reason: expect.stringMatching(/hash does not match/) });
    const cli = await runCli('verify.ts', schema);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(/^chain broken at position 4: .*hash does not match.*\(3 entries verified before it\)\n$/);
    const rebuild = await runCli('rebuild-balances.ts', schema);
    expect(rebuild).toMatchObject({ code: 1, stdout: expect.stringContaining('not rebuilding from a journal that does not verify') });
  });

  it('a journal cut short is found at the first missing position', async () => {
    await schema.dataSource.query('ALTER TABLE postings DISABLE TRIGGER postings_append_only');
    await schema.dataSource.query('ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_append_only');
    await schema.dataSource.query('DELETE FROM postings WHERE position >= 6');
    await schema.dataSource.query('DELETE FROM journal_entries WHERE position >= 6');
    await schema.dataSource.query('UPDATE postings SET amount = amount - 1 WHERE position = 4 AND idx = 1');
    await schema.dataSource.query('ALTER TABLE postings ENABLE TRIGGER postings_append_only');
    await schema.dataSource.query('ALTER TABLE journal_entries ENABLE TRIGGER journal_entries_append_only');
    expect(await ledger.verify()).toMatchObject({ ok: false, position: 6n, entries: 5n, reason: expect.stringMatching(/chain head records 7 entries/) });
  });

  it('the CLIs refuse bad input with a reason', async () => {
    const badSchema = await runCli('verify.ts', { ...schema, schema: 'Not-A-Schema' });
    expect(badSchema).toMatchObject({ code: 2, stderr: expect.stringContaining('LEDGER_SCHEMA') });
    const badFlag = await runCli('rebuild-balances.ts', schema, ['--yes']);
    expect(badFlag).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("Unknown option '--yes'\nusage: npm run ledger:rebuild-balances -- [--dry-run] [--force]"),
    });
    const noLedger = await runCli('verify.ts', { ...schema, schema: 'public' });
    expect(noLedger).toMatchObject({ code: 2, stderr: expect.stringContaining('has no ledger tables') });
  });
});
