/**
 * payments.events.v1 -> the ledger, through the whole wallet service (real PostgreSQL and
 * Kafka): captured purchases and donations, refunds, lost disputes, transfers from wallet
 * balance, redelivery, and dead letters.
 */
import { randomUUID } from 'node:crypto';
import type {
  EventDefinition,
  EventEnvelope,
  PaymentCapturedData,
  PaymentDisputeLostData,
  PaymentFailedData,
  PaymentProcessingData,
  PaymentRefundedData,
} from '@pay/contracts';
import { createEvent, PaymentCapturedV1, PaymentDisputeLostV1, PaymentFailedV1, PaymentProcessingV1, PaymentRefundedV1, Topics } from '@pay/contracts';
import { uniqueName, waitFor } from '@pay/testing';
import { counterpartyPending, feeRevenue, merchantPayable, nonProfitPayable, personWallet, pspClearing, pspPending } from '../money/chart-of-accounts';
import { captureTransactionId, debitFailedTransactionId, disputeLossTransactionId, refundTransactionId } from '../money/ledger-ids';
import type { DeadLetter, MoneyWallet } from '../money/test/money-test-kit';
import { applied, balanceOf, entryPostings, startMoneyWallet, TestPublisher, watchDeadLetters } from '../money/test/money-test-kit';

const TOPIC = Topics.paymentEvents;
const clearing = pspClearing('stripe', 'EUR').id;
const revenue = feeRevenue('EUR').id;

interface Purchase {
  paymentId: string;
  merchantId: string;
  kind?: 'purchase' | 'donation' | 'transfer';
  counterparty?: { type: 'merchant' | 'non-profit' | 'person'; id: string };
  provider?: string;
}

/** What orchestration publishes: each payment's events in sequence, keyed by the payment id. */
class PaymentStream {
  private sequence = 10;
  constructor(private readonly payment: Purchase) {}

  get paymentId(): string {
    return this.payment.paymentId;
  }

  private base() {
    return {
      paymentId: this.payment.paymentId,
      kind: this.payment.kind ?? 'purchase',
      payerId: uniqueName('u-payer'),
      counterparty: this.payment.counterparty ?? { type: 'merchant' as const, id: this.payment.merchantId },
      provider: this.payment.provider ?? 'stripe',
      reference: `pi_${this.payment.paymentId}`,
    };
  }

  private event<T extends object>(definition: EventDefinition<T>, data: T): EventEnvelope<T> {
    this.sequence += 1;
    return createEvent({ definition, source: 'payment-orchestration', subject: this.payment.paymentId, sequence: this.sequence, data });
  }

  processing(amount: string): EventEnvelope<PaymentProcessingData> {
    return this.event(PaymentProcessingV1, { ...this.base(), amount: { amount, currency: 'EUR' } });
  }

  failed(code: string): EventEnvelope<PaymentFailedData> {
    return this.event(PaymentFailedV1, { paymentId: this.payment.paymentId, code });
  }

  captured(amount: string): EventEnvelope<PaymentCapturedData> {
    return this.event(PaymentCapturedV1, { ...this.base(), amount: { amount, currency: 'EUR' }, authorizedAmount: { amount, currency: 'EUR' } });
  }

  refunded(amount: string, refundId: string, refundedTotal: string, full = false): EventEnvelope<PaymentRefundedData> {
    return this.event(PaymentRefundedV1, {
      ...this.base(),
      amount: { amount, currency: 'EUR' },
      refundId,
      refundedTotal: { amount: refundedTotal, currency: 'EUR' },
      full,
    });
  }

  disputeLost(amount: string, disputeId: string): EventEnvelope<PaymentDisputeLostData> {
    return this.event(PaymentDisputeLostV1, { ...this.base(), amount: { amount, currency: 'EUR' }, disputeId });
  }
}

describe('post payments to the ledger', () => {
  let wallet: MoneyWallet;
  const publisher = new TestPublisher();
  let deadLetters: { letters: DeadLetter[]; stop(): Promise<void> };

  // Fee 1.5 % + 0.25 and a 15.00 dispute fee (the defaults, set here so the numbers below hold).
  const fee = (amount: bigint): bigint => (amount * 150n + 5_000n) / 10_000n + 25n;

  beforeAll(async () => {
    wallet = await startMoneyWallet('payments_ledger', { PAYMENT_FEE_BPS: '150', PAYMENT_FEE_FIXED_MINOR: '25', PAYMENT_DISPUTE_FEE_MINOR: '1500' });
    deadLetters = await watchDeadLetters(TOPIC, wallet.paymentsGroup);
  });

  afterAll(async () => {
    await deadLetters?.stop();
    await publisher.disconnect();
    await wallet?.stop();
  });

  const posted = async (accountId: string): Promise<bigint | undefined> => {
    const balance = await balanceOf(wallet, accountId);
    return balance === undefined ? undefined : BigInt(balance.posted);
  };
  const whenApplied = (envelope: EventEnvelope): Promise<boolean> =>
    waitFor(() => applied(wallet, wallet.paymentsGroup, envelope.id), Boolean, { what: `event ${envelope.type} ${envelope.id} applied` });
  const deadLetterOf = (envelope: { id: string } | string): Promise<DeadLetter> =>
    waitFor(
      async () => deadLetters.letters.find((l) => (typeof envelope === 'string' ? l.key === envelope : l.value.includes(envelope.id))),
      (letter) => letter !== undefined,
      { what: 'dead letter' },
    ) as Promise<DeadLetter>;
  const postingRows = async (paymentId: string) =>
    wallet.query<{ movement: string; amount: string; fee: string }>(
      'SELECT movement, amount::text, fee::text FROM payment_ledger_postings WHERE payment_id = $1 ORDER BY posted_at',
      [paymentId],
    );

  describe('bank debits', () => {
    const pendingOf = (merchantId: string) => counterpartyPending({ type: 'merchant', id: merchantId }, 'EUR').id;
    const pspPendingAccount = pspPending('stripe', 'EUR').id;

    it('processing posts to the pending layer; the settlement posts the capture once and empties it', async () => {
      const merchantId = uniqueName('m-debit');
      const stream = new PaymentStream({ paymentId: uniqueName('pay-debit'), merchantId });
      const pspPendingBefore = (await posted(pspPendingAccount)) ?? 0n;
      const processing = stream.processing('4200');
      await publisher.publish(TOPIC, processing);
      await whenApplied(processing);
      expect(await posted(pendingOf(merchantId))).toBe(4_200n);
      expect(await posted(merchantPayable(merchantId, 'EUR').id)).toBeUndefined();

      const settled = stream.captured('4200');
      await publisher.publish(TOPIC, settled);
      await whenApplied(settled);
      // The same settlement again, under a new envelope: posted once.
      const again = { ...settled, id: randomUUID() };
      await publisher.publish(TOPIC, again);
      await whenApplied(again);

      expect(await posted(pendingOf(merchantId))).toBe(0n);
      expect(await posted(merchantPayable(merchantId, 'EUR').id)).toBe(4_200n - fee(4_200n));
      expect((await posted(pspPendingAccount)) ?? 0n).toBe(pspPendingBefore);
      expect(await entryPostings(wallet, captureTransactionId(stream.paymentId))).toHaveLength(5);
      expect((await postingRows(stream.paymentId)).map((row) => row.movement)).toEqual(['debit_pending', 'capture']);
    });

    it('a late failure reverses the pending posting and nothing else; a card decline posts nothing', async () => {
      const merchantId = uniqueName('m-debit');
      const stream = new PaymentStream({ paymentId: uniqueName('pay-debit'), merchantId });
      const processing = stream.processing('4200');
      await publisher.publish(TOPIC, processing);
      await whenApplied(processing);
      const failed = stream.failed('insufficient_funds');
      await publisher.publish(TOPIC, failed);
      await whenApplied(failed);
      const again = { ...failed, id: randomUUID() };
      await publisher.publish(TOPIC, again);
      await whenApplied(again);

      expect(await posted(pendingOf(merchantId))).toBe(0n);
      expect(await posted(merchantPayable(merchantId, 'EUR').id)).toBeUndefined();
      expect(await entryPostings(wallet, debitFailedTransactionId(stream.paymentId))).toEqual([
        { account_id: pendingOf(merchantId), direction: 'debit', amount: '4200', layer: 'posted' },
        { account_id: pspPendingAccount, direction: 'credit', amount: '4200', layer: 'posted' },
      ]);
      expect((await postingRows(stream.paymentId)).map((row) => row.movement)).toEqual(['debit_pending', 'debit_failed']);

      const declined = new PaymentStream({ paymentId: uniqueName('pay-card'), merchantId }).failed('card_declined');
      await publisher.publish(TOPIC, declined);
      await whenApplied(declined);
      expect(await postingRows(declined.data.paymentId)).toEqual([]);
    });
  });

  it('posts a captured card purchase as one balanced transaction: clearing pays the merchant, less our fee', async () => {
    const merchantId = uniqueName('m-shop');
    const stream = new PaymentStream({ paymentId: uniqueName('pay'), merchantId });
    const capturedEvent = stream.captured('10000');
    await publisher.publish(TOPIC, capturedEvent);
    await whenApplied(capturedEvent);

    const transactionId = captureTransactionId(capturedEvent.data.paymentId);
    expect(await entryPostings(wallet, transactionId)).toEqual([
      { account_id: clearing, direction: 'debit', amount: '10000', layer: 'posted' },
      { account_id: merchantPayable(merchantId, 'EUR').id, direction: 'credit', amount: String(10_000n - fee(10_000n)), layer: 'posted' },
      { account_id: revenue, direction: 'credit', amount: String(fee(10_000n)), layer: 'posted' },
    ]);
    expect(fee(10_000n)).toBe(175n);
    expect(await posted(merchantPayable(merchantId, 'EUR').id)).toBe(9_825n);
    const [entry] = await wallet.query<{ metadata: Record<string, string> }>('SELECT metadata FROM journal_entries WHERE transaction_id = $1', [transactionId]);
    expect(entry.metadata).toMatchObject({ paymentId: capturedEvent.data.paymentId, movement: 'capture', kind: 'purchase', feeRule: '150bp+25' });
  });

  it('posts an event delivered twice, or published again under a new id, exactly once', async () => {
    const merchantId = uniqueName('m-twice');
    const stream = new PaymentStream({ paymentId: uniqueName('pay'), merchantId });
    const first = stream.captured('5000');
    const republished = createEvent({
      definition: PaymentCapturedV1,
      source: 'payment-orchestration',
      subject: first.subject,
      sequence: first.sequence,
      data: first.data,
    });
    await publisher.publish(TOPIC, first, first, republished);
    await whenApplied(republished);

    expect(await posted(merchantPayable(merchantId, 'EUR').id)).toBe(5_000n - fee(5_000n));
    const [count] = await wallet.query<{ n: string }>(`SELECT count(*)::text AS n FROM journal_entries WHERE metadata->>'paymentId' = $1`, [
      first.data.paymentId,
    ]);
    expect(count.n).toBe('1');
    expect(await postingRows(first.data.paymentId)).toEqual([{ movement: 'capture', amount: '5000', fee: String(fee(5_000n)) }]);
  });

  it('refunds (two partials, then the rest) take back exactly what was refunded; the fee is kept', async () => {
    const merchantId = uniqueName('m-refunds');
    const stream = new PaymentStream({ paymentId: uniqueName('pay'), merchantId });
    const clearingBefore = (await posted(clearing)) ?? 0n;
    const events = [
      stream.captured('10000'),
      stream.refunded('2500', 're_1', '2500'),
      stream.refunded('1500', 're_2', '4000'),
      stream.refunded('6000', 're_3', '10000', true),
    ];
    // The last refund, re-published under a new id, must not take back twice.
    const again = createEvent({
      definition: PaymentRefundedV1,
      source: 'payment-orchestration',
      subject: events[3].subject,
      sequence: events[3].sequence,
      data: events[3].data as PaymentRefundedData,
    });
    await publisher.publish(TOPIC, ...events, again);
    await whenApplied(again);

    const payable = merchantPayable(merchantId, 'EUR').id;
    // captured - fees - refunds: the merchant owes us the fee it kept paying for a payment it refunded in full.
    expect(await posted(payable)).toBe(10_000n - fee(10_000n) - 2_500n - 1_500n - 6_000n);
    expect((await posted(clearing)) ?? 0n).toBe(clearingBefore);
    const refund = await entryPostings(wallet, refundTransactionId(stream.paymentId, 're_2'));
    expect(refund).toEqual([
      { account_id: payable, direction: 'debit', amount: '1500', layer: 'posted' },
      { account_id: clearing, direction: 'credit', amount: '1500', layer: 'posted' },
    ]);
    expect((await postingRows(stream.paymentId)).map((r) => [r.movement, r.amount])).toEqual([
      ['capture', '10000'],
      ['refund', '2500'],
      ['refund', '1500'],
      ['refund', '6000'],
    ]);

    // One more cent would be more than was captured: dead-lettered with the reason, nothing posted.
    const tooMuch = stream.refunded('1', 're_4', '10001');
    await publisher.publish(TOPIC, tooMuch);
    const letter = await deadLetterOf(tooMuch);
    expect(letter.headers['dlq-reason']).toMatch(/would take back more than the 10000 captured \(10000 already refunded/);
    expect(await posted(payable)).toBe(-fee(10_000n));
  });

  it('posts a donation to the non-profit’s payable', async () => {
    const nonProfitId = uniqueName('np-shelter');
    const stream = new PaymentStream({ paymentId: uniqueName('pay'), merchantId: '', kind: 'donation', counterparty: { type: 'non-profit', id: nonProfitId } });
    const donation = stream.captured('2000');
    await publisher.publish(TOPIC, donation);
    await whenApplied(donation);
    expect(await posted(nonProfitPayable(nonProfitId, 'EUR').id)).toBe(2_000n - fee(2_000n));
    expect((await entryPostings(wallet, captureTransactionId(donation.data.paymentId))).map((p) => p.account_id)).toEqual([
      clearing,
      nonProfitPayable(nonProfitId, 'EUR').id,
      revenue,
    ]);
  });

  it('a lost dispute takes the disputed amount back from the merchant and charges the dispute fee', async () => {
    const merchantId = uniqueName('m-dispute');
    const stream = new PaymentStream({ paymentId: uniqueName('pay'), merchantId });
    const capturedEvent = stream.captured('8000');
    const lost = stream.disputeLost('8000', 'dp_1');
    const revenueBefore = (await posted(revenue)) ?? 0n;
    await publisher.publish(TOPIC, capturedEvent, lost);
    await whenApplied(lost);

    const payable = merchantPayable(merchantId, 'EUR').id;
    expect(await entryPostings(wallet, disputeLossTransactionId(capturedEvent.data.paymentId, 'dp_1'))).toEqual([
      { account_id: payable, direction: 'debit', amount: '8000', layer: 'posted' },
      { account_id: clearing, direction: 'credit', amount: '8000', layer: 'posted' },
      { account_id: payable, direction: 'debit', amount: '1500', layer: 'posted' },
      { account_id: revenue, direction: 'credit', amount: '1500', layer: 'posted' },
    ]);
    expect(await posted(payable)).toBe(8_000n - fee(8_000n) - 8_000n - 1_500n);
    expect(((await posted(revenue)) ?? 0n) - revenueBefore).toBe(fee(8_000n) + 1_500n);
  });

  it('posts nothing for a transfer captured from wallet balance (its reservation moved the money)', async () => {
    const recipient = uniqueName('u-bob');
    const stream = new PaymentStream({
      paymentId: uniqueName('pay'),
      merchantId: '',
      kind: 'transfer',
      counterparty: { type: 'person', id: recipient },
      provider: 'wallet',
    });
    const capturedEvent = stream.captured('700');
    await publisher.publish(TOPIC, capturedEvent);
    await whenApplied(capturedEvent);
    const [count] = await wallet.query<{ n: string }>(`SELECT count(*)::text AS n FROM journal_entries WHERE metadata->>'paymentId' = $1`, [
      capturedEvent.data.paymentId,
    ]);
    expect(count.n).toBe('0');
    expect(await balanceOf(wallet, personWallet(recipient, 'EUR').id)).toBeUndefined();
    expect(await postingRows(capturedEvent.data.paymentId)).toEqual([]);
  });

  it('dead-letters a malformed event and an impossible one, with the reason, and goes on', async () => {
    const paymentId = uniqueName('pay');
    const malformed = {
      id: randomUUID(),
      type: PaymentCapturedV1.type,
      version: 1,
      source: 'payment-orchestration',
      subject: paymentId,
      sequence: 1,
      occurredAt: new Date().toISOString(),
      correlationId: randomUUID(),
      data: {
        paymentId,
        kind: 'purchase',
        payerId: 'u-1',
        counterparty: { type: 'merchant', id: 'm-1' },
        provider: 'stripe',
        reference: 'pi_1',
        amount: { amount: '12.50', currency: 'EUR' },
        authorizedAmount: { amount: '1250', currency: 'EUR' },
      },
    };
    await publisher.publishRaw(TOPIC, paymentId, JSON.stringify(malformed));
    const letter = await deadLetterOf(paymentId);
    expect(letter.headers['dlq-reason']).toMatch(/data\.amount\.amount: amount must be a whole number of minor units/);
    expect(letter.headers).toMatchObject({ 'dlq-original-topic': TOPIC, 'dlq-consumer': wallet.paymentsGroup, 'dlq-attempts': '1' });

    // Valid JSON, but a purchase paid to a person: a permanent refusal, dead-lettered at once.
    const wrong = new PaymentStream({ paymentId: uniqueName('pay'), merchantId: '', counterparty: { type: 'person', id: 'u-x' } }).captured('100');
    const after = new PaymentStream({ paymentId: wrong.subject, merchantId: uniqueName('m-after') }).refunded('1', 're_x', '1');
    await publisher.publish(TOPIC, wrong, after);
    expect((await deadLetterOf(wrong)).headers['dlq-reason']).toMatch(/PermanentEventError: payment .* a purchase is paid to a merchant, not to a person/);
    // The next event of the same partition is still handled (and refused: there is no capture to refund).
    expect((await deadLetterOf(after)).headers['dlq-reason']).toMatch(/has no posted capture/);
    expect(await applied(wallet, wallet.paymentsGroup, wrong.id)).toBe(false);
  });

  it('keeps the journal verifiable and balances equal to the journal', async () => {
    expect(await wallet.ledger.verify()).toMatchObject({ ok: true });
    expect(await wallet.ledger.balanceDrift()).toEqual([]);
  });
});
