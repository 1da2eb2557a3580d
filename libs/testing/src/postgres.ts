import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import type { MigrationList } from '@pay/platform';
import { openServiceDataSource } from '@pay/platform';

import { testDatabaseUrl } from './database-url';

export { testDatabaseUrl };

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

export interface TestSchema {
  schema: string;
  url: string;
  dataSource: DataSource;
  /** Closes the data source and drops the schema with everything in it. */
  drop(): Promise<void>;
}

/**
 * A fresh schema with the given migrations applied, so each test file works on its own tables
 * and tests never see each other's rows.
 */
export async function createTestSchema(prefix: string, migrations: MigrationList, poolSize = 10): Promise<TestSchema> {
  const schema = uniqueName(prefix);
  const url = testDatabaseUrl();
  const dataSource = await openServiceDataSource({ url, schema, migrations, poolSize });
  return {
    schema,
    url,
    dataSource,
    drop: async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await dropSchema(url, schema);
    },
  };
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
