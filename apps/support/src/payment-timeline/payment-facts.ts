import { inTransaction } from '@pay/platform';
import type { Sql } from '@pay/platform';
import type { DataSource } from 'typeorm';
import type { TimelineStage } from '../domain/payment-timeline';
import { refundableAmount } from '../domain/payment-timeline';

export interface TimelineEntryView {
  eventId: string;
  stage: TimelineStage;
  type: string;
  occurredAt: string;
  details: Record<string, unknown>;
}

export interface PaymentTimelineView {
  paymentId: string;
  payerId: string | null;
  status: string | null;
  currency: string | null;
  captured: string;
  refunded: string;
  /** What an agent may still refund: captured, less refunds asked for that did not fail. */
  refundable: string;
  timeline: TimelineEntryView[];
}

export interface FactsRow {
  payment_id: string;
  payer_id: string | null;
  status: string | null;
  currency: string | null;
  captured: string;
  refund_requested: string;
  refund_failed: string;
  refunded: string;
}

export async function readPaymentFacts(sql: Sql, paymentId: string): Promise<FactsRow | undefined> {
  const [row] = await sql.query<FactsRow>('SELECT * FROM payments WHERE payment_id = $1', [paymentId]);
  return row;
}

export function refundableOf(row: FactsRow): bigint {
  return refundableAmount({ captured: BigInt(row.captured), refundRequested: BigInt(row.refund_requested), refundFailed: BigInt(row.refund_failed) });
}

/**
 * The payment's facts and its timeline from one snapshot: an event consumed between two separate
 * reads would show its timeline entry beside facts from before it (a refund in the timeline, not
 * yet in `refunded`).
 */
export async function readPaymentTimeline(dataSource: DataSource, paymentId: string): Promise<PaymentTimelineView> {
  const { facts, entries } = await inTransaction(
    dataSource,
    async (sql) => ({
      facts: await readPaymentFacts(sql, paymentId),
      entries: await sql.query<{ event_id: string; stage: TimelineStage; type: string; occurred_at: Date; details: Record<string, unknown> }>(
        'SELECT event_id, stage, type, occurred_at, details FROM payment_timeline WHERE payment_id = $1 ORDER BY occurred_at, event_id',
        [paymentId],
      ),
    }),
    'REPEATABLE READ',
  );
  return {
    paymentId,
    payerId: facts?.payer_id ?? null,
    status: facts?.status ?? null,
    currency: facts?.currency ?? null,
    captured: facts?.captured ?? '0',
    refunded: facts?.refunded ?? '0',
    refundable: facts ? refundableOf(facts).toString() : '0',
    timeline: entries.map((row) => ({
      eventId: row.event_id,
      stage: row.stage,
      type: row.type,
      occurredAt: new Date(row.occurred_at).toISOString(),
      details: row.details,
    })),
  };
}
