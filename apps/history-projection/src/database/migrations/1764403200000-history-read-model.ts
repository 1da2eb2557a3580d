import type { MigrationInterface, QueryRunner } from 'typeorm';
import { READ_MODEL_VERSIONS_SQL, RAW_EVENTS_TABLE_SQL } from '../../read-model/read-model-schema';
import { dropReadModelSql, readModelIndexesSql, readModelTablesSql } from '../../read-model/read-model-tables';

/**
 * The raw event store, the version registry and pointer, and version 1 of the read model
 * (live from the start, with its indexes).
 */
export class HistoryReadModel1764403200000 implements MigrationInterface {
  name = 'HistoryReadModel1764403200000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(RAW_EVENTS_TABLE_SQL);
    await runner.query(READ_MODEL_VERSIONS_SQL);
    for (const statement of [...readModelTablesSql(1), ...readModelIndexesSql(1)]) await runner.query(statement);
    await runner.query(`INSERT INTO read_model_versions (version, state, indexed, live_since) VALUES (1, 'live', true, now())`);
    await runner.query('INSERT INTO read_model_pointer (live_version) VALUES (1)');
  }

  async down(runner: QueryRunner): Promise<void> {
    const versions = (await runner.query('SELECT version FROM read_model_versions')) as Array<{ version: number }>;
    for (const { version } of versions) {
      await runner.query(dropReadModelSql(version));
    }
    await runner.query('DROP TABLE IF EXISTS read_model_pointer, read_model_versions, raw_events');
  }
}
