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
}

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
         INSERT INTO psp_webhook_events (provider, event_id, event_type, object_type, object_id, payment_id, livemode, psp_created_at, payload, applied_at, outcome)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, CASE WHEN v.outcome IS NULL THEN NULL ELSE now() END, v.outcome
           FROM (SELECT (SELECT outcome FROM reflected LIMIT 1) AS outcome) v
         ON CONFLICT (provider, event_id) DO UPDATE SET deliveries = psp_webhook_events.deliveries + 1
         RETURNING (xmax = 0) AS inserted, deliveries, applied_at IS NOT NULL AS applied`,
};

/** Why a webhook was, or was not, applied. */
export type WebhookOutcome = 'applied' | 'unchanged' | 'conflict' | 'unmatched' | 'ignored';

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
      queryNamed<{ inserted: boolean; deliveries: number; applied: boolean }>(sql, RECORD, [
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
      ]),
    );
    return { firstDelivery: rows[0].inserted, deliveries: rows[0].deliveries, applied: rows[0].applied };
  }

  /** Marks the event applied (or why not), in the caller's transaction when its effect has one. */
  async markApplied(provider: string, eventId: string, outcome: WebhookOutcome, sql?: Sql): Promise<void> {
    const text = 'UPDATE psp_webhook_events SET applied_at = now(), outcome = $3 WHERE provider = $1 AND event_id = $2 AND applied_at IS NULL';
    if (sql) await sql.query(text, [provider, eventId, outcome]);
    else await this.dataSource.query(text, [provider, eventId, outcome]);
  }

  /** Unmatched for now (its payment unknown yet): left unapplied, looked at again later. */
  async markUnmatched(provider: string, eventId: string): Promise<void> {
    await this.dataSource.query("UPDATE psp_webhook_events SET outcome = 'unmatched' WHERE provider = $1 AND event_id = $2 AND applied_at IS NULL", [provider, eventId]);
  }

  /** Events received but not applied, oldest first (a crash between recording and applying, or an unmatched one). */
  async unapplied(olderThanMs: number, limit: number): Promise<PspWebhookEvent[]> {
    const rows = await this.dataSource.query<{ provider: string; payload: unknown }[]>(
      `SELECT provider, payload FROM psp_webhook_events WHERE applied_at IS NULL AND received_at < now() - $1 * interval '1 millisecond' ORDER BY received_at LIMIT $2`,
      [olderThanMs, limit],
    );
    return rows.map((row) => fromWebhookRecord(row.provider, row.payload));
  }
}
