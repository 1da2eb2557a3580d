/**
 * Deliveries that arrive together are recorded by one statement (group commit). What must hold
 * however they are grouped: one row per provider event, every delivery counted, exactly one
 * delivery of each event told it was the first — also when two deliveries of one event land in
 * the same batch (one INSERT … ON CONFLICT cannot touch a row twice).
 */
import { randomUUID } from 'node:crypto';
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import { paymentOrchestrationMigrations } from '../../database/migrations';
import type { PspWebhookEvent } from '../../psp/psp.port';
import { PspWebhookInbox } from './psp-webhook-inbox';

let schema: TestSchema;

beforeAll(async () => {
  schema = await createTestSchema('it_po_webhook_batch', paymentOrchestrationMigrations, 4);
});

afterAll(async () => {
  await schema?.drop();
});

const event = (id: string): PspWebhookEvent => ({
  provider: 'stripe',
  id,
  type: 'customer.updated',
  createdAt: new Date('2026-12-05T12:00:00Z'),
  livemode: false,
  subject: { kind: 'other', objectType: 'customer', objectId: `cus_${id}` },
  payload: { id },
});

describe('PspWebhookInbox.record under concurrency', () => {
  it('records 60 deliveries of 20 events sent at once: one row each, three deliveries counted, one first delivery per event', async () => {
    const inbox = new PspWebhookInbox(schema.dataSource);
    const ids = Array.from({ length: 20 }, () => `evt_${randomUUID()}`);
    // Each event three times, the copies side by side so that batches hold duplicates.
    const deliveries = ids.flatMap((id) => [id, id, id]);
    const recorded = await Promise.all(deliveries.map((id) => inbox.record(event(id))));

    const rows = await schema.dataSource.query<{ event_id: string; deliveries: number; object_id: string; payload: { id: string } }[]>(
      'SELECT event_id, deliveries, object_id, payload FROM psp_webhook_events WHERE event_id = ANY($1) ORDER BY event_id',
      [ids],
    );
    expect(rows).toHaveLength(20);
    for (const row of rows) {
      expect(row.deliveries).toBe(3);
      expect(row.object_id).toBe(`cus_${row.event_id}`);
    }
    for (const id of ids) {
      const answers = recorded.filter((_, i) => deliveries[i] === id);
      expect(answers.filter((answer) => answer.firstDelivery)).toHaveLength(1);
      expect(answers.map((answer) => answer.deliveries).sort()).toEqual([1, 2, 3]);
      // Not about a payment: nothing to apply, so not applied by the statement that recorded it.
      expect(answers.every((answer) => !answer.applied)).toBe(true);
    }
  });

  it('keeps the record of the event as it was received', async () => {
    const inbox = new PspWebhookInbox(schema.dataSource);
    const id = `evt_${randomUUID()}`;
    await Promise.all([inbox.record(event(id)), inbox.record(event(`evt_${randomUUID()}`))]);
    const [row] = await schema.dataSource.query<{ payload: { id: string; type: string; subject: unknown } }[]>(
      'SELECT payload FROM psp_webhook_events WHERE event_id = $1',
      [id],
    );
    expect(row.payload).toMatchObject({ id, type: 'customer.updated', subject: { kind: 'other', objectType: 'customer' } });
  });
});
