import type { Sql } from '@pay/platform';

/** Moves the partition's latest event time forward (never back). */
export async function advanceWatermark(sql: Sql, topic: string, partition: number, eventTime: number): Promise<void> {
  await sql.query(
    `INSERT INTO input_watermarks (topic, kafka_partition, latest_event_at) VALUES ($1, $2, $3)
     ON CONFLICT (topic, kafka_partition) DO UPDATE SET latest_event_at = GREATEST(input_watermarks.latest_event_at, EXCLUDED.latest_event_at)`,
    [topic, partition, new Date(eventTime).toISOString()],
  );
}

/** Moves several partitions' latest event times forward in one statement (one entry per partition). */
export async function advanceWatermarks(sql: Sql, marks: readonly { topic: string; partition: number; at: number }[]): Promise<void> {
  await sql.query(
    `INSERT INTO input_watermarks (topic, kafka_partition, latest_event_at)
     SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[])
     ON CONFLICT (topic, kafka_partition) DO UPDATE SET latest_event_at = GREATEST(input_watermarks.latest_event_at, EXCLUDED.latest_event_at)`,
    [marks.map((m) => m.topic), marks.map((m) => m.partition), marks.map((m) => new Date(m.at).toISOString())],
  );
}

/** The latest event time seen on any input partition, epoch ms. */
export async function latestEventTime(sql: Sql): Promise<number | undefined> {
  const rows = await sql.query<{ latest: Date | null }>('SELECT max(latest_event_at) AS latest FROM input_watermarks');
  return rows[0]?.latest ? rows[0].latest.getTime() : undefined;
}
