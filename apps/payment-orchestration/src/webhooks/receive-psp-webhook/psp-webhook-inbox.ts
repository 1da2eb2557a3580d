import { unchangedWhen } from '@pay/payments-domain';
import type { DataSource } from 'typeorm';
import type { NamedStatement, Sql } from '../../database/sql';
import { onConnection, queryNamed } from '../../database/sql';
import type { PspWebhookEvent } from '../../psp/psp.port';
import { fromWebhookRecord, toWebhookRecord } from './webhook-record';

export interface RecordedWebhook {
  /** False when the provider delivered this event before (its id is known). */
  readonly firstDelivery: boolean;
  readonly deliveries: number;
  /**
   * Whether it was applied to its payment already: a redelivery, or news the payment already
   * reflects (recorded as applied, outcome `unchanged`, by the statement that recorded it).
   */
  readonly applied: boolean;
  /** When the sweep looks at it again if it is not applied by then (undefined: applied, or given up). */
  readonly retryAt?: Date;
}

/**
 * How a webhook not applied is looked at again: a first time 5 s after it was recorded (a crash
 * or a failure between recording and applying), then, while its payment is unknown here, after
 * 5 s doubling up to an hour apart, for 3 days after it arrived. Then it is given up: left
 * unapplied with outcome `unmatched` and no next attempt, for reconciliation and an operator.
 */
export const WEBHOOK_RETRIES = { firstMs: 5_000, maxMs: 3_600_000, horizonMs: 3 * 24 * 3_600_000 } as const;

/**
 * Records a delivery, in one statement so concurrent deliveries of one event cannot both insert
 * (the second counts itself; `xmax = 0` holds for a row this statement inserted, not for one it
 * updated). News about a payment that its row already reflects (the domain's `unchangedWhen`: the
 * same PaymentIntent, a status and amounts the news cannot move) is recorded as applied at once,
 * so the commonest webhooks (created, then succeeded after the authorize step captured) cost this
 * one statement and nothing else.
 */
const RECORD: NamedStatement = {
  name: 'po_record_webhook',
  text: `WITH reflected AS (
           SELECT 'unchanged'::text AS outcome FROM payments
            WHERE $10::text IS NOT NULL AND provider = $10 AND reference = $11 AND status = ANY($12::text[])
              AND ($13::bigint IS NULL OR amount = $13) AND ($14::bigint IS NULL OR captured_amount = $14)
              AND ($6::text IS NULL OR payment_id = $6))
         INSERT INTO psp_webhook_events (provider, event_id, event_type, object_type, object_id, payment_id, livemode, psp_created_at, payload, applied_at, outcome, next_attempt_at)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, CASE WHEN v.outcome IS NULL THEN NULL ELSE now() END, v.outcome,
                CASE WHEN v.outcome IS NULL THEN now() + $15 * interval '1 millisecond' END
           FROM (SELECT (SELECT outcome FROM reflected LIMIT 1) AS outcome) v
         ON CONFLICT (provider, event_id) DO UPDATE SET deliveries = psp_webhook_events.deliveries + 1
         RETURNING (xmax = 0) AS inserted, deliveries, applied_at IS NOT NULL AS applied, next_attempt_at`,
};

/** Why a webhook was, or was not, applied. */
export type WebhookOutcome = 'applied' | 'unchanged' | 'conflict' | 'unmatched' | 'ignored';

export interface DueWebhooks {
  readonly events: PspWebhookEvent[];
  /** When the earliest webhook not due yet is due; undefined when none is waiting for a time. */
  readonly nextDueAt?: Date;
}

/** The webhook events table: one row per provider event, however often it is delivered. */
export class PspWebhookInbox {
  constructor(private readonly dataSource: DataSource) {}

  async record(event: PspWebhookEvent): Promise<RecordedWebhook> {
    const subject = event.subject;
    const objectType = subject.kind === 'other' ? subject.objectType : subject.kind === 'payment' ? 'payment_intent' : subject.kind;
    const objectId =
      subject.kind === 'payment' ? subject.payment.id : subject.kind === 'refund' ? subject.refund.id : subject.kind === 'dispute' ? subject.observation.disputeId : subject.objectId;
    const paymentId = subject.kind === 'payment' ? subject.payment.paymentId : subject.kind === 'refund' ? subject.refund.paymentId : undefined;
    const unchanged = subject.kind === 'payment' ? unchangedWhen(subject.payment.provider, subject.payment.observation) : undefined;
    const rows = await onConnection(this.dataSource, (sql) =>
      queryNamed<{ inserted: boolean; deliveries: number; applied: boolean; next_attempt_at: Date | null }>(sql, RECORD, [
        event.provider,
        event.id,
        event.type,
        objectType,
        objectId ?? null,
        paymentId ?? null,
        event.livemode,
        event.createdAt.toISOString(),
        toWebhookRecord(event),
        unchanged?.provider ?? null,
        unchanged?.reference ?? null,
        unchanged?.statuses ?? [],
        unchanged?.amount?.toString() ?? null,
        unchanged?.capturedAmount?.toString() ?? null,
        WEBHOOK_RETRIES.firstMs,
      ]),
    );
    const [row] = rows;
    return { firstDelivery: row.inserted, deliveries: row.deliveries, applied: row.applied, ...(row.next_attempt_at ? { retryAt: row.next_attempt_at } : {}) };
  }

  /** Marks the event applied (or why not), in the caller's transaction when its effect has one. */
  async markApplied(provider: string, eventId: string, outcome: WebhookOutcome, sql?: Sql): Promise<void> {
    const text = 'UPDATE psp_webhook_events SET applied_at = now(), outcome = $3, next_attempt_at = NULL WHERE provider = $1 AND event_id = $2 AND applied_at IS NULL';
    if (sql) await sql.query(text, [provider, eventId, outcome]);
    else await this.dataSource.query(text, [provider, eventId, outcome]);
  }

  /**
   * Unmatched for now (its payment unknown yet): left unapplied, looked at again after the next
   * backoff. Returns when; undefined once given up (WEBHOOK_RETRIES.horizonMs after it arrived).
   */
  markUnmatched(provider: string, eventId: string): Promise<Date | undefined> {
    return this.retryLater(provider, eventId, 'unmatched');
  }

  /** Applying it failed (an outage, a bug): looked at again after the next backoff, its outcome untouched. */
  postpone(provider: string, eventId: string): Promise<Date | undefined> {
    return this.retryLater(provider, eventId, null);
  }

  /**
   * Webhooks due for another attempt, the longest due first, and when the next one not due yet
   * is due (undefined: none is), in one statement.
   */
  async due(limit: number): Promise<DueWebhooks> {
    const rows = await this.dataSource.query<{ provider: string; payload: unknown; next_attempt_at: Date }[]>(
      `(SELECT provider, payload, next_attempt_at FROM psp_webhook_events
         WHERE applied_at IS NULL AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT $1)
       UNION ALL
       (SELECT provider, NULL, next_attempt_at FROM psp_webhook_events
         WHERE applied_at IS NULL AND next_attempt_at > now() ORDER BY next_attempt_at LIMIT 1)`,
      [limit],
    );
    const events = rows.filter((row) => row.payload !== null).map((row) => fromWebhookRecord(row.provider, row.payload));
    const next = rows.find((row) => row.payload === null)?.next_attempt_at;
    return { events, ...(next ? { nextDueAt: next } : {}) };
  }

  /**
   * Every webhook not applied, due or not, given up or not (reconciliation): the longest due
   * first, those given up last.
   */
  async unapplied(limit: number): Promise<PspWebhookEvent[]> {
    const rows = await this.dataSource.query<{ provider: string; payload: unknown }[]>(
      'SELECT provider, payload FROM psp_webhook_events WHERE applied_at IS NULL ORDER BY next_attempt_at NULLS LAST, received_at LIMIT $1',
      [limit],
    );
    return rows.map((row) => fromWebhookRecord(row.provider, row.payload));
  }

  private async retryLater(provider: string, eventId: string, outcome: WebhookOutcome | null): Promise<Date | undefined> {
    const rows = await onConnection(this.dataSource, (sql) =>
      sql.query<{ next_attempt_at: Date | null }>(
        `UPDATE psp_webhook_events
            SET outcome = COALESCE($3, outcome), attempts = attempts + 1,
                next_attempt_at = CASE WHEN received_at + $6 * interval '1 millisecond' > now()
                                       THEN now() + least($5::float8, $4 * power(2, least(attempts, 30))) * interval '1 millisecond' END
          WHERE provider = $1 AND event_id = $2 AND applied_at IS NULL
          RETURNING next_attempt_at`,
        [provider, eventId, outcome, WEBHOOK_RETRIES.firstMs, WEBHOOK_RETRIES.maxMs, WEBHOOK_RETRIES.horizonMs],
      ),
    );
    return rows[0]?.next_attempt_at ?? undefined;
  }
}
