/**
 * `tools/history/rebuild.ts` as the history-rebuild CronJob runs it: its own process, the
 * environment only, and nothing in it but the database settings (no key, no Kafka: it replays
 * the events the projection stored in its own tables).
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { dropSchema, testDatabaseUrl, uniqueName } from '@pay/testing';

const ROOT = resolve(__dirname, '../..');

/** Runs the tool with tsx, with PATH and `env` and nothing else. */
function rebuild(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [resolve(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'tools/history/rebuild.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

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
