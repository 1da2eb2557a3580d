/**
 * `tools/migrate.ts` as the Kubernetes migration Jobs run it: its own process, the environment
 * only, and nothing in it but the database settings (docs/deploy.md, "Secrets": the Jobs get no
 * key of the service).
 */
import type { ToolRun } from '@pay/testing';
import { dropSchema, runTool, testDatabaseUrl, uniqueName } from '@pay/testing';
import { Client } from 'pg';
import { walletMigrations } from '@pay/wallet/tools';

/** Migrations of the wallet, ledger's included (a list, not a map). */
const WALLET_MIGRATIONS = Object.keys(walletMigrations).length;

const migrate = (env: Record<string, string>, args: string[] = []): Promise<ToolRun> => runTool('tools/migrate.ts', env, args);

describe('tools/migrate.ts', () => {
  const schema = uniqueName('it_migrate');

  afterAll(() => dropSchema(testDatabaseUrl(), schema));

  it("migrates the wallet in production with DATABASE_URL and DB_SCHEMA alone: none of the wallet's keys", async () => {
    // The wallet itself refuses to start like this (no AUTH_JWKS, WALLET_MASTER_KEYS, STEP_UP_SIGNING_JWK).
    const run = await migrate({ NODE_ENV: 'production', SERVICE: 'wallet', DATABASE_URL: testDatabaseUrl(), DB_SCHEMA: schema });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toBe(`wallet: schema ${schema} has ${WALLET_MIGRATIONS} migrations applied\n`);
    const client = new Client({ connectionString: testDatabaseUrl() });
    await client.connect();
    try {
      const { rows } = await client.query<{ count: string }>(`SELECT count(*) FROM "${schema}".schema_migrations`);
      expect(Number(rows[0].count)).toBe(WALLET_MIGRATIONS);
    } finally {
      await client.end();
    }
  });

  it('refuses a DATABASE_URL that is no postgres:// URL with one line that names it, never its value, and exit 1', async () => {
    const run = await migrate({ NODE_ENV: 'production', DATABASE_URL: 'mysql://root:hunter2@db:3306/payments' }, ['--service', 'wallet']);
    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: 'migrate: invalid configuration: DATABASE_URL must be a postgres:// URL, e.g. postgres://user@127.0.0.1:5432/payments\n',
    });
  });
});
