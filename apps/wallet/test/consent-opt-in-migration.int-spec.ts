/**
 * The migration that makes consent opt-in for wallets opened under the old country default:
 * run against a real schema migrated up to the migration before it, holding wallets in each state.
 */
import type { EventEnvelope } from '@pay/contracts';
import { Topics } from '@pay/contracts';
import type { TestSchema } from '@pay/testing';
import { createTestSchema, uniqueName } from '@pay/testing';
import { walletMigrations } from '../src/database/migrations';
import { ConsentOptIn1765411200000 } from '../src/database/migrations/1765411200000-consent-opt-in';

describe('wallet migration: ad-measurement consent opt-in everywhere', () => {
  let schema: TestSchema;

  beforeAll(async () => {
    schema = await createTestSchema(
      'it_wallet_consent',
      (walletMigrations as unknown[]).filter((migration) => migration !== ConsentOptIn1765411200000) as (new () => object)[],
    );
  });

  afterAll(async () => {
    await schema?.drop();
  });

  it("withdraws consent that was on only by the old default, publishes each withdrawal, keeps people's own choices", async () => {
    const sql = schema.dataSource;
    const byDefault = uniqueName('us-default');
    const offByDefault = uniqueName('de-default');
    const chosen = uniqueName('us-chosen');
    await sql.query(
      `INSERT INTO wallets (person_id, country, ad_measurement_consent, consent_source, event_sequence)
       VALUES ($1, 'US', true, 'default', 2), ($2, 'DE', false, 'default', 2), ($3, 'US', true, 'person', 3)`,
      [byDefault, offByDefault, chosen],
    );

    const runner = sql.createQueryRunner();
    try {
      await new ConsentOptIn1765411200000().up(runner);
    } finally {
      await runner.release();
    }

    const wallets: { person_id: string; ad_measurement_consent: boolean; consent_source: string; event_sequence: string }[] = await sql.query(
      'SELECT person_id, ad_measurement_consent, consent_source, event_sequence FROM wallets ORDER BY person_id',
    );
    expect(Object.fromEntries(wallets.map((w) => [w.person_id, [w.ad_measurement_consent, w.consent_source, Number(w.event_sequence)]]))).toEqual({
      [byDefault]: [false, 'default', 3],
      [offByDefault]: [false, 'default', 2],
      [chosen]: [true, 'person', 3],
    });

    const outbox: { topic: string; message_key: string; payload: EventEnvelope }[] = await sql.query('SELECT topic, message_key, payload FROM outbox');
    expect(outbox).toEqual([
      {
        topic: Topics.walletEvents,
        message_key: byDefault,
        payload: expect.objectContaining({
          type: 'wallet.consent.changed',
          subject: byDefault,
          sequence: 3,
          data: { personId: byDefault, actor: 'system:consent-opt-in', purpose: 'ad-measurement', granted: false, source: 'default', country: 'US' },
        }),
      },
    ]);
  });
});
