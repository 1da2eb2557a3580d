import { Inject, Injectable } from '@nestjs/common';
import { parseIso, pseudonymize, watermarkEventTime, windowOf } from '@pay/ad-signals-domain';
import type { ConsentChanged, PaymentMethodAdded } from '@pay/contracts';
import type { ConsumedEvent, InboxBatch } from '@pay/messaging';
import type { Sql } from '@pay/platform';
import type { AdSignalSettings } from '../ad-signals.settings';
import type { Clock } from '../ad-signals.tokens';
import { AD_SIGNAL_SETTINGS, CLOCK } from '../ad-signals.tokens';
import { assertVersion } from '../record-payment-facts/payment-facts.recorder';
import { recordCorrection } from '../store/window-locks';
import { AdSignalsChunk } from '../store/chunk-work';
import { advanceWatermark } from '../store/watermark-store';

/**
 * Records from `wallet.events.v1` what the aggregation needs of a wallet: each person's
 * ad-measurement consent timeline (by pseudonym) and the kind of each saved payment method.
 */
@Injectable()
export class RecordConsent {
  constructor(
    @Inject(AD_SIGNAL_SETTINGS) private readonly settings: AdSignalSettings,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async consentChanged(event: ConsumedEvent, sql: Sql, batch?: InboxBatch): Promise<void> {
    assertVersion(event, 1);
    const data = event.envelope.data as ConsentChanged;
    // The chunk's purchases so far are stored first: the count below may include them.
    await AdSignalsChunk.of(batch, sql)?.flush();
    const at = parseIso(event.envelope.occurredAt);
    await this.watermark(event, sql, batch, watermarkEventTime(at, this.clock.now(), this.settings.maxClockSkewMs));
    if (data.purpose !== 'ad-measurement') return;
    const personKey = pseudonymize(this.settings.pseudonymKey, 'person', data.personId);
    const inserted = await sql.query<unknown>(
      `INSERT INTO consent_changes (person_key, occurred_at, sequence, granted, event_id) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING RETURNING event_id`,
      [personKey, event.envelope.occurredAt, event.envelope.sequence, data.granted, event.envelope.id],
    );
    if (inserted.length === 0) return;
    // Purchases after this change that were already judged were judged without it: count that.
    const [{ affected }] = await sql.query<{ affected: number }>(
      `SELECT count(*)::int AS affected FROM purchases WHERE person_key = $1 AND occurred_at >= $2 AND status IN ('counted', 'no_consent', 'over_limit')`,
      [personKey, event.envelope.occurredAt],
    );
    if (affected > 0)
      await recordCorrection(sql, { window: windowOf('hour', at), merchantId: '', kind: 'late_consent', currency: '', events: affected, amount: 0n });
  }

  async methodAdded(event: ConsumedEvent, sql: Sql, batch?: InboxBatch): Promise<void> {
    assertVersion(event, 1);
    const data = event.envelope.data as PaymentMethodAdded;
    await sql.query('INSERT INTO payment_method_kinds (method_id, kind) VALUES ($1, $2) ON CONFLICT (method_id) DO NOTHING', [data.methodId, data.kind]);
    await this.watermark(event, sql, batch, watermarkEventTime(parseIso(event.envelope.occurredAt), this.clock.now(), this.settings.maxClockSkewMs));
  }

  /** In an inbox batch the chunk writes the watermarks once before COMMIT; alone, now. */
  private async watermark(event: ConsumedEvent, sql: Sql, batch: InboxBatch | undefined, at: number): Promise<void> {
    const chunk = AdSignalsChunk.of(batch, sql);
    if (chunk) chunk.noteWatermark(event.topic, event.partition, at);
    else await advanceWatermark(sql, event.topic, event.partition, at);
  }
}
