import { ConsentChangedV1, createEvent } from '@pay/contracts';
import { appendToOutbox } from '@pay/messaging';
import { sqlOf } from '@pay/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ad-measurement consent is opt-in everywhere (docs/privacy.md): wallets whose consent was on
 * only by the old country default (source `default`) get it off, and each withdrawal is published
 * as a `consent.changed` (source `default`, actor `system:consent-opt-in`) through the outbox, so
 * ad-signal-aggregation stops counting them from this instant. A person's own choice is kept.
 * Not undone by `down`: nobody's consent is switched back on without them.
 */
export class ConsentOptIn1765411200000 implements MigrationInterface {
  name = 'ConsentOptIn1765411200000';

  async up(runner: QueryRunner): Promise<void> {
    const sql = sqlOf(runner);
    const withdrawn = await sql.query<{ person_id: string; country: string; event_sequence: string }>(
      `UPDATE wallets SET ad_measurement_consent = false, consent_updated_at = now(), event_sequence = event_sequence + 1, updated_at = now()
      WHERE consent_source = 'default' AND ad_measurement_consent
      RETURNING person_id, country, event_sequence`,
    );
    const messages = withdrawn.map((row) => ({
      topic: ConsentChangedV1.topic,
      envelope: createEvent({
        definition: ConsentChangedV1,
        source: 'wallet',
        subject: row.person_id,
        sequence: Number(row.event_sequence),
        data: { personId: row.person_id, actor: 'system:consent-opt-in', purpose: 'ad-measurement', granted: false, source: 'default', country: row.country },
      }),
    }));
    for (let start = 0; start < messages.length; start += 500) await appendToOutbox(sql, messages.slice(start, start + 500));
  }

  async down(): Promise<void> {
    // Nothing to undo: the consents withdrawn stay withdrawn until each person grants them.
  }
}
