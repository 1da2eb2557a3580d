import type { PaymentCapturedData, PaymentDisputeLostData, PaymentProcessingData, PaymentRefundedData } from '@pay/contracts';
import type { PostingInput, TransferCommand } from '@pay/ledger-domain';
import { InMemoryLedger } from '@pay/ledger-domain';
import type { PostedCapture, PostingPlan, PostingPolicy } from './payment-postings';
import { planCapture, planDebitFailed, planDebitPending, planDisputeLoss, planRefund, planTransferReturn, PostingRefused } from './payment-postings';

const policy: PostingPolicy = { fee: { basisPoints: 150, fixedMinor: 25n }, disputeFeeMinor: 1_500n };
const money = (amount: string, currency = 'EUR') => ({ amount, currency });

function captured(overrides: Partial<PaymentCapturedData> = {}): PaymentCapturedData {
  return {
    paymentId: 'pay_1',
    kind: 'purchase',
    payerId: 'u-alice',
    counterparty: { type: 'merchant', id: 'm-shop' },
    provider: 'stripe',
    reference: 'pi_123',
    amount: money('10000'),
    authorizedAmount: money('10000'),
    ...overrides,
  };
}

function refunded(amount: string, refundId: string, overrides: Partial<PaymentRefundedData> = {}): PaymentRefundedData {
  const { authorizedAmount: _ignored, ...base } = captured();
  return { ...base, refundId, amount: money(amount), refundedTotal: money(amount), full: false, ...overrides };
}

function disputeLost(amount: string, overrides: Partial<PaymentDisputeLostData> = {}): PaymentDisputeLostData {
  const { authorizedAmount: _ignored, ...base } = captured();
  return { ...base, disputeId: 'dp_1', amount: money(amount), ...overrides };
}

const postingsOf = (plan: PostingPlan | null): readonly PostingInput[] => (plan?.command as TransferCommand).postings;
const capturedAs = (plan: PostingPlan): PostedCapture => ({ transactionId: plan.transactionId, ...(plan.record as Omit<PostedCapture, 'transactionId'>) });

describe('payment postings', () => {
  it('posts a card purchase: PSP clearing pays the merchant, less our fee', () => {
    const plan = planCapture(captured(), policy) as PostingPlan;
    expect(plan.transactionId).toBe('capture.pay_1');
    expect(postingsOf(plan)).toEqual([
      { accountId: 'system.psp-clearing.stripe.EUR', direction: 'debit', amount: 10_000n, currency: 'EUR' },
      { accountId: 'merchant.m-shop.payable.EUR', direction: 'credit', amount: 9_825n, currency: 'EUR' },
      { accountId: 'system.fee-revenue.EUR', direction: 'credit', amount: 175n, currency: 'EUR' },
    ]);
    expect(plan.command.metadata).toEqual({
      paymentId: 'pay_1',
      movement: 'capture',
      kind: 'purchase',
      provider: 'stripe',
      reference: 'pi_123',
      feeRule: '150bp+25',
    });
    expect(plan.record).toMatchObject({ amount: 10_000n, fee: 175n, counterpartyAccountId: 'merchant.m-shop.payable.EUR' });
    expect(plan.accounts.map((a) => a.id)).toEqual(['system.psp-clearing.stripe.EUR', 'merchant.m-shop.payable.EUR', 'system.fee-revenue.EUR']);
  });

  it('posts a donation to the non-profit, with the same fee', () => {
    const plan = planCapture(captured({ kind: 'donation', counterparty: { type: 'non-profit', id: 'np-red-cross' } }), policy);
    expect(postingsOf(plan)[1]).toEqual({ accountId: 'nonprofit.np-red-cross.payable.EUR', direction: 'credit', amount: 9_825n, currency: 'EUR' });
  });

  it('posts a card-funded transfer to the recipient’s wallet without a fee', () => {
    const plan = planCapture(captured({ kind: 'transfer', counterparty: { type: 'person', id: 'u-bob' } }), policy);
    expect(postingsOf(plan)).toEqual([
      { accountId: 'system.psp-clearing.stripe.EUR', direction: 'debit', amount: 10_000n, currency: 'EUR' },
      { accountId: 'person.u-bob.wallet.EUR', direction: 'credit', amount: 10_000n, currency: 'EUR' },
    ]);
  });

  it('posts nothing for a transfer from wallet balance: its reservation already moved the money', () => {
    expect(planCapture(captured({ kind: 'transfer', counterparty: { type: 'person', id: 'u-bob' }, provider: 'wallet' }), policy)).toBeNull();
    // A purchase cannot have been paid from wallet balance: saying nothing would lose it.
    expect(() => planCapture(captured({ provider: 'wallet' }), policy)).toThrow(/only transfers between persons are paid from wallet balance, not a purchase/);
  });

  it('gives a payment smaller than the fee entirely to the fee', () => {
    const plan = planCapture(captured({ amount: money('20') }), policy);
    expect(postingsOf(plan)).toEqual([
      { accountId: 'system.psp-clearing.stripe.EUR', direction: 'debit', amount: 20n, currency: 'EUR' },
      { accountId: 'system.fee-revenue.EUR', direction: 'credit', amount: 20n, currency: 'EUR' },
    ]);
  });

  it('refuses what cannot be posted, saying why', () => {
    expect(() => planCapture(captured({ amount: money('0') }), policy)).toThrow(/captured amount must be greater than zero/);
    expect(() => planCapture(captured({ counterparty: { type: 'person', id: 'u-bob' } }), policy)).toThrow(/a purchase is paid to a merchant, not to a person/);
  });

  it('refunds keep the fee: each takes its amount back from the merchant, never more than was captured', () => {
    const capture = capturedAs(planCapture(captured(), policy) as PostingPlan);
    const first = planRefund(refunded('3000', 're_1'), capture, 0n);
    expect(first.transactionId).toMatch(/^refund-h\./);
    expect(postingsOf(first)).toEqual([
      { accountId: 'merchant.m-shop.payable.EUR', direction: 'debit', amount: 3_000n, currency: 'EUR' },
      { accountId: 'system.psp-clearing.stripe.EUR', direction: 'credit', amount: 3_000n, currency: 'EUR' },
    ]);
    expect(first.command.metadata).toMatchObject({ movement: 'refund', refundId: 're_1', capture: 'capture.pay_1' });
    expect(planRefund(refunded('7000', 're_2'), capture, 3_000n).record).toMatchObject({ amount: 7_000n, fee: 0n });
    expect(() => planRefund(refunded('7001', 're_2'), capture, 3_000n)).toThrow(/would take back more than the 10000 captured \(3000 already/);
    expect(planRefund(refunded('3000', 're_1'), capture, 0n).transactionId).not.toBe(planRefund(refunded('3000', 're_2'), capture, 0n).transactionId);
  });

  it('refuses a refund without a posted capture, or that does not match it', () => {
    expect(() => planRefund(refunded('100', 're_1'), undefined, 0n)).toThrow(/has no posted capture/);
    const capture = capturedAs(planCapture(captured(), policy) as PostingPlan);
    expect(() => planRefund(refunded('100', 're_1', { amount: money('100', 'USD') }), capture, 0n)).toThrow(/captured in EUR/);
    expect(() => planRefund(refunded('100', 're_1', { counterparty: { type: 'merchant', id: 'm-other' } }), capture, 0n)).toThrow(
      /another provider or counterparty/,
    );
    expect(() => planRefund(refunded('0', 're_1'), capture, 0n)).toThrow(/refund amount must be greater than zero/);
  });

  it('a lost dispute takes the amount back and charges the dispute fee', () => {
    const capture = capturedAs(planCapture(captured(), policy) as PostingPlan);
    const plan = planDisputeLoss(disputeLost('10000'), capture, 0n, policy);
    expect(plan.transactionId).toMatch(/^dispute-loss-h\./);
    expect(postingsOf(plan)).toEqual([
      { accountId: 'merchant.m-shop.payable.EUR', direction: 'debit', amount: 10_000n, currency: 'EUR' },
      { accountId: 'system.psp-clearing.stripe.EUR', direction: 'credit', amount: 10_000n, currency: 'EUR' },
      { accountId: 'merchant.m-shop.payable.EUR', direction: 'debit', amount: 1_500n, currency: 'EUR' },
      { accountId: 'system.fee-revenue.EUR', direction: 'credit', amount: 1_500n, currency: 'EUR' },
    ]);
    expect(plan.record).toMatchObject({ amount: 10_000n, fee: 1_500n });
    expect(() => planDisputeLoss(disputeLost('1'), capture, 10_000n, policy)).toThrow(/would take back more/);
    expect(postingsOf(planDisputeLoss(disputeLost('10000'), capture, 0n, { ...policy, disputeFeeMinor: 0n }))).toHaveLength(2);
  });

  it('refunds a transfer from wallet balance by reversing its posted reservation; it cannot be disputed', () => {
    const transfer = { kind: 'transfer', counterparty: { type: 'person', id: 'u-bob' }, provider: 'wallet' } as const;
    const plan = planRefund(refunded('500', 're_1', transfer), undefined, 0n);
    expect(plan.command).toMatchObject({
      type: 'reverse',
      reverses: 'p2p.pay_1:post',
      postings: [
        { accountId: 'person.u-bob.wallet.EUR', direction: 'debit', amount: 500n, currency: 'EUR' },
        { accountId: 'person.u-alice.wallet.EUR', direction: 'credit', amount: 500n, currency: 'EUR' },
      ],
    });
    expect(plan.record).toBeUndefined();
    // The wallet posted it already when orchestration asked for the return: the same command under the same id, which the ledger replays.
    expect(planTransferReturn({ paymentId: 'pay_1', refundId: 're_1', senderId: 'u-alice', recipientId: 'u-bob', amount: 500n, currency: 'EUR' })).toEqual(
      plan,
    );
    expect(() => planTransferReturn({ paymentId: 'pay_1', refundId: 're_1', senderId: 'u-alice', recipientId: 'u-bob', amount: 0n, currency: 'EUR' })).toThrow(
      PostingRefused,
    );
    expect(() => planDisputeLoss(disputeLost('500', transfer), undefined, 0n, policy)).toThrow(PostingRefused);
  });

  it('every plan is accepted by the ledger as one balanced transaction, and money is never created', () => {
    const ledger = new InMemoryLedger();
    const capturePlan = planCapture(captured(), policy) as PostingPlan;
    const capture = capturedAs(capturePlan);
    const plans = [
      capturePlan,
      planRefund(refunded('2500', 're_1'), capture, 0n),
      planRefund(refunded('2500', 're_2'), capture, 2_500n),
      planDisputeLoss(disputeLost('5000'), capture, 5_000n, policy),
    ];
    for (const plan of plans) {
      for (const account of plan.accounts) ledger.openAccount(account);
      const outcome = ledger.execute(plan.command);
      expect(outcome).toMatchObject({ ok: true });
    }
    const posted = (id: string) => ledger.summary(id).posted;
    expect(posted('merchant.m-shop.payable.EUR')).toBe(10_000n - 175n - 2_500n - 2_500n - 5_000n - 1_500n);
    expect(posted('system.fee-revenue.EUR')).toBe(175n + 1_500n);
    // Debit-normal: what the PSP still owes us, 0 once everything went back.
    expect(posted('system.psp-clearing.stripe.EUR')).toBe(0n);
  });

  describe('bank debits: pending until settled, reversed on a late failure', () => {
    const { authorizedAmount: _ignored, ...processing } = captured({ reference: 'pi_debit' });
    const debitOf = (): PaymentProcessingData => processing;
    const run = (plans: PostingPlan[]): InMemoryLedger => {
      const ledger = new InMemoryLedger();
      for (const plan of plans) {
        for (const account of plan.accounts) ledger.openAccount(account);
        expect(ledger.execute(plan.command)).toMatchObject({ ok: true });
      }
      return ledger;
    };

    it('posts a debit on its way to the pending layer only', () => {
      const plan = planDebitPending(debitOf());
      expect(plan.transactionId).toBe('debit-pending.pay_1');
      expect(postingsOf(plan)).toEqual([
        { accountId: 'system.psp-pending.stripe.EUR', direction: 'debit', amount: 10_000n, currency: 'EUR' },
        { accountId: 'merchant.m-shop.pending.EUR', direction: 'credit', amount: 10_000n, currency: 'EUR' },
      ]);
      expect(plan.record).toMatchObject({ amount: 10_000n, fee: 0n, counterpartyAccountId: 'merchant.m-shop.pending.EUR' });
    });

    it('settles once: the capture posts the payable and fee and empties the pending layer in one transaction', () => {
      const pendingPlan = planDebitPending(debitOf());
      const capturePlan = planCapture(captured({ reference: 'pi_debit' }), policy, capturedAs(pendingPlan)) as PostingPlan;
      expect(capturePlan.transactionId).toBe('capture.pay_1');
      expect(capturePlan.command.metadata).toMatchObject({ pending: 'debit-pending.pay_1' });
      const ledger = run([pendingPlan, capturePlan]);
      const posted = (id: string) => ledger.summary(id).posted;
      expect(posted('merchant.m-shop.payable.EUR')).toBe(9_825n);
      expect(posted('system.fee-revenue.EUR')).toBe(175n);
      expect(posted('system.psp-clearing.stripe.EUR')).toBe(10_000n);
      expect(posted('merchant.m-shop.pending.EUR')).toBe(0n);
      expect(posted('system.psp-pending.stripe.EUR')).toBe(0n);
      expect(() => planCapture(captured({ amount: money('9000') }), policy, capturedAs(pendingPlan))).toThrow(PostingRefused);
    });

    it('fails late: everything the debit posted is taken back, nothing else moved', () => {
      const pendingPlan = planDebitPending(debitOf());
      const failedPlan = planDebitFailed('pay_1', capturedAs(pendingPlan));
      expect(failedPlan.transactionId).toBe('debit-failed.pay_1');
      const ledger = run([pendingPlan, failedPlan]);
      const posted = (id: string) => ledger.summary(id).posted;
      expect(posted('merchant.m-shop.pending.EUR')).toBe(0n);
      expect(posted('system.psp-pending.stripe.EUR')).toBe(0n);
    });

    it('refuses a debit from wallet balance or paid to the wrong kind of counterparty', () => {
      expect(() => planDebitPending({ ...debitOf(), provider: 'wallet' })).toThrow(PostingRefused);
      expect(() => planDebitPending({ ...debitOf(), counterparty: { type: 'person', id: 'u-bob' } })).toThrow(PostingRefused);
    });
  });
});
