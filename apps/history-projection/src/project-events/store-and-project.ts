import type { BatchWork, ConsumedEvent } from '@pay/messaging';
import type { Sql } from '@pay/platform';
import { preparing } from '@pay/platform';
import type { RawEventRow } from './project-chunk';
import { LiveVersionGuess, storeAndProjectChunk } from './project-chunk';
import type { ProjectionOutcome } from './project-events';

/**
 * The live path, inside the inbox transaction of the consumed events: keep the envelopes in
 * `raw_events` (the rebuild's source: every consumed event, stored once), then project them
 * into the version that is live at this moment, in three statements per chunk
 * (project-chunk.ts): lock (storing the envelopes and the ledger postings), read, write. Locks
 * are taken per kind in key order, so the transactions of other partitions queue behind it
 * instead of deadlocking on shared rows (daily totals). Every statement is prepared once per
 * connection: their texts are constants of the code (the live version's table names included),
 * and planning them cost more than running them.
 */
export async function storeAndProject(
  unprepared: Sql,
  consumed: readonly ConsumedEvent[],
  live: LiveVersionGuess = new LiveVersionGuess(),
): Promise<ProjectionOutcome> {
  const rows: RawEventRow[] = consumed.map(({ envelope, topic, partition, offset }) => ({
    event_id: envelope.id,
    topic,
    kafka_partition: partition,
    kafka_offset: offset,
    type: envelope.type,
    occurred_at: envelope.occurredAt,
    envelope,
  }));
  return storeAndProjectChunk(
    preparing(unprepared),
    rows,
    consumed.map((c) => c.envelope),
    live,
  );
}

/** The events of one inbox transaction, stored and projected together just before it commits. */
export class PendingProjection implements BatchWork {
  private readonly consumed: ConsumedEvent[] = [];

  constructor(
    private readonly sql: Sql,
    private readonly live: LiveVersionGuess,
  ) {}

  add(event: ConsumedEvent): void {
    this.consumed.push(event);
  }

  async beforeCommit(): Promise<void> {
    if (this.consumed.length > 0) await storeAndProject(this.sql, this.consumed, this.live);
  }
}
