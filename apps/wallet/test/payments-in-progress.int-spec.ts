/**
 * What the wallet records of payments in progress from one inbox chunk of payments.events.v1 (the
 * instrument release's rule reads it): one statement per chunk, the row each payment is left with
 * as if the chunk's events had been applied one at a time. Real PostgreSQL, the wallet's own migrations.
 */
import type { PaymentInitiatedData } from '@pay/contracts';
import type { BatchWork, InboxBatch } from '@pay/messaging';
import { inTransaction, sqlOf } from '@pay/platform';
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import { Client } from 'pg';
import { walletMigrations } from '../src/database/migrations';
import type { ForgetFinishedPayments } from '../src/payments-in-progress/forget-finished-payments';
import { PaymentsInProgress } from '../src/payments-in-progress/payments-in-progress';

let schema: TestSchema;
let payments: PaymentsInProgress;

beforeAll(async () => {
  schema = await createTestSchema('wallet_in_progress', walletMigrations);
  // Housekeeping is told when a payment finishes; its sweep is tested on its own (forget-finished-payments).
  payments = new PaymentsInProgress(schema.dataSource, { paymentFinished: () => undefined } as unknown as ForgetFinishedPayments);
}, 120_000);

afterAll(async () => {
  await schema?.drop();
});

const initiation = (paymentId: string): PaymentInitiatedData =>
  ({ paymentId, payerId: `payer-of-${paymentId}`, paymentMethodId: `method-of-${paymentId}`, app: 'instagram' }) as PaymentInitiatedData;

/** One chunk in one transaction, as the consumer applies it: its events, then the chunk's work before COMMIT. Returns the round trips sent. */
async function chunk(events: ReadonlyArray<{ initiated: string } | { pastCharge: string }>): Promise<number> {
  return inTransaction(schema.dataSource, async (_sql, runner) => {
    const works = new Map<object, BatchWork>();
    const batch: InboxBatch = {
      work: <T extends BatchWork>(key: object, create: () => T): T => {
        if (!works.has(key)) works.set(key, create());
        return works.get(key) as T;
      },
    };
    const at = sqlOf(runner);
    for (const event of events) {
      if ('initiated' in event) payments.initiated(at, batch, initiation(event.initiated));
      else payments.pastCharge(at, batch, event.pastCharge);
    }
    const send = jest.spyOn(Client.prototype, 'query');
    try {
      for (const work of works.values()) await work.beforeCommit?.();
      return send.mock.calls.length;
    } finally {
      send.mockRestore();
    }
  });
}

async function rows(ids: string[]): Promise<Array<{ payment_id: string; payer_id: string | null; payment_method_id: string | null; stage: string }>> {
  return schema.dataSource.query(
    'SELECT payment_id, payer_id, payment_method_id, stage FROM payments_in_progress WHERE payment_id = ANY($1::text[]) ORDER BY payment_id',
    [ids],
  );
}

describe("the wallet's payments in progress, one chunk at a time", () => {
  it('writes a chunk in one statement, each payment as its events leave it in order', async () => {
    // Known before the chunk: one awaiting its charge, one already past it.
    await chunk([{ initiated: 'p1-known-awaiting' }, { initiated: 'p1-known-past' }]);
    await chunk([{ pastCharge: 'p1-known-past' }]);

    const sent = await chunk([
      { initiated: 'p1-new-awaiting' },
      // Initiated and charged in the same chunk: past its charge, with its initiation's details.
      { initiated: 'p1-new-charged' },
      { pastCharge: 'p1-new-charged' },
      // Charged before the wallet saw it initiated: past its charge, no details.
      { pastCharge: 'p1-new-past-only' },
      { pastCharge: 'p1-known-awaiting' },
      // A second initiation of a known payment changes nothing.
      { initiated: 'p1-known-past' },
    ]);
    expect(sent).toBe(1);
    expect(await rows(['p1-known-awaiting', 'p1-known-past', 'p1-new-awaiting', 'p1-new-charged', 'p1-new-past-only'])).toEqual([
      { payment_id: 'p1-known-awaiting', payer_id: 'payer-of-p1-known-awaiting', payment_method_id: 'method-of-p1-known-awaiting', stage: 'past_charge' },
      { payment_id: 'p1-known-past', payer_id: 'payer-of-p1-known-past', payment_method_id: 'method-of-p1-known-past', stage: 'past_charge' },
      { payment_id: 'p1-new-awaiting', payer_id: 'payer-of-p1-new-awaiting', payment_method_id: 'method-of-p1-new-awaiting', stage: 'awaiting_charge' },
      { payment_id: 'p1-new-charged', payer_id: 'payer-of-p1-new-charged', payment_method_id: 'method-of-p1-new-charged', stage: 'past_charge' },
      { payment_id: 'p1-new-past-only', payer_id: null, payment_method_id: null, stage: 'past_charge' },
    ]);
  });

  it('opens nothing for a payment whose end came in an earlier chunk than its start', async () => {
    await chunk([{ pastCharge: 'p2-ended-first' }]);
    await chunk([{ initiated: 'p2-ended-first' }]);
    expect(await rows(['p2-ended-first'])).toEqual([{ payment_id: 'p2-ended-first', payer_id: null, payment_method_id: null, stage: 'past_charge' }]);
  });

  it('moves a row past its charge once: a later charge of it leaves its time as it was', async () => {
    await chunk([{ initiated: 'p3-charged' }, { pastCharge: 'p3-charged' }]);
    const [before] = await schema.dataSource.query<{ updated_at: Date }[]>("SELECT updated_at FROM payments_in_progress WHERE payment_id = 'p3-charged'");
    await chunk([{ pastCharge: 'p3-charged' }]);
    const [after] = await schema.dataSource.query<{ updated_at: Date }[]>("SELECT updated_at FROM payments_in_progress WHERE payment_id = 'p3-charged'");
    expect(after.updated_at).toEqual(before.updated_at);
  });
});
