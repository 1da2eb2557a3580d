import type { DataSource } from 'typeorm';

/**
 * Rows of a query in batches, through a server-side cursor in one read-only, repeatable-read
 * transaction: the export sees one snapshot and never holds more than a batch in memory. The
 * consumer pulls (an async generator runs only when asked for the next batch), so a slow HTTP
 * client slows the reading down instead of filling memory. Ending early (the client went away)
 * closes the cursor and gives the connection back.
 */
export async function* streamQuery<T>(dataSource: DataSource, text: string, values: unknown[], batchSize = 1_000): AsyncGenerator<T[]> {
  const runner = dataSource.createQueryRunner('slave');
  await runner.connect();
  let open = false;
  try {
    await runner.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    open = true;
    await runner.query(`DECLARE history_export NO SCROLL CURSOR FOR ${text}`, values);
    for (;;) {
      const rows = (await runner.query(`FETCH ${Math.max(1, Math.floor(batchSize))} FROM history_export`)) as T[];
      if (rows.length === 0) break;
      yield rows;
    }
    await runner.query('COMMIT');
    open = false;
  } finally {
    // Also reached when the consumer stops early (generator.return()) or a query failed.
    if (open) await runner.query('ROLLBACK').catch(() => undefined);
    await runner.release();
  }
}
