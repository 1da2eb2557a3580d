/**
 * Properties of the payment state machine over random event sequences (valid and invalid, in
 * any order) and random deliveries of provider observations (late, repeated, out of order).
 */
import fc from 'fast-check';
import { initiated } from './__fixtures__/payment-fixtures';
import { applyPaymentEvent } from './apply-payment-event';
import { Payment } from './payment';
import { PaymentTransitionError } from './payment-errors';
import type { PaymentEvent } from './payment-events';
import { CANCELLATION_REASONS, PAYMENT_EVENT_TYPES } from './payment-events';
import type { PaymentState } from './payment-state';
import { pendingRefundAmount, withheldByDispute } from './payment-state';
import { PROGRESS_STAGE } from './payment-status';
import type { PspObservation } from './psp-observation';
import { planPaymentObservation, planRefundObservation } from './psp-observation';
import { ACCEPTED_IN, isAllowedStatusChange } from './transitions';

type AmountSpec = 'full' | 'half' | bigint;
const resolve = (spec: AmountSpec, amount: bigint): bigint => (spec === 'full' ? amount : spec === 'half' ? amount / 2n : spec);

// Small id spaces on purpose: refunds and disputes collide, so duplicates and mismatches happen often.
const amountSpec = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<AmountSpec>('full', 'half') },
  { weight: 5, arbitrary: fc.bigInt({ min: 1n, max: 1200n }) },
  { weight: 1, arbitrary: fc.constantFrom<bigint>(0n, -7n) },
);
const refundId = fc.constantFrom('r1', 'r2', 'r3', 're_psp');
const disputeId = fc.constantFrom('dp_1', 'dp_2');
const reference = fc.constantFrom('pi_1', 'pi_1', 'pi_1', 'pi_2');

type EventSpec = (amount: bigint) => PaymentEvent;

const eventSpec: fc.Arbitrary<EventSpec> = fc.oneof(
  reference.map((ref): EventSpec => () => ({ type: 'ActionRequired', provider: 'stripe', reference: ref })),
  fc
    .tuple(amountSpec, reference)
    .map(([a, ref]): EventSpec => (amount) => ({ type: 'Authorized', amount: resolve(a, amount), provider: 'stripe', reference: ref })),
  amountSpec.map((a): EventSpec => (amount) => ({ type: 'Captured', amount: resolve(a, amount) })),
  fc.constantFrom('card_declined', 'expired_card').map((code): EventSpec => () => ({ type: 'Failed', code })),
  fc.constantFrom(...CANCELLATION_REASONS).map((reason): EventSpec => () => ({ type: 'Canceled', reason })),
  fc
    .tuple(refundId, amountSpec)
    .map(([id, a]): EventSpec => (amount) => ({ type: 'RefundRequested', refundId: id, amount: resolve(a, amount), reason: 'requested_by_customer' })),
  fc.tuple(refundId, amountSpec).map(([id, a]): EventSpec => (amount) => ({ type: 'Refunded', refundId: id, amount: resolve(a, amount) })),
  refundId.map((id): EventSpec => () => ({ type: 'RefundFailed', refundId: id, reason: 'expired_or_canceled_card' })),
  fc
    .tuple(disputeId, amountSpec)
    .map(([id, a]): EventSpec => (amount) => ({ type: 'DisputeOpened', disputeId: id, amount: resolve(a, amount), reason: 'fraudulent' })),
  disputeId.map((id): EventSpec => () => ({ type: 'DisputeWon', disputeId: id })),
  disputeId.map((id): EventSpec => () => ({ type: 'DisputeLost', disputeId: id })),
  fc.constant<EventSpec>((amount) => initiated({ amount })),
);

/**
 * Random steps from a random starting point: failures and cancellations absorb most random walks
 * early, so two thirds of the runs start authorised or captured to exercise refunds and disputes.
 */
const scenario = fc.record({
  amount: fc.bigInt({ min: 1n, max: 1000n }),
  start: fc.constantFrom('initiated', 'authorized', 'captured'),
  steps: fc.array(eventSpec, { maxLength: 40 }),
});

function startOf(start: string, amount: bigint): PaymentEvent[] {
  const events: PaymentEvent[] = [initiated({ amount })];
  if (start !== 'initiated') events.push({ type: 'Authorized', amount, provider: 'stripe', reference: 'pi_1' });
  if (start === 'captured') events.push({ type: 'Captured', amount });
  return events;
}

function checkInvariants(state: PaymentState): void {
  const out = state.refundedAmount + pendingRefundAmount(state) + withheldByDispute(state);
  expect(state.refundedAmount).toBeGreaterThanOrEqual(0n);
  expect(out).toBeLessThanOrEqual(state.capturedAmount);
  expect(state.capturedAmount).toBeLessThanOrEqual(state.authorizedAmount);
  expect(state.authorizedAmount).toBeLessThanOrEqual(state.amount);
  if (state.status === 'refunded') expect(state.refundedAmount).toBe(state.capturedAmount);
  if (state.status === 'partially_refunded') expect(state.refundedAmount).toBeLessThan(state.capturedAmount);
}

describe('payment state machine properties', () => {
  it('changes state only by allowed transitions, keeps every amount invariant, and refuses with PaymentTransitionError only', () => {
    fc.assert(
      fc.property(scenario, ({ amount, start, steps }) => {
        let payment = Payment.rehydrate(startOf(start, amount));
        for (const step of steps) {
          const event = step(amount);
          let next: Payment;
          try {
            next = payment.apply(event);
          } catch (error) {
            expect(error).toBeInstanceOf(PaymentTransitionError);
            expect((error as PaymentTransitionError).status).toBe(payment.status);
            continue;
          }
          expect(event.type).not.toBe('PaymentInitiated');
          expect(ACCEPTED_IN[event.type]).toContain(payment.status);
          expect(isAllowedStatusChange(payment.status, next.status)).toBe(true);
          expect(next.version).toBe(payment.version + 1);
          checkInvariants(next.state);
          payment = next;
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('rehydrate(events) equals the fold of apply over the accepted events', () => {
    fc.assert(
      fc.property(scenario, ({ amount, start, steps }) => {
        const accepted: PaymentEvent[] = startOf(start, amount);
        let state: PaymentState = accepted.reduce<PaymentState | undefined>(applyPaymentEvent, undefined) as PaymentState;
        for (const step of steps) {
          const event = step(amount);
          try {
            state = applyPaymentEvent(state, event);
            accepted.push(event);
          } catch (error) {
            if (!(error instanceof PaymentTransitionError)) throw error;
          }
        }
        expect(Payment.rehydrate(accepted).state).toEqual(state);
        expect(state.version).toBe(accepted.length);
      }),
      { numRuns: 1_000 },
    );
  });

  it('never refunds more than was captured, whatever refunds are asked for and settled', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 1000n }),
        fc.array(
          fc.record({
            id: refundId,
            amount: fc.bigInt({ min: 1n, max: 600n }),
            status: fc.constantFrom<'pending' | 'succeeded' | 'failed' | 'canceled'>('pending', 'succeeded', 'failed', 'canceled'),
          }),
          { maxLength: 30 },
        ),
        (amount, observations) => {
          let payment = Payment.rehydrate([
            initiated({ amount }),
            { type: 'Authorized', amount, provider: 'stripe', reference: 'pi_1' },
            { type: 'Captured', amount },
          ]);
          for (const observation of observations) {
            const plan = planRefundObservation(payment.state, { refundId: observation.id, amount: observation.amount, status: observation.status });
            if (plan.outcome === 'advance') payment = payment.applyAll(plan.events);
            expect(payment.state.refundedAmount).toBeLessThanOrEqual(amount);
            checkInvariants(payment.state);
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('ignores no event type: every one is accepted in some status (no dead rows in the table)', () => {
    for (const type of PAYMENT_EVENT_TYPES) if (type !== 'PaymentInitiated') expect(ACCEPTED_IN[type].length).toBeGreaterThan(0);
  });
});

/**
 * Provider histories Stripe can produce for one PaymentIntent, in the order it produces them.
 * Webhooks deliver them in any order, some twice; the payment must end where the last one says.
 */
const PROVIDER_PATHS: Record<string, (amount: bigint) => PspObservation[]> = {
  automaticCapture: (amount) => [
    { stage: 'pending', reference: 'pi_1' },
    { stage: 'captured', reference: 'pi_1', amount },
  ],
  asyncMethod: (amount) => [
    { stage: 'pending', reference: 'pi_1' },
    { stage: 'pending', reference: 'pi_1' },
    { stage: 'captured', reference: 'pi_1', amount },
  ],
  threeDSecureThenCapture: (amount) => [
    { stage: 'requires_action', reference: 'pi_1' },
    { stage: 'authorized', reference: 'pi_1', amount },
    { stage: 'captured', reference: 'pi_1', amount: amount / 2n + 1n },
  ],
  threeDSecureFailed: () => [
    { stage: 'requires_action', reference: 'pi_1' },
    { stage: 'failed', reference: 'pi_1', code: 'payment_intent_authentication_failure' },
  ],
  declined: () => [{ stage: 'failed', reference: 'pi_1', code: 'card_declined', declineCode: 'insufficient_funds' }],
  authorizedThenReleased: (amount) => [
    { stage: 'authorized', reference: 'pi_1', amount },
    { stage: 'canceled', reference: 'pi_1', reason: 'authorization_expired' },
  ],
  bankDebitSettled: (amount) => [
    { stage: 'processing', reference: 'pi_1', amount },
    { stage: 'captured', reference: 'pi_1', amount },
  ],
  bankDebitFailedLate: (amount) => [
    { stage: 'processing', reference: 'pi_1', amount },
    { stage: 'failed', reference: 'pi_1', code: 'insufficient_funds' },
  ],
  canceledBeforeConfirmation: () => [
    { stage: 'pending', reference: 'pi_1' },
    { stage: 'canceled', reference: 'pi_1', reason: 'requested' },
  ],
};

describe('provider observations: never go backwards', () => {
  const path = fc.constantFrom(...Object.keys(PROVIDER_PATHS));

  it('ends where the provider ended, whatever the delivery order and duplicates, without conflicts', () => {
    fc.assert(
      fc.property(path, fc.bigInt({ min: 2n, max: 1000n }), fc.array(fc.nat(), { minLength: 1, maxLength: 12 }), (name, amount, picks) => {
        const history = PROVIDER_PATHS[name](amount);
        // Every observation at least once, then random repeats, in a random order.
        const deliveries = [...history, ...picks.map((pick) => history[pick % history.length])];
        const shuffled = deliveries.map((observation, i) => ({ observation, key: picks[i % picks.length] * 31 + i })).sort((a, b) => a.key - b.key);

        const inOrder = history.reduce(
          (payment, observation) => {
            const plan = planPaymentObservation(payment.state, 'stripe', observation);
            return plan.outcome === 'advance' ? payment.applyAll(plan.events) : payment;
          },
          Payment.start(initiated({ amount })),
        );

        let payment = Payment.start(initiated({ amount }));
        for (const { observation } of shuffled) {
          const plan = planPaymentObservation(payment.state, 'stripe', observation);
          expect(plan.outcome).not.toBe('conflict');
          const before = payment.status;
          if (plan.outcome === 'advance') payment = payment.applyAll(plan.events);
          // Progress never decreases while money is in play.
          if (payment.status !== 'failed' && payment.status !== 'canceled')
            expect(PROGRESS_STAGE[payment.status]).toBeGreaterThanOrEqual(PROGRESS_STAGE[before]);
        }
        expect(payment.status).toBe(inOrder.status);
        expect(payment.state.capturedAmount).toBe(inOrder.state.capturedAmount);
      }),
      { numRuns: 1_000 },
    );
  });

  it('is idempotent: the same observation twice changes nothing the second time', () => {
    fc.assert(
      fc.property(path, fc.bigInt({ min: 2n, max: 1000n }), (name, amount) => {
        let payment = Payment.start(initiated({ amount }));
        for (const observation of PROVIDER_PATHS[name](amount)) {
          const first = planPaymentObservation(payment.state, 'stripe', observation);
          if (first.outcome === 'advance') payment = payment.applyAll(first.events);
          expect(planPaymentObservation(payment.state, 'stripe', observation).outcome).toBe('unchanged');
        }
      }),
    );
  });
});
