/**
 * `tools/history/rebuild.ts` as the history-rebuild CronJob runs it: its own process, the
 * environment only, and nothing in it but the database settings (no key, no Kafka: it replays
 * the events the projection stored in its own tables).
 */
import type { ToolRun } from '@pay/testing';
import { dropSchema, runTool, testDatabaseUrl, uniqueName } from '@pay/testing';

const rebuild = (env: Record<string, string>): Promise<ToolRun> => runTool('tools/history/rebuild.ts', env);

describe('tools/history/rebuild.ts', () => {
  const schema = uniqueName('it_rebuild');

  afterAll(() => dropSchema(testDatabaseUrl(), schema));

  it('rebuilds in production with DATABASE_URL and DB_SCHEMA alone: no AUTH_JWKS, no Kafka', async () => {
    // The history-projection service itself refuses to start like this (no AUTH_JWKS in production).
    const run = await rebuild({ NODE_ENV: 'production', DATABASE_URL: testDatabaseUrl(), DB_SCHEMA: schema });
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 0, stdout: expect.stringMatching(/^version 2 is live \(was 1\): 0 events in /) });
    expect(run.stderr).toContain(`history rebuild of schema ${schema} at `);
  });

  it('refuses a DATABASE_URL that is no postgres:// URL with one line that names it, never its value, and exit 1', async () => {
    const run = await rebuild({ NODE_ENV: 'production', DATABASE_URL: 'mysql://root:hunter2@db:3306/history' });
    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: 'history:rebuild: invalid configuration: DATABASE_URL must be a postgres:// URL, e.g. postgres://user@127.0.0.1:5432/payments\n',
    });
  });
});
