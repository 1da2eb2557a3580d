/**
 * `npm run wallet:rotate-keys`: re-wraps every wallet data key under the active master key,
 * while the wallet keeps serving. Only the wrapping of each data key changes, never a
 * ciphertext, so it is quick and safe to re-run or to run twice at once (rows are locked and
 * skipped). Steps of a master-key rotation without downtime:
 *
 *   1. add the new key to WALLET_MASTER_KEYS everywhere, the old one still active (rolling deploy);
 *   2. make the new key active (WALLET_MASTER_KEY_ID), every replica can read both (rolling deploy);
 *   3. run this script with that configuration: it re-wraps what the old key wraps;
 *   4. when it reports 0 remaining, remove the old key from WALLET_MASTER_KEYS.
 *
 * Environment: DATABASE_URL, DB_SCHEMA (default `wallet`), WALLET_MASTER_KEYS,
 * WALLET_MASTER_KEY_ID. Option: --batch-size <n> (default 200). Exit code 0 when every data key
 * is under the active key. It prints ids and counts, never key material.
 *
 * Run by tsx (no decorator metadata): plain pg, no Nest, no TypeORM entities.
 */
import type { Sql } from '@pay/platform';
import { MasterKeyRing, rewrapDataKeys } from '@pay/encryption';
import { Pool } from 'pg';
import { parseCommandLine, wholeNumberFlag } from '../command-line';

const log = (line: string): void => void process.stderr.write(`[rotate-keys] ${line}\n`);

interface Options {
  databaseUrl: string;
  schema: string;
  ring: MasterKeyRing;
  batchSize: number;
}

const USAGE = 'usage: npm run wallet:rotate-keys -- [--batch-size <n> (1-10000)]';

function readOptions(env: NodeJS.ProcessEnv, argv: string[]): Options {
  const problems: string[] = [];
  const schema = env.DB_SCHEMA ?? 'wallet';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) problems.push('DB_SCHEMA must be a schema name (lower-case letters, digits, "_")');
  const databaseUrl = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/payments';
  if (!/^postgres(ql)?:\/\/\S+$/.test(databaseUrl)) problems.push('DATABASE_URL must be a postgres:// URL');
  const flags = parseCommandLine(argv, { 'batch-size': { type: 'string' } }, USAGE);
  const batchSize = wholeNumberFlag('batch-size', flags['batch-size'], { min: 1, max: 10_000, fallback: 200 }, USAGE);
  let ring: MasterKeyRing | undefined;
  if (!env.WALLET_MASTER_KEYS || !env.WALLET_MASTER_KEY_ID) {
    problems.push('WALLET_MASTER_KEYS and WALLET_MASTER_KEY_ID must be set: the old and new keys, and the new one as active');
  } else {
    try {
      ring = MasterKeyRing.parse(env.WALLET_MASTER_KEYS, env.WALLET_MASTER_KEY_ID);
    } catch (error) {
      problems.push(`WALLET_MASTER_KEYS: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0 || !ring) throw new Error(problems.join('; '));
  return { databaseUrl, schema, ring, batchSize };
}

export async function rotateWalletKeys(options: Options): Promise<{ rewrapped: number; remaining: number }> {
  const pool = new Pool({ connectionString: options.databaseUrl, max: 2, options: `-c search_path=${options.schema}`, application_name: 'wallet-rotate-keys' });
  try {
    const inTransaction = async <T>(work: (sql: Sql) => Promise<T>): Promise<T> => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work({
          query: async <Row>(text: string, parameters?: readonly unknown[]) => (await client.query(text, parameters as unknown[])).rows as Row[],
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    };
    return await rewrapDataKeys({
      wrapper: options.ring,
      inTransaction,
      batchSize: options.batchSize,
      onBatch: ({ rewrapped }) => log(`re-wrapped ${rewrapped} data key(s) so far`),
    });
  } finally {
    await pool.end();
  }
}

async function main(): Promise<void> {
  const options = readOptions(process.env, process.argv.slice(2));
  log(`schema ${options.schema}: re-wrapping data keys under master key "${options.ring.activeKeyId}" (configured: ${options.ring.keyIds.join(', ')})`);
  const { rewrapped, remaining } = await rotateWalletKeys(options);
  log(`done: re-wrapped ${rewrapped} data key(s); ${remaining} remaining under other master keys`);
  if (remaining > 0) {
    log('some data keys were locked by another run; run again, and keep the old master key until 0 remain');
    process.exitCode = 1;
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    log(`failed: ${(error as Error).message}`);
    process.exit(1);
  });
}
