/**
 * The migration that tells the bank accounts marked unusable before the wallet published the mark:
 * run against a real schema migrated up to the migration before it, holding accounts marked and
 * not, active and removed, as the previous release wrote them.
 */
import type { EventEnvelope } from '@pay/contracts';
import { Topics } from '@pay/contracts';
import type { TestSchema } from '@pay/testing';
import { createTestSchema, uniqueName } from '@pay/testing';
import { randomUUID } from 'node:crypto';
import { walletMigrations } from '../src/database/migrations';
import { BankAccountUnusableTold1768894000010 } from '../src/database/migrations/1768894000010-bank-account-unusable-told';

describe('wallet migration: bank accounts marked unusable before the mark was published', () => {
  let schema: TestSchema;

  beforeAll(async () => {
    schema = await createTestSchema(
      'it_wallet_unusable_told',
      (walletMigrations as unknown[]).slice(0, (walletMigrations as unknown[]).indexOf(BankAccountUnusableTold1768894000010)) as (new () => object)[],
    );
  });

  afterAll(async () => {
    await schema?.drop();
  });

  it('publishes one marked-unusable per active marked account, naming the last payment it was released for, numbered after its owner’s last event; nothing for the others', async () => {
    const sql = schema.dataSource;
    const [marked, removedMarked, usable] = [uniqueName('p-marked'), uniqueName('p-removed'), uniqueName('p-usable')];
    await sql.query(
      `INSERT INTO wallets (person_id, country, ad_measurement_consent, consent_source, event_sequence) VALUES ($1, 'US', false, 'person', 4), ($2, 'US', false, 'person', 7), ($3, 'DE', false, 'person', 2)`,
      [marked, removedMarked, usable],
    );
    const [closed, card, gone, fine] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const method = (id: string, person: string, kind: string, status: string, reason: string | null) =>
      sql.query(
        `INSERT INTO payment_methods (id, person_id, kind, label, display, secret, status, removed_at, unusable_reason, unusable_since)
         VALUES ($1, $2, $3, 'account', '{"last4":"1113"}', CASE WHEN $4 = 'active' THEN 'v1.sealed' END, $4, CASE WHEN $4 = 'removed' THEN now() END,
                 $5::text, CASE WHEN $5::text IS NOT NULL THEN now() END)`,
        [id, person, kind, status, reason],
      );
    await method(closed, marked, 'bank_account', 'active', 'account_closed');
    await method(card, marked, 'card', 'active', null);
    await method(gone, removedMarked, 'bank_account', 'removed', 'no_account');
    await method(fine, usable, 'bank_account', 'active', null);
    const release = (paymentId: string, person: string, methodId: string, outcome: string) =>
      sql.query(
        `INSERT INTO instrument_releases (caller, payment_id, person_id, method_id, app, outcome) VALUES ('orchestration', $1, $2, $3, 'instagram', $4)`,
        [paymentId, person, methodId, outcome],
      );
    // The account's debits: an earlier one that settled, the one its bank refused (the last released), then purchases the wallet refused.
    await release('pay-earlier', marked, closed, 'released');
    await release('pay-refused-by-bank', marked, closed, 'released');
    await release('pay-after', marked, closed, 'refused');
    await release('pay-card', marked, card, 'released');
    await release('pay-gone', removedMarked, gone, 'released');
    await release('pay-fine', usable, fine, 'released');

    const runner = sql.createQueryRunner();
    try {
      await new BankAccountUnusableTold1768894000010().up(runner);
    } finally {
      await runner.release();
    }

    const sequences: { person_id: string; event_sequence: string }[] = await sql.query('SELECT person_id, event_sequence FROM wallets');
    expect(Object.fromEntries(sequences.map((row) => [row.person_id, Number(row.event_sequence)]))).toEqual({ [marked]: 5, [removedMarked]: 7, [usable]: 2 });
    const outbox: { topic: string; message_key: string; payload: EventEnvelope }[] = await sql.query('SELECT topic, message_key, payload FROM outbox');
    expect(outbox).toEqual([
      {
        topic: Topics.walletEvents,
        message_key: marked,
        payload: expect.objectContaining({
          type: 'wallet.payment-method.marked-unusable',
          source: 'wallet',
          subject: marked,
          sequence: 5,
          data: { personId: marked, actor: 'system:payer-bank', methodId: closed, reason: 'account_closed', paymentId: 'pay-refused-by-bank' },
        }),
      },
    ]);
  });
});
