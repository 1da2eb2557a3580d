/**
 * Bank debits end to end (issue 16, item 4): real Kafka, PostgreSQL, the wallet, orchestration,
 * history and the PSP simulator. A debit is `processing` for days; the simulator's bank answers
 * after 3 simulated days (the test moves its clock). Settled: the capture posts once and the
 * pending layer empties. Failed late: everything the debit posted is reversed, and the person's
 * history says so throughout.
 *
 * The person's saved method is a card whose token the simulator makes behave like a SEPA debit
 * (`pm_sepaDebit`, `pm_sepaDebit_fails`: a PaymentIntent with `payment_method_types`
 * `sepa_debit`); choosing Stripe's SEPA/ACH for a saved bank account is the routing of issue 16
 * item 1, which only changes how the PaymentIntent is created.
 */
import { Topics } from '@pay/contracts';
import type { HistoryUnderTest } from '@pay/history-projection/testing';
import { startHistory } from '@pay/history-projection/testing';
import { uniqueName, waitFor } from '@pay/testing';
import type { PaymentsPlatform, TestPerson } from './e2e-kit';
import { feeOf, purchaseOf, startGroupAtEnd, startPaymentsPlatform } from './e2e-kit';

const DAY = 24 * 60 * 60 * 1000;
const MERCHANT = 'merchant-e2e';
const payable = `merchant.${MERCHANT}.payable.USD`;
const merchantPending = `merchant.${MERCHANT}.pending.USD`;

let platform: PaymentsPlatform;
let history: HistoryUnderTest;
const historyGroup = uniqueName('e2e.debits.history');

beforeAll(async () => {
  platform = await startPaymentsPlatform();
  for (const topic of [Topics.paymentEvents, Topics.ledgerTransactions, Topics.walletEvents]) await startGroupAtEnd(historyGroup, topic);
  history = await startHistory({
    idp: platform.idp,
    topics: { payments: Topics.paymentEvents, ledger: Topics.ledgerTransactions, wallet: Topics.walletEvents },
    env: { HISTORY_CONSUMER_GROUP: historyGroup },
  });
}, 180_000);

afterAll(async () => {
  await history?.stop();
  await platform?.stop();
});

async function paymentIdOf(requestId: string): Promise<string> {
  const rows = await waitFor(
    () => platform.orchestrationQuery<{ payment_id: string }>('SELECT payment_id FROM payments WHERE request_id = $1', [requestId]),
    (r) => r.length === 1,
    { what: `payment of ${requestId}` },
  );
  return rows[0].payment_id;
}

const status = async (paymentId: string): Promise<string | undefined> =>
  (await platform.orchestrationQuery<{ status: string }>('SELECT status FROM payments WHERE payment_id = $1', [paymentId]))[0]?.status;

/** The status of the payment's entry in the person's own history, as the person reads it. */
async function historyStatus(person: TestPerson, paymentId: string): Promise<string | undefined> {
  const caller = await history.as(person.id, 'person');
  const page = await caller.get<{ entries: { paymentId: string; kind: string; status: string }[] }>(`/v1/history/persons/${person.id}/entries?limit=50`);
  return page.body.entries?.find((entry) => entry.paymentId === paymentId && entry.kind === 'purchase')?.status;
}

const movements = async (paymentId: string): Promise<string[]> =>
  (await platform.walletQuery<{ movement: string }>('SELECT movement FROM payment_ledger_postings WHERE payment_id = $1 ORDER BY posted_at', [paymentId])).map(
    (row) => row.movement,
  );

/** A purchase paid by debit, until the wallet posted it as pending and history shows it processing. */
async function debitPurchase(person: TestPerson, amount: bigint): Promise<string> {
  const paymentId = await paymentIdOf(await platform.publishPurchase(purchaseOf(person, amount)));
  await platform.events.waitFor(paymentId, 'payments.payment.processing');
  expect(await status(paymentId)).toBe('processing');
  await waitFor(
    () => movements(paymentId),
    (m) => m.includes('debit_pending'),
    { what: 'the pending posting' },
  );
  await waitFor(
    () => historyStatus(person, paymentId),
    (s) => s === 'processing',
    { what: 'history to show processing' },
  );
  return paymentId;
}

describe('a purchase paid by bank debit', () => {
  it('processing -> settled after 3 simulated days: the capture posts once and the pending layer empties', async () => {
    const person = await platform.person({ cardBehavesLike: 'pm_sepaDebit' });
    const payableBefore = await platform.balance(payable);
    const pendingBefore = await platform.balance(merchantPending);
    const paymentId = await debitPurchase(person, 3_000n);
    expect(await platform.balance(merchantPending)).toBe(pendingBefore + 3_000n);
    expect(await platform.balance(payable)).toBe(payableBefore);

    expect(platform.simulator.advanceClock(2 * DAY)).toEqual([]);
    expect(await status(paymentId)).toBe('processing');
    expect(platform.simulator.advanceClock(1 * DAY)).toHaveLength(1);

    await platform.events.waitFor(paymentId, 'payments.payment.captured');
    await waitFor(
      () => movements(paymentId),
      (m) => m.includes('capture'),
      { what: 'the capture posting' },
    );
    await waitFor(
      () => historyStatus(person, paymentId),
      (s) => s === 'captured',
      { what: 'history to show captured' },
    );
    expect(await movements(paymentId)).toEqual(['debit_pending', 'capture']);
    expect(await platform.balance(payable)).toBe(payableBefore + 3_000n - feeOf(3_000n));
    expect(await platform.balance(merchantPending)).toBe(pendingBefore);
  });

  it('processing -> failed after 3 simulated days: everything is reversed and the history says failed', async () => {
    const person = await platform.person({ cardBehavesLike: 'pm_sepaDebit_fails' });
    const payableBefore = await platform.balance(payable);
    const pendingBefore = await platform.balance(merchantPending);
    const paymentId = await debitPurchase(person, 2_500n);

    expect(platform.simulator.advanceClock(3 * DAY)).toHaveLength(1);
    const failed = await platform.events.waitFor(paymentId, 'payments.payment.failed');
    expect(failed.data).toMatchObject({ code: 'insufficient_funds' });
    await waitFor(
      () => movements(paymentId),
      (m) => m.includes('debit_failed'),
      { what: 'the reversal of the pending posting' },
    );
    await waitFor(
      () => historyStatus(person, paymentId),
      (s) => s === 'failed',
      { what: 'history to show failed' },
    );
    expect(await movements(paymentId)).toEqual(['debit_pending', 'debit_failed']);
    expect(await platform.balance(merchantPending)).toBe(pendingBefore);
    expect(await platform.balance(payable)).toBe(payableBefore);
    expect(await status(paymentId)).toBe('failed');
  });
});
