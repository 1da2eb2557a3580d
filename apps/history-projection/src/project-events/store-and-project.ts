import type { EventEnvelope } from '@pay/contracts';
import type { Sql } from '../database/sql';
import { lockLiveVersion } from '../read-model/read-model-version';
import type { ProjectionOutcome } from './project-events';
import { projectEvents } from './project-events';

export interface ConsumedEnvelope {
  envelope: EventEnvelope;
  topic: string;
  partition: number;
  offset: string;
}

/**
 * The live path, inside the inbox transaction of one consumed event: keep the envelope in
 * `raw_events` (the rebuild's source: every consumed event, stored once), then project it into
 * the version that is live at this moment.
 */
export async function storeAndProject(sql: Sql, consumed: ConsumedEnvelope): Promise<ProjectionOutcome> {
  const { envelope } = consumed;
  await sql.query(
    `INSERT INTO raw_events (event_id, topic, kafka_partition, kafka_offset, type, occurred_at, envelope)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT (event_id) DO NOTHING`,
    [envelope.id, consumed.topic, consumed.partition, consumed.offset, envelope.type, envelope.occurredAt, JSON.stringify(envelope)],
  );
  const version = await lockLiveVersion(sql);
  return projectEvents(sql, version, [envelope]);
}
