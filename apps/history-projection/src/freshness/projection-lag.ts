import { LastValueGauge } from '@pay/observability';
import type { Admin } from 'kafkajs';
import type { Sql } from '@pay/platform';

export interface PartitionLag {
  partition: number;
  eventsBehind: number;
  /** Occurrence time of the last event applied from this partition, if any. */
  lastAppliedAt: string | null;
}

export interface TopicLag {
  topic: string;
  eventsBehind: number;
  secondsBehind: number;
  partitions: PartitionLag[];
}

export interface LagSnapshot {
  measuredAt: string;
  /** Events published but not yet applied, over all consumed topics. */
  eventsBehind: number;
  /** How far behind the clock the projection's view is: 0 when caught up (see the ADR). */
  secondsBehind: number;
  topics: TopicLag[];
  /** Set when the lag could not be measured (Kafka unreachable); the last figures stay in the metric. */
  error?: string;
}

let gauges: { events: LastValueGauge; seconds: LastValueGauge } | undefined;

/** Created on first use: instruments made before the OpenTelemetry SDK starts would stay no-ops. */
function lagGauges(): NonNullable<typeof gauges> {
  gauges ??= {
    events: new LastValueGauge('history_projection.lag.events', 'Events of a consumed topic not yet applied to the history read model'),
    seconds: new LastValueGauge('history_projection.lag.seconds', 'Age of the newest applied event of a lagging partition (0 when caught up)', 's'),
  };
  return gauges;
}

/**
 * Projection lag: events behind = the topics' end offsets minus the consumer group's committed
 * offsets (Kafka's own view, right across replicas); seconds behind = for a partition with
 * events waiting, now minus the occurrence time of the last event applied from it (from
 * `raw_events`), the event-time lag of stream processors. Exported as OpenTelemetry gauges and
 * shown in /health/ready.
 */
export class ProjectionLag {
  private last?: LagSnapshot;
  private inflight?: Promise<LagSnapshot>;

  constructor(
    private readonly admin: Admin,
    private readonly sql: Sql,
    private readonly groupId: string,
    private readonly topics: readonly string[],
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The latest measurement, measured again when older than `maxAgeMs`; a measurement that takes
   * longer than `timeoutMs` (Kafka slow or down) leaves the last one, marked as such.
   */
  async current(maxAgeMs: number, timeoutMs = 1_500): Promise<LagSnapshot> {
    if (this.last && this.now() - Date.parse(this.last.measuredAt) <= maxAgeMs) return this.last;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<LagSnapshot>((resolve) => {
      timer = setTimeout(() => {
        const previous = this.last ?? { measuredAt: new Date(this.now()).toISOString(), eventsBehind: 0, secondsBehind: 0, topics: [] };
        resolve({ ...previous, error: `lag not measured within ${timeoutMs} ms (Kafka slow or unreachable); figures of ${previous.measuredAt}` });
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.measure(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Measures (one measurement at a time; concurrent callers share it) and updates the gauges. */
  measure(): Promise<LagSnapshot> {
    this.inflight ??= this.measureOnce().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async measureOnce(): Promise<LagSnapshot> {
    const measuredAt = this.now();
    try {
      const committed = await this.admin.fetchOffsets({ groupId: this.groupId, topics: [...this.topics] });
      const behindOf = new Map<string, Array<{ partition: number; behind: number }>>();
      for (const topic of this.topics) {
        const ends = await this.admin.fetchTopicOffsets(topic);
        const done = new Map((committed.find((c) => c.topic === topic)?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
        behindOf.set(
          topic,
          ends.map((end) => {
            const position = done.get(end.partition) ?? -1n;
            const start = position >= 0n ? position : BigInt(end.low);
            return { partition: end.partition, behind: Number(BigInt(end.high) - start) };
          }),
        );
      }
      // When the last event of each partition with events waiting was applied: one statement for all of them.
      const applied = await this.lastApplied([...behindOf].flatMap(([topic, ends]) => ends.filter((end) => end.behind > 0).map((end) => ({ topic, ...end }))));
      const topics: TopicLag[] = [];
      for (const [topic, ends] of behindOf) {
        const partitions: PartitionLag[] = [];
        let secondsBehind = 0;
        for (const { partition, behind } of ends) {
          let lastAppliedAt: string | null = null;
          if (behind > 0) {
            lastAppliedAt = applied.get(`${topic}:${partition}`) ?? null;
            // Never applied anything from it: behind by at least the time since we first looked.
            const since = lastAppliedAt === null ? this.firstSeen(topic, partition, measuredAt) : Date.parse(lastAppliedAt);
            secondsBehind = Math.max(secondsBehind, Math.max(0, (measuredAt - since) / 1000));
          }
          partitions.push({ partition, eventsBehind: Math.max(0, behind), lastAppliedAt });
        }
        const eventsBehind = partitions.reduce((sum, p) => sum + p.eventsBehind, 0);
        topics.push({
          topic,
          eventsBehind,
          secondsBehind: Math.round(secondsBehind * 1000) / 1000,
          partitions: partitions.sort((a, b) => a.partition - b.partition),
        });
        lagGauges().events.set(eventsBehind, { topic, consumer: this.groupId });
        lagGauges().seconds.set(secondsBehind, { topic, consumer: this.groupId });
      }
      this.last = {
        measuredAt: new Date(measuredAt).toISOString(),
        eventsBehind: topics.reduce((sum, t) => sum + t.eventsBehind, 0),
        secondsBehind: topics.reduce((max, t) => Math.max(max, t.secondsBehind), 0),
        topics,
      };
    } catch (error) {
      this.last = {
        ...(this.last ?? { eventsBehind: 0, secondsBehind: 0, topics: [] }),
        measuredAt: new Date(measuredAt).toISOString(),
        error: (error as Error).message,
      };
    }
    return this.last;
  }

  private readonly firstSeenAt = new Map<string, number>();

  private firstSeen(topic: string, partition: number, now: number): number {
    const key = `${topic}:${partition}`;
    if (!this.firstSeenAt.has(key)) this.firstSeenAt.set(key, now);
    return this.firstSeenAt.get(key)!;
  }

  /** By `topic:partition`, when the last event applied from it occurred (absent: none applied yet). */
  private async lastApplied(partitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<Map<string, string>> {
    if (partitions.length === 0) return new Map();
    const rows = await this.sql.query<{ topic: string; kafka_partition: number; occurred_at: Date }>(
      `SELECT p.topic, p.kafka_partition, r.occurred_at
         FROM unnest($1::text[], $2::int[]) AS p(topic, kafka_partition)
         JOIN LATERAL (SELECT occurred_at FROM raw_events e WHERE e.topic = p.topic AND e.kafka_partition = p.kafka_partition
                        ORDER BY e.kafka_offset DESC LIMIT 1) r ON true`,
      [partitions.map((p) => p.topic), partitions.map((p) => p.partition)],
    );
    return new Map(rows.map((row) => [`${row.topic}:${row.kafka_partition}`, new Date(row.occurred_at).toISOString()]));
  }
}
