/**
 * What the ledger CLIs share: which database and schema to open (validated), and a data
 * source that runs no migrations (these tools inspect or repair; they never change the schema).
 */
import { assertSchemaName, createServiceDataSource } from '@pay/platform';
import type { DataSource } from 'typeorm';
import { UsageError } from '../command-line';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/payments';
export const DEFAULT_LEDGER_SCHEMA = 'wallet';

export interface LedgerTarget {
  readonly url: string;
  readonly schema: string;
}

/** Thrown for bad input: the message says what is wrong and what is accepted. */
export { UsageError };

export function ledgerTarget(env: NodeJS.ProcessEnv): LedgerTarget {
  const url = env.DATABASE_URL?.trim() || DEFAULT_DATABASE_URL;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError('DATABASE_URL is not a valid URL; expected e.g. postgres://user@host:5432/database');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new UsageError(`DATABASE_URL must use postgres:// or postgresql://, got ${parsed.protocol}//`);
  }
  const schema = env.LEDGER_SCHEMA?.trim() || DEFAULT_LEDGER_SCHEMA;
  try {
    assertSchemaName(schema);
  } catch (error) {
    throw new UsageError(`LEDGER_SCHEMA: ${(error as Error).message}`);
  }
  return { url, schema };
}

/** Where the tool points, without the password. */
export function describeTarget(target: LedgerTarget): string {
  const url = new URL(target.url);
  url.password = url.password ? '***' : '';
  return `${url.toString()} schema ${target.schema}`;
}

export async function openLedgerDataSource(target: LedgerTarget, applicationName: string): Promise<DataSource> {
  const dataSource = createServiceDataSource({ url: target.url, schema: target.schema, migrations: [], poolSize: 2, applicationName });
  await dataSource.initialize();
  const [row] = await dataSource.query<
    Array<{
      ready: boolean;
    }>
  >("SELECT to_regclass('journal_entries') IS NOT NULL AND to_regclass('chain_head') IS NOT NULL AS ready");
  if (!row?.ready) {
    await dataSource.destroy();
    throw new UsageError(`schema ${target.schema} has no ledger tables (set LEDGER_SCHEMA, or run the wallet migrations first)`);
  }
  return dataSource;
}

/** Runs a CLI's main: exit 0 on success, 1 when it found a problem, 2 on bad input or failure. */
export function runCli(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof UsageError ? 'usage' : 'error'}: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 2;
    },
  );
}
