import 'reflect-metadata';
import { ConfigError } from '@pay/config';
import { UsageError } from './command-line';
import { migrationPlan } from './migrate';

const DATABASE_URL = 'postgres://wallet:hunter2@postgres.postgres.svc:5432/wallet?sslmode=verify-full';

function refusal(argv: string[], env: NodeJS.ProcessEnv): string {
  try {
    migrationPlan(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('migrationPlan accepted it');
}

describe('tools/migrate.ts: what it validates before migrating', () => {
  it("reads the database settings only: in production, without any of the service's keys", () => {
    // What the wallet itself refuses to start without in production: AUTH_JWKS, WALLET_MASTER_KEYS, STEP_UP_SIGNING_JWK.
    const plan = migrationPlan([], { NODE_ENV: 'production', SERVICE: 'wallet', DATABASE_URL, DB_SCHEMA: 'wallet' });
    expect(plan.services.map((service) => service.name)).toEqual(['wallet']);
    expect(plan.config).toMatchObject({ DATABASE_URL, DB_SCHEMA: 'wallet' });
  });

  it('migrates the service of --service, before SERVICE; every service and the Pay Hub when neither names one, or with all', () => {
    const every = ['wallet', 'payment-orchestration', 'history-projection', 'ad-signal-aggregation', 'support', 'pay-hub'];
    expect(migrationPlan(['--service', 'history-projection'], { SERVICE: 'wallet', DATABASE_URL }).services.map((s) => s.name)).toEqual(['history-projection']);
    expect(migrationPlan([], { DATABASE_URL }).services.map((s) => s.name)).toEqual(every);
    expect(migrationPlan(['--service', 'all'], { DATABASE_URL }).services.map((s) => s.name)).toEqual(every);
  });

  it('refuses a DATABASE_URL that is no postgres:// URL in one line, naming the variable and never its value', () => {
    const message = refusal([], { SERVICE: 'wallet', DATABASE_URL: 'mysql://root:hunter2@db/payments' });
    expect(message).toBe('migrate: invalid configuration: DATABASE_URL must be a postgres:// URL, e.g. postgres://user@127.0.0.1:5432/payments');
  });

  it('refuses a DB_SCHEMA that is no schema name, an unknown service, and one DB_SCHEMA for every service', () => {
    expect(refusal([], { SERVICE: 'wallet', DATABASE_URL, DB_SCHEMA: 'Wallet;drop' })).toBe(
      'migrate: invalid configuration: DB_SCHEMA must be a PostgreSQL schema name: lower-case letters, digits and "_"',
    );
    expect(refusal(['--service', 'wallets'], { DATABASE_URL })).toBe(
      'migrate: invalid configuration: SERVICE (or --service) must be one of wallet, payment-orchestration, history-projection, ad-signal-aggregation, support, pay-hub or all',
    );
    expect(refusal([], { DATABASE_URL, DB_SCHEMA: 'wallet' })).toMatch(
      /^migrate: invalid configuration: DB_SCHEMA names the schema of one service: set SERVICE/,
    );
  });

  it('refuses an unknown flag with its usage line', () => {
    expect(() => migrationPlan(['--servic', 'wallet'], { DATABASE_URL })).toThrow(UsageError);
    expect(() => migrationPlan(['--servic', 'wallet'], { DATABASE_URL })).toThrow(/^Unknown option '--servic'.*\nusage: npm run db:migrate -- \[--service /s);
  });
});
