import { unchangedWhen } from '@pay/payments-domain';
import type { GroupCommitOptions } from '@pay/platform';
import { GroupCommit } from '@pay/platform';
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
 * Records deliveries, in one statement so concurrent deliveries of one event cannot both insert
 * (the second counts itself; `xmax = 0` holds for a row this statement inserted, not for one it
 * updated). News about a payment that its row already reflects (the domain's `unchangedWhen`: the
 * same PaymentIntent, a status and amounts the news cannot move) is recorded as applied at once,
 * so the commonest webhooks (created, then succeeded after the authorize step captured) cost this
 * statement and nothing else. Deliveries that arrive together share it (group commit): one
 * statement and one commit for a batch, each delivery's row told apart by (provider, event id).
 */
const RECORD: NamedStatement = {
  name: 'po_record_webhooks',
  text: `WITH delivered AS (
           SELECT * FROM jsonb_to_recordset($1::jsonb) AS d(
             provider text, event_id text, event_type text, object_type text, object_id text, payment_id text, livemode boolean,
             psp_created_at timestamptz, payload jsonb, u_provider text, u_reference text, u_statuses text[], u_amount bigint, u_captured bigint))
         INSERT INTO psp_webhook_events (provider, event_id, event_type, object_type, object_id, payment_id, livemode, psp_created_at, payload, applied_at, outcome)
         SELECT d.provider, d.event_id, d.event_type, d.object_type, d.object_id, d.payment_id, d.livemode, d.psp_created_at, d.payload,
                CASE WHEN r.outcome IS NULL THEN NULL ELSE now() END, r.outcome
           FROM delivered d
           LEFT JOIN LATERAL (
             SELECT 'unchanged'::text AS outcome FROM payments p
              WHERE d.u_provider IS NOT NULL AND p.provider = d.u_provider AND p.reference = d.u_reference AND p.status = ANY(d.u_statuses)
                AND (d.u_amount IS NULL OR p.amount = d.u_amount) AND (d.u_captured IS NULL OR p.captured_amount = d.u_captured)
                AND (d.payment_id IS NULL OR p.payment_id = d.payment_id)
              LIMIT 1) r ON true
         ON CONFLICT (provider, event_id) DO UPDATE SET deliveries = psp_webhook_events.deliveries + 1
         RETURNING provider, event_id, (xmax = 0) AS inserted, deliveries, applied_at IS NOT NULL AS applied`,
};

/** Deliveries recorded together; a webhook's answer waits for its batch's statement, nothing else. */
const RECORD_BATCHING: GroupCommitOptions = { maxBatchSize: 200, maxWaitMs: 2, maxConcurrentBatches: 2 };

interface RecordedRow {
  provider: string;
  event_id: string;
  inserted: boolean;
  deliveries: number;
  applied: boolean;
}

/** Why a webhook was, or was not, applied. */
export type WebhookOutcome = 'applied' | 'unchanged' | 'conflict' | 'unmatched' | 'ignored';

/** The webhook events table: one row per provider event, however often it is delivered. */
export class PspWebhookInbox {
  private readonly recorder = new GroupCommit<PspWebhookEvent, RecordedWebhook>((events) => this.recordAll(events), RECORD_BATCHING);

  constructor(private readonly dataSource: DataSource) {}

  /** Records one delivery (with whichever deliveries arrive beside it). */
  record(event: PspWebhookEvent): Promise<RecordedWebhook> {
    return this.recorder.submit(event);
  }

  /**
   * One statement per batch; a second delivery of an event already in the batch goes into the
   * next statement (one INSERT … ON CONFLICT cannot touch a row twice).
   */
  private async recordAll(events: readonly PspWebhookEvent[]): Promise<Array<PromiseSettledResult<RecordedWebhook>>> {
    const results = new Array<PromiseSettledResult<RecordedWebhook>>(events.length);
    let left = events.map((event, index) => ({ event, index }));
    while (left.length > 0) {
      const seen = new Set<string>();
      const now: typeof left = [];
      const later: typeof left = [];
      for (const item of left) {
        const key = `${item.event.provider}\u0000${item.event.id}`;
        (seen.has(key) ? later : now).push(item);
        seen.add(key);
      }
      const rows = await onConnection(this.dataSource, (sql) => queryNamed<RecordedRow>(sql, RECORD, [`[${now.map(({ event }) => this.rowOf(event)).join(',')}]`]));
      const byKey = new Map(rows.map((row) => [`${row.provider}\u0000${row.event_id}`, row]));
      for (const { event, index } of now) {
        const row = byKey.get(`${event.provider}\u0000${event.id}`);
        results[index] = row
          ? { status: 'fulfilled', value: { firstDelivery: row.inserted, deliveries: row.deliveries, applied: row.applied } }
          : { status: 'rejected', reason: new Error(`recording webhook ${event.id} returned no row`) };
      }
      left = later;
    }
    return results;
  }

  /** The delivery as a JSON object for the statement (its record, already JSON, goes in as it is). */
  private rowOf(event: PspWebhookEvent): string {
    const subject = event.subject;
    const objectType = subject.kind === 'other' ? subject.objectType : subject.kind === 'payment' ? 'payment_intent' : subject.kind;
    const objectId =
      subject.kind === 'payment' ? subject.payment.id : subject.kind === 'refund' ? subject.refund.id : subject.kind === 'dispute' ? subject.observation.disputeId : subject.objectId;
    const paymentId = subject.kind === 'payment' ? subject.payment.paymentId : subject.kind === 'refund' ? subject.refund.paymentId : undefined;
    const unchanged = subject.kind === 'payment' ? unchangedWhen(subject.payment.provider, subject.payment.observation) : undefined;
    const fields = JSON.stringify({
      provider: event.provider,
      event_id: event.id,
      event_type: event.type,
      object_type: objectType,
      object_id: objectId ?? null,
      payment_id: paymentId ?? null,
      livemode: event.livemode,
      psp_created_at: event.createdAt.toISOString(),
      u_provider: unchanged?.provider ?? null,
      u_reference: unchanged?.reference ?? null,
      u_statuses: unchanged?.statuses ?? [],
      u_amount: unchanged?.amount?.toString() ?? null,
      u_captured: unchanged?.capturedAmount?.toString() ?? null,
    });
    return `${fields.slice(0, -1)},"payload":${toWebhookRecord(event)}}`;
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
