/**
 * PostgreSQL for local development and tests, in this order: DATABASE_URL when set; else the
 * server at 127.0.0.1:5432; else an embedded PostgreSQL (tools/infra/embedded-postgres.ts).
 * PG_EMBEDDED=true skips the local server and goes straight to the embedded one.
 * The project's database is created when missing; each service creates its own schema.
 */
import { Client } from 'pg';

export const LOCAL_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/payments';

export interface PostgresInfo {
  url: string;
  source: 'DATABASE_URL' | 'local server' | 'embedded';
}

type Log = (line: string) => void;

export function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

async function reachable(url: string): Promise<boolean> {
  const client = new Client({ connectionString: withDatabase(url, 'postgres'), connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Creates the URL's database if it does not exist yet. */
export async function ensureDatabase(url: string): Promise<void> {
  const database = decodeURIComponent(new URL(url).pathname.slice(1));
  if (!/^[A-Za-z_][A-Za-z0-9_-]{0,62}$/.test(database)) throw new Error(`database name "${database}" in the URL is not accepted`);
  const client = new Client({ connectionString: withDatabase(url, 'postgres'), connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database}"`);
  } finally {
    await client.end();
  }
}

/** PG_EMBEDDED=true: use the embedded server even when one answers on 127.0.0.1:5432. */
function forceEmbedded(): boolean {
  const raw = process.env.PG_EMBEDDED?.trim();
  if (raw && raw !== 'true' && raw !== 'false') throw new Error(`PG_EMBEDDED must be true or false; got "${raw}".`);
  return raw === 'true';
}

export async function ensurePostgres(log: Log): Promise<PostgresInfo> {
  const configured = process.env.DATABASE_URL;
  if (configured) {
    if (!/^postgres(ql)?:\/\//.test(configured)) throw new Error('DATABASE_URL must be a postgres:// URL, e.g. postgres://user@127.0.0.1:5432/payments');
    if (!(await reachable(configured))) throw new Error(`DATABASE_URL=${redactUrl(configured)} does not answer`);
    await ensureDatabase(configured);
    log(`postgres: using DATABASE_URL ${redactUrl(configured)}`);
    return { url: configured, source: 'DATABASE_URL' };
  }
  if (!forceEmbedded() && (await reachable(LOCAL_DATABASE_URL))) {
    await ensureDatabase(LOCAL_DATABASE_URL);
    log(`postgres: using the local server, ${LOCAL_DATABASE_URL}`);
    return { url: LOCAL_DATABASE_URL, source: 'local server' };
  }
  const { ensureEmbeddedPostgres } = await import('./embedded-postgres');
  const url = await ensureEmbeddedPostgres(log);
  await ensureDatabase(url);
  return { url, source: 'embedded' };
}
