import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type {
  LedgerTransactionRecordedData,
  PaymentCapturedData,
  PaymentInitiatedData,
  PaymentRefundedData,
  PaymentRefundFailedData,
  PaymentRefundRequestedData,
  WalletOpened,
} from '@pay/contracts';
import { LedgerTransactionRecorded, paymentLinkOf, PAYMENT_EVENTS, PaymentRejectedV1, WalletOpenedV1 } from '@pay/contracts';
import type { ConsumedEvent } from '@pay/messaging';
import { InboxContext } from '@pay/messaging';
import type { NamedStatement, Sql } from '@pay/platform';
import { queryNamed } from '@pay/platform';
import { timelineStage } from '../domain/payment-timeline';

/** Every payment event that belongs to a payment (a rejected request has none), and ledger entries. */
const TIMELINE_TYPES = [
  ...PAYMENT_EVENTS.filter((definition) => definition.type !== PaymentRejectedV1.type).map((d) => d.type),
  LedgerTransactionRecorded.type,
];

const INSERT_ENTRY: NamedStatement = {
  name: 'support_timeline_entry',
  text: `INSERT INTO payment_timeline (event_id, payment_id, stage, type, occurred_at, details) VALUES ($1, $2, $3, $4, $5, $6::jsonb)
         ON CONFLICT (event_id) DO NOTHING`,
};

/**
 * Builds each payment's timeline as support sees it, from the events it consumes (never another
 * service's tables): the payment's own events, and the ledger entries that post it. Also keeps
 * what refund limits need (captured, refunds asked, failed) and each wallet's country (for the
 * chat rollout). Runs in the inbox transaction: applied exactly once.
 */
@Controller()
export class RecordTimelineController {
  @EventPattern(TIMELINE_TYPES)
  async record(@Payload() event: ConsumedEvent, @Ctx() context: InboxContext): Promise<void> {
    const sql = context.getSql();
    const { envelope } = event;
    if (envelope.type === LedgerTransactionRecorded.type) {
      const data = envelope.data as LedgerTransactionRecordedData;
      const link = paymentLinkOf(data.metadata);
      if (!link) return;
      await insertEntry(sql, envelope.id, link.paymentId, envelope.type, envelope.occurredAt, {
        transactionId: data.transactionId,
        kind: data.kind,
        position: data.position,
        postings: data.postings,
        ...(link.refundId ? { refundId: link.refundId } : {}),
        ...(link.disputeId ? { disputeId: link.disputeId } : {}),
      });
      return;
    }
    const data = envelope.data as { paymentId: string };
    // Payment events carry ids, codes and amounts only (libs/contracts): kept as they came.
    await insertEntry(sql, envelope.id, data.paymentId, envelope.type, envelope.occurredAt, envelope.data);
    await applyToFacts(sql, envelope.type, envelope.data);
  }

  @EventPattern(WalletOpenedV1.type)
  async walletOpened(@Payload() event: ConsumedEvent<WalletOpened>, @Ctx() context: InboxContext): Promise<void> {
    const { personId, country } = event.envelope.data;
    await context
      .getSql()
      .query('INSERT INTO persons (person_id, country) VALUES ($1, $2) ON CONFLICT (person_id) DO UPDATE SET country = EXCLUDED.country', [personId, country]);
  }
}

async function insertEntry(sql: Sql, eventId: string, paymentId: string, type: string, occurredAt: string, details: object): Promise<void> {
  await queryNamed(sql, INSERT_ENTRY, [eventId, paymentId, timelineStage(type), type, occurredAt, JSON.stringify(details)]);
}

/** The money facts refund limits need, and the payer (who may open a conversation about the payment). */
async function applyToFacts(sql: Sql, type: string, data: object): Promise<void> {
  const upsert = (columns: Record<string, unknown>, increments: Record<string, bigint> = {}) => {
    const paymentId = (data as { paymentId: string }).paymentId;
    const names = Object.keys(columns);
    const incrementNames = Object.keys(increments);
    const values = [paymentId, ...names.map((name) => columns[name]), ...incrementNames.map((name) => increments[name].toString())];
    const insertNames = ['payment_id', ...names, ...incrementNames];
    const sets = [
      ...names.map((name) => `${name} = COALESCE(EXCLUDED.${name}, payments.${name})`),
      ...incrementNames.map((name) => `${name} = payments.${name} + EXCLUDED.${name}`),
      'updated_at = now()',
    ];
    return sql.query(
      `INSERT INTO payments (${insertNames.join(', ')}) VALUES (${insertNames.map((_, i) => `$${i + 1}`).join(', ')})
       ON CONFLICT (payment_id) DO UPDATE SET ${sets.join(', ')}`,
      values,
    );
  };
  const status = type.replace(/^payments\.payment\./, '');
  switch (type) {
    case 'payments.payment.initiated': {
      const initiated = data as PaymentInitiatedData;
      return void (await upsert({ payer_id: initiated.payerId, currency: initiated.amount.currency, status }));
    }
    case 'payments.payment.captured': {
      const captured = data as PaymentCapturedData;
      return void (await upsert({ payer_id: captured.payerId, currency: captured.amount.currency, status }, { captured: BigInt(captured.amount.amount) }));
    }
    case 'payments.payment.refund-requested':
      return void (await upsert({ status }, { refund_requested: BigInt((data as PaymentRefundRequestedData).amount.amount) }));
    case 'payments.payment.refunded': {
      const refunded = data as PaymentRefundedData;
      await upsert({ status: refunded.full ? 'refunded' : 'partially-refunded' });
      return void (await sql.query('UPDATE payments SET refunded = $2 WHERE payment_id = $1', [refunded.paymentId, refunded.refundedTotal.amount]));
    }
    case 'payments.payment.refund-failed': {
      // The failed refund's amount is in its request, earlier on the same payment's stream.
      const failed = data as PaymentRefundFailedData;
      const [asked] = await sql.query<{ amount: string }>(
        `SELECT details->'amount'->>'amount' AS amount FROM payment_timeline WHERE payment_id = $1 AND type = 'payments.payment.refund-requested' AND details->>'refundId' = $2`,
        [failed.paymentId, failed.refundId],
      );
      return void (await upsert({ status: 'refund-failed' }, { refund_failed: asked ? BigInt(asked.amount) : 0n }));
    }
    default:
      return void (await upsert({ status }));
  }
}
