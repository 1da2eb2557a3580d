import type { BankAccountUnusableCode } from '@pay/contracts';
import { createEvent, PaymentMethodMarkedUnusableV1 } from '@pay/contracts';
import { appendToOutbox } from '@pay/messaging';
import { sqlOf } from '@pay/platform';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Bank accounts marked unusable before the wallet published the mark: each still active one is
 * told now, as `wallet.payment-method.marked-unusable` through the outbox (actor
 * `system:payer-bank`, as the consumer marks), so history's copy of methods shows it. The payment
 * named is the last one the wallet released the account for: once marked an account is never
 * released again, so that is the debit whose failure or return marked it. Not undone by `down`: an
 * event published stays published.
 */
export class BankAccountUnusableTold1768894000010 implements MigrationInterface {
  name = 'BankAccountUnusableTold1768894000010';

  async up(runner: QueryRunner): Promise<void> {
    const sql = sqlOf(runner);
    const marked = await sql.query<{ id: string; person_id: string; unusable_reason: string; payment_id: string | null }>(
      `SELECT m.id, m.person_id, m.unusable_reason,
              (SELECT r.payment_id FROM instrument_releases r WHERE r.method_id = m.id::text AND r.outcome = 'released' ORDER BY r.id DESC LIMIT 1) AS payment_id
         FROM payment_methods m
        WHERE m.unusable_reason IS NOT NULL AND m.status = 'active'
        ORDER BY m.person_id, m.unusable_since, m.id`,
    );
    const messages = [];
    for (const row of marked) {
      // A mark always follows a released debit; should that audit be gone, nothing true can be said of the payment.
      if (row.payment_id === null) continue;
      const [wallet] = await sql.query<{ event_sequence: string }>(
        'UPDATE wallets SET event_sequence = event_sequence + 1, updated_at = now() WHERE person_id = $1 RETURNING event_sequence',
        [row.person_id],
      );
      messages.push({
        topic: PaymentMethodMarkedUnusableV1.topic,
        envelope: createEvent({
          definition: PaymentMethodMarkedUnusableV1,
          source: 'wallet',
          subject: row.person_id,
          sequence: Number(wallet.event_sequence),
          data: {
            personId: row.person_id,
            actor: 'system:payer-bank',
            methodId: row.id,
            reason: row.unusable_reason as BankAccountUnusableCode,
            paymentId: row.payment_id,
          },
        }),
      });
    }
    for (let start = 0; start < messages.length; start += 500) await appendToOutbox(sql, messages.slice(start, start + 500));
  }

  async down(): Promise<void> {
    // Nothing to undo: the events are published.
  }
}
