import { Inject, Injectable } from '@nestjs/common';
import { parseIso, pseudonymize, UNKNOWN, watermarkEventTime, windowOf } from '@pay/ad-signals-domain';
import type { PaymentCapturedData, PaymentInitiatedData, PaymentRefundedData } from '@pay/contracts';
import type { ConsumedEvent, InboxBatch } from '@pay/messaging';
import type { Sql } from '@pay/platform';
import { PermanentEventError } from '@pay/messaging';
import type { AdSignalSettings } from '../ad-signals.settings';
import type { Clock } from '../ad-signals.tokens';
import { AD_SIGNAL_SETTINGS, CLOCK } from '../ad-signals.tokens';
import { recordCorrection } from '../store/window-locks';
import { AdSignalsChunk } from '../store/chunk-work';
import { advanceWatermark } from '../store/watermark-store';

/** Only purchases from a merchant are ad signals: transfers name a person as counterparty, donations are sensitive. */
const isMerchantPurchase = (data: { kind: string; counterparty: { type: string } }): boolean =>
  data.kind === 'purchase' && data.counterparty.type === 'merchant';

/** The category the app sent with its purchase request (ISO 18245), else `unknown`. */
const categoryOf = (data: PaymentInitiatedData): string => {
  const category = data.merchantCategory;
  return typeof category === 'string' && /^\d{4}$/.test(category) ? category : UNKNOWN;
};

export function assertVersion(event: ConsumedEvent, version: number): void {
  if (event.envelope.version !== version) {
    throw new PermanentEventError(
      `${event.envelope.type} version ${event.envelope.version} is not understood here; ad-signal-aggregation reads version ${version}`,
    );
  }
}

/**
 * Records payment facts from `payments.events.v1`: the initiation (app, country, method), the
 * capture (a purchase) and refunds. Persons and payments are stored as keyed pseudonyms only.
 * Every handler runs in the inbox consumer's transaction, once per event.
 */
@Injectable()
export class RecordPaymentFacts {
  constructor(
    @Inject(AD_SIGNAL_SETTINGS) private readonly settings: AdSignalSettings,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  private paymentKey(paymentId: string): string {
    return pseudonymize(this.settings.pseudonymKey, 'payment', paymentId);
  }

  private async watermark(event: ConsumedEvent, sql: Sql, chunk: AdSignalsChunk | undefined): Promise<void> {
    const at = watermarkEventTime(parseIso(event.envelope.occurredAt), this.clock.now(), this.settings.maxClockSkewMs);
    if (chunk) chunk.noteWatermark(event.topic, event.partition, at);
    else await advanceWatermark(sql, event.topic, event.partition, at);
  }

  async initiated(event: ConsumedEvent, sql: Sql, batch?: InboxBatch): Promise<void> {
    assertVersion(event, 1);
    const data = event.envelope.data as PaymentInitiatedData;
    await AdSignalsChunk.recording(batch, sql, async (chunk) => {
      if (isMerchantPurchase(data)) {
        chunk.addContext({
          paymentKey: this.paymentKey(data.paymentId),
          app: data.app,
          country: data.country,
          merchantCategory: categoryOf(data),
          methodId: data.paymentMethodId ?? null,
        });
      }
      await this.watermark(event, sql, batch ? chunk : undefined);
    });
  }

  /** Noted in the chunk, stored with the chunk's other purchases when it flushes (AdSignalsChunk.flush). */
  async captured(event: ConsumedEvent, sql: Sql, batch?: InboxBatch): Promise<void> {
    assertVersion(event, 1);
    const data = event.envelope.data as PaymentCapturedData;
    await AdSignalsChunk.recording(batch, sql, async (chunk) => {
      await this.watermark(event, sql, batch ? chunk : undefined);
      if (!isMerchantPurchase(data)) return;
      const amount = BigInt(data.amount.amount);
      if (amount === 0n) throw new PermanentEventError(`payment ${data.paymentId}: a capture of 0 ${data.amount.currency} is not a purchase`);
      const at = parseIso(event.envelope.occurredAt);
      const hour = windowOf('hour', at);
      const day = windowOf('day', at);
      chunk.addCapture({
        eventId: event.envelope.id,
        paymentId: data.paymentId,
        hour,
        day,
        purchase: {
          paymentKey: this.paymentKey(data.paymentId),
          personKey: pseudonymize(this.settings.pseudonymKey, 'person', data.payerId),
          merchantId: data.counterparty.id,
          occurredAt: new Date(at).toISOString(),
          hourStart: new Date(hour.start).toISOString(),
          dayStart: new Date(day.start).toISOString(),
          provider: data.provider,
          amountBucket: this.settings.amountBuckets.bucketOf(amount),
          amount: amount.toString(),
          currency: data.amount.currency,
        },
      });
    });
  }

  async refunded(event: ConsumedEvent, sql: Sql, batch?: InboxBatch): Promise<void> {
    assertVersion(event, 1);
    const chunk = AdSignalsChunk.of(batch, sql);
    // The chunk's purchases so far are stored first: this refund may be of one of them.
    await chunk?.flush();
    const data = event.envelope.data as PaymentRefundedData;
    await this.watermark(event, sql, chunk);
    if (!isMerchantPurchase(data)) return;
    const amount = BigInt(data.amount.amount);
    if (amount === 0n)
      throw new PermanentEventError(`payment ${data.paymentId}, refund ${data.refundId}: a refund of 0 ${data.amount.currency} is not a refund`);
    const paymentKey = this.paymentKey(data.paymentId);
    // The row lock orders this refund with the hour's closing, which locks pending purchases too.
    const [purchase] = await sql.query<{ amount: string; currency: string; status: string; occurred_at: Date }>(
      'SELECT amount, currency, status, occurred_at FROM purchases WHERE payment_key = $1 FOR UPDATE',
      [paymentKey],
    );
    if (!purchase) {
      // Refunds follow their capture on the same partition; without one, the capture was never a
      // counted purchase here or is long gone (retention). Counted, not dropped.
      await recordCorrection(sql, {
        window: windowOf('hour', parseIso(event.envelope.occurredAt)),
        merchantId: data.counterparty.id,
        kind: 'unmatched_refund',
        currency: data.amount.currency,
        events: 1,
        amount,
      });
      return;
    }
    if (purchase.currency.trim() !== data.amount.currency) {
      throw new PermanentEventError(
        `payment ${data.paymentId}, refund ${data.refundId}: refund currency ${data.amount.currency} differs from the capture's ${purchase.currency.trim()}`,
      );
    }
    const refundKey = pseudonymize(this.settings.pseudonymKey, 'payment', `${data.paymentId}/refund/${data.refundId}`);
    const [{ refunded }] = await sql.query<{ refunded: string }>(
      'SELECT coalesce(sum(amount), 0)::text AS refunded FROM refunds WHERE payment_key = $1 AND refund_key <> $2',
      [paymentKey, refundKey],
    );
    if (BigInt(refunded) + amount > BigInt(purchase.amount)) {
      throw new PermanentEventError(
        `payment ${data.paymentId}, refund ${data.refundId}: refunds would total ${BigInt(refunded) + amount} minor units, more than the ${purchase.amount} captured`,
      );
    }
    const late = purchase.status !== 'pending';
    const inserted = await sql.query<unknown>(
      `INSERT INTO refunds (refund_key, payment_key, amount, currency, full_refund, occurred_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (refund_key) DO NOTHING RETURNING refund_key`,
      [refundKey, paymentKey, amount.toString(), data.amount.currency, data.full, event.envelope.occurredAt, late ? 'late' : 'pending'],
    );
    if (late && inserted.length > 0) {
      await recordCorrection(sql, {
        window: windowOf('hour', purchase.occurred_at.getTime()),
        merchantId: data.counterparty.id,
        kind: 'late_refund',
        currency: data.amount.currency,
        events: 1,
        amount,
      });
    }
  }
}
