import { unchangedWhen } from '@pay/payments-domain';
import type { GroupCommitOptions } from '@pay/messaging';
import { GroupCommit } from '@pay/messaging';
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
  /**
   * Its payment's step is waiting for the PSP's answer, which brings the same news: not applied
   * now, but by that answer's append (when it makes the webhook news the payment reflects) or by
   * the sweep at `retryAt` (WEBHOOK_RETRIES.answerGraceMs later).
   */
  readonly awaitingAnswer: boolean;
  /** When the sweep looks at it again if it is not applied by then (undefined: applied, or given up). */
  readonly retryAt?: Date;
}

/**
 * How a webhook not applied is looked at again: a first time 5 s after it was recorded (a crash
 * or a failure between recording and applying), then, while its payment is unknown here, after
 * 5 s doubling up to an hour apart, for 3 days after it arrived. Then it is given up: left
 * unapplied with outcome `unmatched` and no next attempt, for reconciliation and an operator.
 */
export const WEBHOOK_RETRIES = { firstMs: 5_000, maxMs: 3_600_000, horizonMs: 3 * 24 * 3_600_000, answerGraceMs: 3_000 } as const;

/**
 * Records deliveries, in one statement so concurrent deliveries of one event cannot both insert
 * (the second counts itself; `xmax = 0` holds for a row this statement inserted, not for one it
 * updated). News about a payment that its row already reflects (the domain's `unchangedWhen`: the
 * same PaymentIntent, a status and amounts the news cannot move) is recorded as applied at once,
 * so the commonest webhooks (created, then succeeded after the authorize step captured) cost this
 * statement and nothing else. News about a payment whose step is waiting for the PSP's answer
 * (its lease running) waits for that answer (`awaiting_answer`, due WEBHOOK_RETRIES.answerGraceMs
 * later): the answer's append marks it applied if it then is news the payment reflects, so the
 * webhook that races the answer costs this statement too. Deliveries that arrive together share
 * it (group commit): one statement and one commit for a batch, each delivery's row told apart by
 * (provider, event id).
 */
const RECORD: NamedStatement = {
  name: 'po_record_webhooks',
  // Run on its own: planned once per connection, sent with its BEGIN and COMMIT (NamedStatement.plans).
  plans: 'generic',
  text: `WITH delivered AS (
           SELECT * FROM jsonb_to_recordset($1::jsonb) AS d(
             provider text, event_id text, event_type text, object_type text, object_id text, payment_id text, livemode boolean,
             psp_created_at timestamptz, payload jsonb, u_provider text, u_reference text, u_statuses text[], u_amount bigint, u_captured bigint))
         INSERT INTO psp_webhook_events (provider, event_id, event_type, object_type, object_id, payment_id, livemode, psp_created_at, payload, applied_at, outcome, next_attempt_at,
                                         unchanged_provider, unchanged_reference, unchanged_statuses, unchanged_amount, unchanged_captured)
         SELECT d.provider, d.event_id, d.event_type, d.object_type, d.object_id, d.payment_id, d.livemode, d.psp_created_at, d.payload,
                CASE WHEN r.outcome IS NULL THEN NULL ELSE now() END, COALESCE(r.outcome, a.outcome),
                CASE WHEN r.outcome IS NOT NULL THEN NULL
                     WHEN a.outcome IS NOT NULL THEN now() + $3 * interval '1 millisecond'
                     ELSE now() + $2 * interval '1 millisecond' END,
                d.u_provider, d.u_reference, d.u_statuses, d.u_amount, d.u_captured
           FROM delivered d
           LEFT JOIN LATERAL (
             SELECT 'unchanged'::text AS outcome FROM payments p
              WHERE d.u_provider IS NOT NULL AND p.provider = d.u_provider AND p.reference = d.u_reference AND p.status = ANY(d.u_statuses)
                AND (d.u_amount IS NULL OR p.amount = d.u_amount) AND (d.u_captured IS NULL OR p.captured_amount = d.u_captured)
                AND (d.payment_id IS NULL OR p.payment_id = d.payment_id)
              LIMIT 1) r ON true
           LEFT JOIN LATERAL (
             SELECT 'awaiting_answer'::text AS outcome FROM payment_steps s
              WHERE r.outcome IS NULL AND d.u_provider IS NOT NULL AND s.payment_id = d.payment_id AND s.lease_until > now()
              LIMIT 1) a ON true
         ON CONFLICT (provider, event_id) DO UPDATE SET deliveries = psp_webhook_events.deliveries + 1
         RETURNING provider, event_id, (xmax = 0) AS inserted, deliveries, applied_at IS NOT NULL AS applied,
                   (applied_at IS NULL AND outcome = 'awaiting_answer') AS awaiting_answer, next_attempt_at`,
};

/** See PspWebhookInbox.absorbDue: RECORD's test of news a payment reflects, over the webhooks due. */
const ABSORB_DUE: NamedStatement = {
  name: 'po_absorb_due_webhooks',
  text: `WITH absorbed AS (
           UPDATE psp_webhook_events w SET applied_at = now(), outcome = 'unchanged', next_attempt_at = NULL
             FROM payments p
            WHERE w.applied_at IS NULL AND w.next_attempt_at <= now() AND w.unchanged_provider IS NOT NULL
              AND p.provider = w.unchanged_provider AND p.reference = w.unchanged_reference AND p.status = ANY(w.unchanged_statuses)
              AND (w.unchanged_amount IS NULL OR p.amount = w.unchanged_amount) AND (w.unchanged_captured IS NULL OR p.captured_amount = w.unchanged_captured)
              AND (w.payment_id IS NULL OR p.payment_id = w.payment_id)
           RETURNING 1)
         SELECT count(*)::int AS n FROM absorbed`,
};

/** Deliveries recorded together; a webhook's answer waits for its batch's statement, nothing else. */
const RECORD_BATCHING: GroupCommitOptions = { maxBatchSize: 200, maxWaitMs: 2, maxConcurrentBatches: 2 };

interface RecordedRow {
  provider: string;
  event_id: string;
  inserted: boolean;
  deliveries: number;
  applied: boolean;
  awaiting_answer: boolean;
  next_attempt_at: Date | null;
}

/** Why a webhook was, or was not (yet: `unmatched`, `awaiting_answer`), applied. */
export type WebhookOutcome = 'applied' | 'unchanged' | 'conflict' | 'unmatched' | 'ignored' | 'awaiting_answer';

export interface DueWebhooks {
  readonly events: PspWebhookEvent[];
  /** When the earliest webhook not due yet is due; undefined when none is waiting for a time. */
  readonly nextDueAt?: Date;
}

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
      const rows = await onConnection(this.dataSource, (sql) =>
        queryNamed<RecordedRow>(sql, RECORD, [
          `[${now.map(({ event }) => this.rowOf(event)).join(',')}]`,
          WEBHOOK_RETRIES.firstMs,
          WEBHOOK_RETRIES.answerGraceMs,
        ]),
      );
      const byKey = new Map(rows.map((row) => [`${row.provider}\u0000${row.event_id}`, row]));
      for (const { event, index } of now) {
        const row = byKey.get(`${event.provider}\u0000${event.id}`);
        results[index] = row
          ? {
              status: 'fulfilled',
              value: {
                firstDelivery: row.inserted,
                deliveries: row.deliveries,
                applied: row.applied,
                awaitingAnswer: row.awaiting_answer,
                ...(row.next_attempt_at ? { retryAt: row.next_attempt_at } : {}),
              },
            }
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
      subject.kind === 'payment'
        ? subject.payment.id
        : subject.kind === 'refund'
          ? subject.refund.id
          : subject.kind === 'dispute'
            ? subject.observation.disputeId
            : subject.objectId;
    const paymentId =
      subject.kind === 'payment'
        ? subject.payment.paymentId
        : subject.kind === 'refund'
          ? subject.refund.paymentId
          : subject.kind === 'dispute'
            ? subject.paymentId
            : undefined;
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
    const text =
      'UPDATE psp_webhook_events SET applied_at = now(), outcome = $3, next_attempt_at = NULL WHERE provider = $1 AND event_id = $2 AND applied_at IS NULL';
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
   * Marks applied (outcome `unchanged`), in one statement, every webhook due whose news its
   * payment's row now reflects (the same test as RECORD's): those that raced their payment's
   * answer (recorded `awaiting_answer` while the answer's append ran, so neither statement saw the
   * other) and any other whose news arrived by another way meanwhile. The sweep then applies the
   * rest one by one. Returns how many it marked.
   */
  async absorbDue(): Promise<number> {
    const rows = await onConnection(this.dataSource, (sql) => queryNamed<{ n: number }>(sql, ABSORB_DUE, []));
    return rows[0]?.n ?? 0;
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
