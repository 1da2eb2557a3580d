import fc from 'fast-check';
import { capturedHistory, initiated, PI } from './__fixtures__/payment-fixtures';
import { Payment } from './payment';
import type { PaymentEvent } from './payment-events';
import type { PspObservation } from './psp-observation';
import { debitReturnId, matchesUnchangedWhen, planDisputeObservation, planPaymentObservation, planRefundObservation, unchangedWhen } from './psp-observation';

const observe = (payment: Payment, observation: PspObservation) => planPaymentObservation(payment.state, 'stripe', observation);
const run = (payment: Payment, observation: PspObservation): Payment => {
  const plan = observe(payment, observation);
  return plan.outcome === 'advance' ? payment.applyAll(plan.events) : payment;
};

describe('planPaymentObservation: never go backwards', () => {
  const captured = Payment.rehydrate(capturedHistory());

  it('ignores a late payment_intent.processing after succeeded', () => {
    expect(observe(captured, { stage: 'pending', reference: PI })).toEqual({ outcome: 'unchanged', reason: 'no_news' });
  });

  it('ignores a late requires_capture after the capture, and a late requires_action after authorisation', () => {
    expect(observe(captured, { stage: 'authorized', reference: PI, amount: 1000n })).toEqual({ outcome: 'unchanged', reason: 'stale' });
    const authorized = Payment.rehydrate(capturedHistory().slice(0, 2));
    expect(observe(authorized, { stage: 'requires_action', reference: PI })).toEqual({ outcome: 'unchanged', reason: 'stale' });
  });

  it('jumps skipped steps: succeeded on a new payment is Authorized then Captured', () => {
    const plan = observe(Payment.start(initiated({ captureMethod: 'automatic' })), { stage: 'captured', reference: PI, amount: 1000n });
    expect(plan).toEqual({
      outcome: 'advance',
      events: [
        { type: 'Authorized', amount: 1000n, provider: 'stripe', reference: PI },
        { type: 'Captured', amount: 1000n },
      ],
    });
  });

  it('records a decline with its codes and no provider text', () => {
    const declined: PspObservation = { stage: 'failed', reference: PI, code: 'card_declined', declineCode: 'insufficient_funds' };
    expect(run(Payment.start(initiated()), declined).state).toMatchObject({
      status: 'failed',
      failure: { code: 'card_declined', declineCode: 'insufficient_funds' },
    });
  });

  it('says "already applied" for a duplicate delivery', () => {
    expect(observe(captured, { stage: 'captured', reference: PI, amount: 1000n })).toEqual({ outcome: 'unchanged', reason: 'already_applied' });
  });

  it('flags a conflict, applying nothing, when money moved on a payment we consider failed or for another amount', () => {
    const failed = Payment.start(initiated()).apply({ type: 'Failed', code: 'card_declined' });
    expect(observe(failed, { stage: 'captured', reference: PI, amount: 1000n }).outcome).toBe('conflict');
    expect(observe(captured, { stage: 'captured', reference: PI, amount: 900n }).outcome).toBe('conflict');
    expect(observe(captured, { stage: 'captured', reference: 'pi_someone_else', amount: 1000n }).outcome).toBe('conflict');
    expect(observe(captured, { stage: 'canceled', reference: PI, reason: 'requested' }).outcome).toBe('conflict');
  });

  it('treats a failed attempt reported after the authorisation as stale', () => {
    const authorized = Payment.rehydrate(capturedHistory().slice(0, 2));
    expect(observe(authorized, { stage: 'failed', reference: PI, code: 'card_declined' })).toEqual({ outcome: 'unchanged', reason: 'stale' });
  });

  it('never acts on a status it does not know', () => {
    const unknown: PspObservation = { stage: 'unrecognized', reference: PI, providerStatus: 'requires_teleportation' };
    expect(observe(Payment.start(initiated()), unknown)).toEqual({ outcome: 'unchanged', reason: 'no_news' });
  });
});

describe('planRefundObservation', () => {
  const captured = Payment.rehydrate(capturedHistory());
  const requested = captured.apply({ type: 'RefundRequested', refundId: 'r1', amount: 300n, reason: 'requested_by_customer' });

  it('settles a requested refund once', () => {
    const plan = planRefundObservation(requested.state, { refundId: 'r1', amount: 300n, status: 'succeeded' });
    expect(plan).toEqual({ outcome: 'advance', events: [{ type: 'Refunded', refundId: 'r1', amount: 300n }] });
    const settled = requested.applyAll(plan.outcome === 'advance' ? plan.events : []);
    expect(planRefundObservation(settled.state, { refundId: 'r1', amount: 300n, status: 'succeeded' }).outcome).toBe('unchanged');
  });

  it('records a refund made at the provider, and refuses one that would exceed the capture', () => {
    expect(planRefundObservation(captured.state, { refundId: 're_dash', amount: 100n, status: 'succeeded' }).outcome).toBe('advance');
    expect(planRefundObservation(requested.state, { refundId: 're_dash', amount: 701n, status: 'succeeded' }).outcome).toBe('conflict');
  });

  it('fails a pending refund, and flags a refund that fails after it succeeded', () => {
    expect(planRefundObservation(requested.state, { refundId: 'r1', amount: 300n, status: 'failed', reason: 'expired_or_canceled_card' })).toEqual({
      outcome: 'advance',
      events: [{ type: 'RefundFailed', refundId: 'r1', reason: 'expired_or_canceled_card' }],
    });
    const settled = requested.apply({ type: 'Refunded', refundId: 'r1', amount: 300n });
    expect(planRefundObservation(settled.state, { refundId: 'r1', amount: 300n, status: 'failed' }).outcome).toBe('conflict');
  });
});

describe('planDisputeObservation', () => {
  const captured = Payment.rehydrate(capturedHistory());

  it('opens then closes, and takes `closed` before `created` (out of order) as both', () => {
    expect(planDisputeObservation(captured.state, { disputeId: 'dp_1', amount: 1000n, status: 'lost', reason: 'fraudulent' })).toEqual({
      outcome: 'advance',
      events: [
        { type: 'DisputeOpened', disputeId: 'dp_1', amount: 1000n, reason: 'fraudulent' },
        { type: 'DisputeLost', disputeId: 'dp_1' },
      ],
    });
    const lost = captured
      .apply({ type: 'DisputeOpened', disputeId: 'dp_1', amount: 1000n, reason: 'fraudulent' })
      .apply({ type: 'DisputeLost', disputeId: 'dp_1' });
    expect(planDisputeObservation(lost.state, { disputeId: 'dp_1', amount: 1000n, status: 'open', reason: 'fraudulent' })).toEqual({
      outcome: 'unchanged',
      reason: 'stale',
    });
    expect(planDisputeObservation(lost.state, { disputeId: 'dp_1', amount: 1000n, status: 'won', reason: 'fraudulent' }).outcome).toBe('conflict');
  });
});

describe('planPaymentObservation: bank debits (processing for days, settled or failed late)', () => {
  const debit: PspObservation = { stage: 'processing', reference: PI, amount: 1000n };
  const submitted = run(Payment.start(initiated({ captureMethod: 'automatic' })), debit);

  it('records a debit on its way as processing, once', () => {
    expect(submitted.state).toMatchObject({ status: 'processing', provider: 'stripe', reference: PI, authorizedAmount: 1000n, capturedAmount: 0n });
    expect(observe(submitted, debit)).toEqual({ outcome: 'unchanged', reason: 'already_applied' });
    expect(observe(submitted, { stage: 'pending', reference: PI })).toEqual({ outcome: 'unchanged', reason: 'no_news' });
  });

  it('settles: processing -> captured for the whole amount; a late processing webhook is stale', () => {
    const settled = run(submitted, { stage: 'captured', reference: PI, amount: 1000n });
    expect(settled.state).toMatchObject({ status: 'captured', capturedAmount: 1000n });
    expect(observe(settled, debit)).toEqual({ outcome: 'unchanged', reason: 'stale' });
    expect(observe(submitted, { stage: 'captured', reference: PI, amount: 900n }).outcome).toBe('conflict');
  });

  it('fails late: processing -> failed with the bank code; a late processing webhook is stale', () => {
    const failed = run(submitted, { stage: 'failed', reference: PI, code: 'insufficient_funds' });
    expect(failed.state).toMatchObject({ status: 'failed', failure: { code: 'insufficient_funds' } });
    expect(observe(failed, debit)).toEqual({ outcome: 'unchanged', reason: 'stale' });
    expect(observe(failed, { stage: 'captured', reference: PI, amount: 1000n }).outcome).toBe('conflict');
  });

  it('returned after it settled: a chargeback the bank decided, for what the merchant still holds; once, whoever reports it', () => {
    const settled = run(submitted, { stage: 'captured', reference: PI, amount: 1000n });
    const returned: PspObservation = { stage: 'failed', reference: PI, code: 'debit_not_authorized', bankDebit: true };
    const disputeId = debitReturnId(PI);
    expect(observe(settled, returned)).toEqual({
      outcome: 'advance',
      events: [
        { type: 'DisputeOpened', disputeId, amount: 1000n, reason: 'debit_not_authorized' },
        { type: 'DisputeLost', disputeId },
      ],
    });
    const after = run(settled, returned);
    expect(after.state).toMatchObject({ status: 'disputed', dispute: { disputeId, amount: 1000n, outcome: 'lost' } });
    expect(observe(after, returned)).toEqual({ outcome: 'unchanged', reason: 'already_applied' });
    // The shortcut of stores never skips a return the planner would record.
    expect(matchesUnchangedWhen(settled.state, unchangedWhen('stripe', returned))).toBe(false);

    // Partly refunded: only what is left goes back.
    const refunded = settled.applyAll([
      { type: 'RefundRequested', refundId: 'r1', amount: 300n, reason: 'requested_by_customer' },
      { type: 'Refunded', refundId: 'r1', amount: 300n },
    ]);
    expect(observe(refunded, returned)).toMatchObject({ outcome: 'advance', events: [{ type: 'DisputeOpened', amount: 700n }, { type: 'DisputeLost' }] });
    // Refunded in full, or disputed already: nothing is forced, reconciliation must look.
    const all = settled.applyAll([
      { type: 'RefundRequested', refundId: 'r2', amount: 1000n, reason: 'requested_by_customer' },
      { type: 'Refunded', refundId: 'r2', amount: 1000n },
    ]);
    expect(observe(all, returned).outcome).toBe('conflict');
    const disputed = settled.applyAll([{ type: 'DisputeOpened', disputeId: 'dp_1', amount: 1000n, reason: 'fraudulent' }]);
    expect(observe(disputed, returned).outcome).toBe('conflict');
  });

  it('a card failure reported after the capture stays stale news (a superseded attempt)', () => {
    const card = Payment.rehydrate(capturedHistory());
    expect(observe(card, { stage: 'failed', reference: PI, code: 'card_declined' })).toEqual({ outcome: 'unchanged', reason: 'stale' });
  });

  it('refuses what a debit cannot do: another amount, an authorisation, a cancellation once sent', () => {
    expect(observe(Payment.start(initiated()), { stage: 'processing', reference: PI, amount: 999n }).outcome).toBe('conflict');
    expect(observe(submitted, { stage: 'authorized', reference: PI, amount: 1000n }).outcome).toBe('conflict');
    expect(observe(submitted, { stage: 'canceled', reference: PI, reason: 'abandoned' }).outcome).toBe('conflict');
  });
});

describe('unchangedWhen: the shortcut a store takes for news that changes nothing', () => {
  const reference = fc.constantFrom(PI, PI, 'pi_other');
  const amount = fc.constantFrom(1000n, 500n);
  const event: fc.Arbitrary<PaymentEvent> = fc.oneof(
    reference.map((ref): PaymentEvent => ({ type: 'ActionRequired', provider: 'stripe', reference: ref })),
    fc.tuple(amount, reference).map(([a, ref]): PaymentEvent => ({ type: 'Authorized', amount: a, provider: 'stripe', reference: ref })),
    fc.tuple(amount, reference).map(([a, ref]): PaymentEvent => ({ type: 'DebitSubmitted', amount: a, provider: 'stripe', reference: ref })),
    amount.map((a): PaymentEvent => ({ type: 'Captured', amount: a })),
    fc.constant<PaymentEvent>({ type: 'Failed', code: 'card_declined' }),
    fc.constant<PaymentEvent>({ type: 'Canceled', reason: 'requested' }),
    amount.map((a): PaymentEvent => ({ type: 'RefundRequested', refundId: 'r1', amount: a / 2n, reason: 'requested_by_customer' })),
    amount.map((a): PaymentEvent => ({ type: 'Refunded', refundId: 'r1', amount: a / 2n })),
    amount.map((a): PaymentEvent => ({ type: 'DisputeOpened', disputeId: 'dp_1', amount: a, reason: 'fraudulent' })),
  );
  const observation: fc.Arbitrary<PspObservation> = fc.oneof(
    reference.map((ref): PspObservation => ({ stage: 'pending', reference: ref })),
    reference.map((ref): PspObservation => ({ stage: 'requires_action', reference: ref })),
    fc.tuple(reference, amount).map(([ref, a]): PspObservation => ({ stage: 'authorized', reference: ref, amount: a })),
    fc.tuple(reference, amount).map(([ref, a]): PspObservation => ({ stage: 'captured', reference: ref, amount: a })),
    fc.tuple(reference, amount).map(([ref, a]): PspObservation => ({ stage: 'processing', reference: ref, amount: a })),
    reference.map((ref): PspObservation => ({ stage: 'failed', reference: ref, code: 'card_declined' })),
    reference.map((ref): PspObservation => ({ stage: 'canceled', reference: ref, reason: 'abandoned' })),
    reference.map((ref): PspObservation => ({ stage: 'unrecognized', reference: ref, providerStatus: 'new_status' })),
  );

  it('is sound: a payment that matches it gets `unchanged` from the planner, whatever its history', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 12 }), observation, fc.constantFrom('stripe', 'paypal'), (events, news, provider) => {
        const payment = events.reduce((current, next) => (current.accepts(next) ? current.apply(next) : current), Payment.start(initiated()));
        if (matchesUnchangedWhen(payment.state, unchangedWhen(provider, news))) {
          expect(planPaymentObservation(payment.state, provider, news).outcome).toBe('unchanged');
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('catches the redelivered news of the purchase path (created, then succeeded after the capture)', () => {
    const captured = Payment.rehydrate(capturedHistory());
    expect(matchesUnchangedWhen(captured.state, unchangedWhen('stripe', { stage: 'pending', reference: PI }))).toBe(true);
    expect(matchesUnchangedWhen(captured.state, unchangedWhen('stripe', { stage: 'captured', reference: PI, amount: 1000n }))).toBe(true);
    expect(matchesUnchangedWhen(captured.state, unchangedWhen('stripe', { stage: 'captured', reference: PI, amount: 999n }))).toBe(false);
  });
});
