import type { Pool } from 'pg';
import { Client } from 'pg';
import type { MixedList } from 'typeorm';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

export type MigrationList = MixedList<string | (new () => object)>;

export interface ServiceDataSourceOptions {
  url: string;
  /** The service's own schema: its tables live there and nowhere else. */
  schema: string;
  migrations: MigrationList;
  entities?: MixedList<string | (new () => object)>;
  poolSize?: number;
  applicationName?: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`schema name "${schema}" is not accepted: use lower-case letters, digits and "_" (at most 63)`);
  }
  return schema;
}

/**
 * A TypeORM data source bound to one service schema. The schema is also the connection's
 * search_path, so the service's SQL names its tables unqualified and can never touch another
 * service's tables by accident. Migrations only, never `synchronize`.
 */
export function createServiceDataSource(options: ServiceDataSourceOptions): DataSource {
  const schema = assertSchemaName(options.schema);
  return new DataSource({
    type: 'postgres',
    url: options.url,
    schema,
    entities: options.entities ?? [],
    migrations: options.migrations,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    poolSize: options.poolSize ?? 10,
    applicationName: options.applicationName ?? schema,
    extra: {
      options: `-c search_path=${schema}`,
      connectionTimeoutMillis: 5_000,
    },
  });
}

/** Creates the service's schema if missing; migrations then run inside it. */
export async function ensureSchema(url: string, schema: string): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${assertSchemaName(schema)}"`);
  } finally {
    await client.end();
  }
}

/**
 * Creates the schema, opens the data source and applies pending migrations. Replicas that
 * start together take turns: an advisory lock per schema lets one migrate while the others wait.
 */
export async function openServiceDataSource(options: ServiceDataSourceOptions): Promise<DataSource> {
  await ensureSchema(options.url, options.schema);
  const dataSource = createServiceDataSource(options);
  await dataSource.initialize();
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [`migrations:${options.schema}`]);
    try {
      await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [`migrations:${options.schema}`]);
    }
  } catch (error) {
    await runner.release();
    await dataSource.destroy();
    throw error;
  }
  await runner.release();
  return dataSource;
}

/**
 * Closes the data source and waits until every connection of its pool is closed. pg-pool's
 * `end()`, and so `DataSource.destroy()`, resolves as soon as no client is left in the pool,
 * while the clients are still closing their sockets: a process exiting right after would cut
 * them. Waits at most `timeoutMs` for the sockets (a server that stopped answering).
 */
export async function closeServiceDataSource(dataSource: DataSource, timeoutMs = 5_000): Promise<void> {
  if (!dataSource.isInitialized) return;
  const pool = (dataSource.driver as PostgresDriver).master as Pool | undefined;
  let open = pool?.totalCount ?? 0;
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<void>((resolve) => {
    if (!pool || open === 0) return resolve();
    // 'remove': a client has ended (its socket closed) and left the pool.
    pool.on('remove', () => {
      open -= 1;
      if (open <= 0) resolve();
    });
    timer = setTimeout(resolve, timeoutMs);
  });
  try {
    await dataSource.destroy();
    await closed;
  } finally {
    clearTimeout(timer);
  }
}
