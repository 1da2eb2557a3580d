import type { Logger } from '@pay/observability';
import { platformMetrics } from '@pay/observability';
import type { Message } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { EventPublisher } from '../kafka/event-publisher';

export interface OutboxRelayOptions {
  /** Name of this relay's checkpoint row (one per outbox). */
  name: string;
  dataSource: DataSource;
  publisher: EventPublisher;
  logger: Logger;
  batchSize?: number;
  /** Pause when the outbox is drained. */
  idleDelayMs?: number;
}

interface OutboxRow {
  position: string;
  tx_id: string;
  topic: string;
  message_key: string;
  payload: unknown;
  headers: Record<string, string>;
}

/**
 * Publishes the outbox to Kafka in commit order, at least once (consumers deduplicate by
 * event id). Rows are read in (tx_id, position) order and only from transactions older than
 * every transaction still in flight, so a transaction that took a lower position but commits
 * later is waited for instead of skipped. The checkpoint row is locked while a batch is
 * published, so two relay instances never publish the same outbox concurrently.
 */
export class OutboxRelay {
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  published = 0;

  constructor(private readonly options: OutboxRelayOptions) {}

  async start(): Promise<void> {
    await this.options.dataSource.query(
      `INSERT INTO outbox_checkpoint (relay, tx_id, position) VALUES ($1, '0'::xid8, 0) ON CONFLICT (relay) DO NOTHING`,
      [this.options.name],
    );
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Publishes one batch; returns how many rows it published (0 when drained or another relay holds the lock). */
  async publishBatch(): Promise<number> {
    const runner = this.options.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction('READ COMMITTED');
      const checkpoint = (await runner.query(
        'SELECT tx_id::text AS tx_id, position FROM outbox_checkpoint WHERE relay = $1 FOR UPDATE SKIP LOCKED',
        [this.options.name],
      )) as { tx_id: string; position: string }[];
      const from = checkpoint[0];
      if (!from) {
        await runner.rollbackTransaction();
        return 0;
      }
      const rows = (await runner.query(
        `SELECT position, tx_id::text AS tx_id, topic, message_key, payload, headers
           FROM outbox
          WHERE (tx_id, position) > ($1::xid8, $2::bigint)
            AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
          ORDER BY tx_id, position
          LIMIT $3`,
        [from.tx_id, from.position, this.options.batchSize ?? 500],
      )) as OutboxRow[];
      if (rows.length === 0) {
        await runner.rollbackTransaction();
        return 0;
      }
      await this.options.publisher.sendRaw(groupByTopic(rows));
      const last = rows[rows.length - 1];
      await runner.query('UPDATE outbox_checkpoint SET tx_id = $2::xid8, position = $3, updated_at = now() WHERE relay = $1', [
        this.options.name,
        last.tx_id,
        last.position,
      ]);
      await runner.commitTransaction();
      this.published += rows.length;
      platformMetrics().outboxPublished.add(rows.length, { relay: this.options.name });
      return rows.length;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      throw error;
    } finally {
      await runner.release();
    }
  }

  /** Rows written but not yet published: the backlog an operator watches. */
  async backlog(): Promise<number> {
    const rows: { backlog: string }[] = await this.options.dataSource.query(
      `SELECT count(*) AS backlog FROM outbox o, outbox_checkpoint c
        WHERE c.relay = $1 AND (o.tx_id, o.position) > (c.tx_id, c.position)`,
      [this.options.name],
    );
    return Number(rows[0]?.backlog ?? 0);
  }

  /** Cheap estimate for the metric: positions can have gaps (rolled-back writes), never overlaps. */
  private async measureBacklog(): Promise<void> {
    const rows = await this.options.dataSource.query<{ backlog: string }[]>(
      `SELECT coalesce((SELECT max(position) FROM outbox), 0) - c.position AS backlog FROM outbox_checkpoint c WHERE c.relay = $1`,
      [this.options.name],
    );
    platformMetrics().outboxBacklog.set(Math.max(0, Number(rows[0]?.backlog ?? 0)), { relay: this.options.name });
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        const published = await this.publishBatch();
        failures = 0;
        if (published > 0) continue;
        await this.measureBacklog();
      } catch (error) {
        failures += 1;
        this.options.logger.error({ err: error, failures }, 'outbox relay failed to publish; will retry');
      }
      const delay = failures > 0 ? Math.min(5_000, 100 * 2 ** failures) : (this.options.idleDelayMs ?? 50);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

function groupByTopic(rows: OutboxRow[]): { topic: string; messages: Message[] }[] {
  const byTopic = new Map<string, Message[]>();
  for (const row of rows) {
    const messages = byTopic.get(row.topic) ?? [];
    const payload = row.payload as { id?: string; type?: string };
    messages.push({
      key: row.message_key,
      value: JSON.stringify(row.payload),
      headers: { ...row.headers, 'event-id': payload.id ?? '', 'event-type': payload.type ?? '' },
    });
    byTopic.set(row.topic, messages);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
