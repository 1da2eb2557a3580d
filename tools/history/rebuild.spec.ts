import 'reflect-metadata';
import { ConfigError } from '@pay/config';
import { rebuildTarget } from './rebuild';

const DATABASE_URL = 'postgres://history:hunter2@postgres.postgres.svc:5432/history?sslmode=verify-full';

describe('tools/history/rebuild.ts: what it validates before rebuilding', () => {
  it("reads the database settings only: in production, without any of the service's keys, Kafka or topics", () => {
    // The service itself refuses to start in production without AUTH_JWKS.
    expect(rebuildTarget({ NODE_ENV: 'production', DATABASE_URL, DB_SCHEMA: 'history_v2' })).toMatchObject({ config: { DATABASE_URL }, schema: 'history_v2' });
    expect(rebuildTarget({ NODE_ENV: 'production', DATABASE_URL }).schema).toBe('history_projection');
  });

  it('refuses a bad DATABASE_URL or DB_SCHEMA in one line, naming the variable and never its value', () => {
    const refusal = (env: NodeJS.ProcessEnv): string => {
      try {
        rebuildTarget(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error('rebuildTarget accepted it');
    };
    expect(refusal({ DATABASE_URL: 'mysql://root:hunter2@db/history' })).toBe(
      'history:rebuild: invalid configuration: DATABASE_URL must be a postgres:// URL, e.g. postgres://user@127.0.0.1:5432/payments',
    );
    expect(refusal({ DATABASE_URL, DB_SCHEMA: 'History' })).toBe(
      'history:rebuild: invalid configuration: DB_SCHEMA must be a PostgreSQL schema name: lower-case letters, digits and "_"',
    );
  });
});
