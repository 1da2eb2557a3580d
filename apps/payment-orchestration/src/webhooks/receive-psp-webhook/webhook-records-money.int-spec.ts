/**
 * The migration that gives webhook records stored before the PSP port spoke Money the one shape
 * of today: run on a real schema migrated up to the migration before it, holding a record of
 * each shape, and read back as the inbox reads its records.
 */
import { money } from '@pay/contracts';
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import { paymentOrchestrationMigrations } from '../../database/migrations';
import { WebhookRecordsMoney1767800000000 } from '../../database/migrations/1767800000000-webhook-records-money';
import type { PspWebhookEvent } from '../../psp/psp.port';
import { capturedWebhook } from './test/payment-webhook';
import { fromWebhookRecord, toWebhookRecord } from './webhook-record';

/** A payment's record as it was written before Money: the amount a tagged bigint, its currency beside it. */
function preMoneyRecord(event: PspWebhookEvent): object {
  const record = JSON.parse(toWebhookRecord(event)) as { subject: { payment: { amount: { amount: string; currency: string } } } };
  const { amount, currency } = record.subject.payment.amount;
  return { ...record, subject: { ...record.subject, payment: { ...record.subject.payment, amount: { $bigint: amount }, currency } } };
}

const refundRecord = {
  id: 'evt_refund',
  type: 'charge.refund.updated',
  createdAt: '2026-11-25T10:00:00.000Z',
  livemode: false,
  subject: {
    kind: 'refund',
    refund: { provider: 'stripe', id: 're_1', providerStatus: 'succeeded', observation: { amount: { $bigint: '300' }, status: 'succeeded' }, currency: 'EUR' },
  },
};

describe('payment-orchestration migration: webhook records in the Money shape', () => {
  let schema: TestSchema;
  const old = capturedWebhook('old', money(999_999_999_999_999_999n, 'EUR'));
  const current = capturedWebhook('current', money(1250n, 'EUR'));

  const insert = (eventId: string, objectType: string, payload: object): Promise<unknown> =>
    schema.dataSource.query(
      `INSERT INTO psp_webhook_events (provider, event_id, event_type, object_type, livemode, psp_created_at, payload)
       VALUES ('stripe', $1, 'test', $2, false, now(), $3::jsonb)`,
      [eventId, objectType, JSON.stringify(payload)],
    );
  const payloads = async (): Promise<Record<string, unknown>> => {
    const rows = await schema.dataSource.query<{ event_id: string; payload: unknown }[]>('SELECT event_id, payload FROM psp_webhook_events');
    return Object.fromEntries(rows.map((row) => [row.event_id, row.payload]));
  };
  const migrate = async (direction: 'up' | 'down'): Promise<void> => {
    const runner = schema.dataSource.createQueryRunner();
    try {
      await new WebhookRecordsMoney1767800000000()[direction](runner);
    } finally {
      await runner.release();
    }
  };

  beforeAll(async () => {
    schema = await createTestSchema(
      'it_webhook_money',
      (paymentOrchestrationMigrations as unknown[]).filter((migration) => migration !== WebhookRecordsMoney1767800000000) as (new () => object)[],
      2,
    );
    await insert(old.id, 'payment_intent', preMoneyRecord(old));
    await insert(current.id, 'payment_intent', JSON.parse(toWebhookRecord(current)) as object);
    await insert(refundRecord.id, 'refund', refundRecord);
  });

  afterAll(async () => {
    await schema?.drop();
  });

  it('rewrites a pre-Money payment record into the shape written today, exactly, and leaves the others as they were', async () => {
    const before = await payloads();
    expect(before[old.id]).toMatchObject({ subject: { payment: { amount: { $bigint: '999999999999999999' }, currency: 'EUR' } } });

    await migrate('up');

    const after = await payloads();
    expect(after[old.id]).toEqual(JSON.parse(toWebhookRecord(old)));
    expect(fromWebhookRecord('stripe', after[old.id]).subject).toEqual({
      kind: 'payment',
      payment: expect.objectContaining({ amount: money(999_999_999_999_999_999n, 'EUR') }),
    });
    expect(after[current.id]).toEqual(before[current.id]);
    expect(after[refundRecord.id]).toEqual(before[refundRecord.id]);
  });

  it('goes back down to the pre-Money shape', async () => {
    await migrate('down');
    const down = await payloads();
    expect(down[old.id]).toEqual(preMoneyRecord(old));
    expect(down[current.id]).toEqual(preMoneyRecord(current));
    expect(down[refundRecord.id]).toEqual(refundRecord);
    await migrate('up');
    expect((await payloads())[current.id]).toEqual(JSON.parse(toWebhookRecord(current)));
  });
});
