import type { BatchWork, ConsumedEvent } from '@pay/messaging';
import type { Sql } from '@pay/platform';
import { preparing } from '@pay/platform';
import { lockLiveVersion } from '../read-model/read-model-version';
import type { ProjectionOutcome } from './project-events';
import { projectEvents } from './project-events';

/**
 * The live path, inside the inbox transaction of the consumed events: keep the envelopes in
 * `raw_events` (the rebuild's source: every consumed event, stored once), then project them
 * into the version that is live at this moment. One statement stores them all and one
 * projection folds them in: its locks are taken per kind in key order, so the transactions of
 * other partitions queue behind it instead of deadlocking on shared rows (daily totals).
 * Every statement of it is prepared once per connection: their texts are constants of the code
 * (the live version's table names included), and planning them cost more than running them.
 */
export async function storeAndProject(unprepared: Sql, consumed: readonly ConsumedEvent[]): Promise<ProjectionOutcome> {
  const sql = preparing(unprepared);
  const rows = consumed.map(({ envelope, topic, partition, offset }) => ({
    event_id: envelope.id,
    topic,
    kafka_partition: partition,
    kafka_offset: offset,
    type: envelope.type,
    occurred_at: envelope.occurredAt,
    envelope,
  }));
  await sql.query(
    `INSERT INTO raw_events (event_id, topic, kafka_partition, kafka_offset, type, occurred_at, envelope)
     SELECT event_id, topic, kafka_partition, kafka_offset, type, occurred_at, envelope
       FROM jsonb_to_recordset($1::jsonb) AS r(event_id uuid, topic text, kafka_partition int, kafka_offset bigint, type text, occurred_at timestamptz, envelope jsonb)
     ON CONFLICT (event_id) DO NOTHING`,
    [JSON.stringify(rows)],
  );
  const version = await lockLiveVersion(sql);
  return projectEvents(
    sql,
    version,
    consumed.map((c) => c.envelope),
  );
}

/** The events of one inbox transaction, stored and projected together just before it commits. */
export class PendingProjection implements BatchWork {
  private readonly consumed: ConsumedEvent[] = [];

  constructor(private readonly sql: Sql) {}

  add(event: ConsumedEvent): void {
    this.consumed.push(event);
  }

  async beforeCommit(): Promise<void> {
    if (this.consumed.length > 0) await storeAndProject(this.sql, this.consumed);
  }
}
