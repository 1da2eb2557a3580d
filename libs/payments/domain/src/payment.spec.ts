import { capturedHistory, initiated, PI } from './__fixtures__/payment-fixtures';
import { Payment } from './payment';
import { isPaymentDomainError, PaymentTransitionError } from './payment-errors';
import type { PaymentEvent } from './payment-events';
import { refundableAmount } from './payment-state';

function refusal(work: () => unknown): PaymentTransitionError {
  try {
    work();
  } catch (error) {
    if (error instanceof PaymentTransitionError) return error;
    throw error;
  }
  throw new Error('expected a PaymentTransitionError, nothing was thrown');
}

const captured = (amount = 1000n) => Payment.rehydrate(capturedHistory(amount));

describe('Payment: the state machine', () => {
  it('starts initiated with the request as given', () => {
    const payment = Payment.start(initiated());
    expect(payment.status).toBe('initiated');
    expect(payment.version).toBe(1);
    expect(payment.state).toMatchObject({ amount: 1000n, currency: 'EUR', kind: 'purchase', captureMethod: 'manual', refundedAmount: 0n });
  });

  it('walks initiated -> requires_action -> authorized -> captured', () => {
    const payment = Payment.start(initiated())
      .apply({ type: 'ActionRequired', provider: 'stripe', reference: PI })
      .apply({ type: 'Authorized', amount: 1000n, provider: 'stripe', reference: PI })
      .apply({ type: 'Captured', amount: 1000n });
    expect(payment.status).toBe('captured');
    expect(payment.version).toBe(4);
    expect(payment.state).toMatchObject({ authorizedAmount: 1000n, capturedAmount: 1000n, provider: 'stripe', reference: PI });
  });

  it('captures less than authorised (the rest is released), never more', () => {
    const authorized = Payment.rehydrate(capturedHistory().slice(0, 2));
    expect(authorized.apply({ type: 'Captured', amount: 600n }).state.capturedAmount).toBe(600n);
    const error = refusal(() => authorized.apply({ type: 'Captured', amount: 1001n }));
    expect(error).toMatchObject({ code: 'CAPTURE_EXCEEDS_AUTHORIZED', status: 'authorized', eventType: 'Captured' });
  });

  it('refuses an event that does not fit the status, naming both', () => {
    const error = refusal(() => Payment.start(initiated()).apply({ type: 'Captured', amount: 1000n }));
    expect(error.code).toBe('TRANSITION_NOT_ALLOWED');
    expect(error.status).toBe('initiated');
    expect(error.eventType).toBe('Captured');
    expect(error.message).toBe('payment in status initiated refuses Captured: Captured is accepted only in status authorized, processing');
  });

  it('leaves the payment as it was when an event is refused (immutability)', () => {
    const payment = Payment.start(initiated());
    expect(() => payment.apply({ type: 'Captured', amount: 1000n })).toThrow(PaymentTransitionError);
    expect(payment.status).toBe('initiated');
    expect(payment.version).toBe(1);
  });

  it('refuses an authorisation of another amount or of another provider object', () => {
    expect(refusal(() => Payment.start(initiated()).apply({ type: 'Authorized', amount: 999n, provider: 'stripe', reference: PI })).code).toBe(
      'AMOUNT_MISMATCH',
    );
    const waiting = Payment.start(initiated()).apply({ type: 'ActionRequired', provider: 'stripe', reference: PI });
    expect(refusal(() => waiting.apply({ type: 'Authorized', amount: 1000n, provider: 'stripe', reference: 'pi_other' })).code).toBe('REFERENCE_MISMATCH');
  });

  it('fails or cancels only before money moved', () => {
    expect(Payment.start(initiated()).apply({ type: 'Failed', code: 'card_declined', declineCode: 'insufficient_funds' }).state).toMatchObject({
      status: 'failed',
      failure: { code: 'card_declined', declineCode: 'insufficient_funds' },
    });
    const authorized = Payment.rehydrate(capturedHistory().slice(0, 2));
    expect(authorized.apply({ type: 'Canceled', reason: 'authorization_expired' }).status).toBe('canceled');
    expect(refusal(() => authorized.apply({ type: 'Failed', code: 'card_declined' })).code).toBe('TRANSITION_NOT_ALLOWED');
    expect(refusal(() => captured().apply({ type: 'Canceled', reason: 'requested' })).code).toBe('TRANSITION_NOT_ALLOWED');
  });

  it('walks a bank debit initiated -> processing -> captured (settled, whole) or -> failed (late)', () => {
    const submitted = Payment.start(initiated({ captureMethod: 'automatic' })).apply({
      type: 'DebitSubmitted',
      amount: 1000n,
      provider: 'stripe',
      reference: PI,
    });
    expect(submitted.state).toMatchObject({ status: 'processing', authorizedAmount: 1000n, capturedAmount: 0n, provider: 'stripe', reference: PI });
    expect(submitted.apply({ type: 'Captured', amount: 1000n }).state).toMatchObject({ status: 'captured', capturedAmount: 1000n });
    expect(refusal(() => submitted.apply({ type: 'Captured', amount: 600n })).code).toBe('AMOUNT_MISMATCH');
    expect(submitted.apply({ type: 'Failed', code: 'insufficient_funds' }).state).toMatchObject({ status: 'failed', failure: { code: 'insufficient_funds' } });
    // Once sent, a debit is neither canceled nor refunded before it settles, and is for the payment's amount.
    expect(refusal(() => submitted.apply({ type: 'Canceled', reason: 'requested' })).code).toBe('TRANSITION_NOT_ALLOWED');
    expect(refusal(() => submitted.apply({ type: 'RefundRequested', refundId: 'r1', amount: 100n, reason: 'requested_by_customer' })).code).toBe(
      'TRANSITION_NOT_ALLOWED',
    );
    expect(refusal(() => Payment.start(initiated()).apply({ type: 'DebitSubmitted', amount: 999n, provider: 'stripe', reference: PI })).code).toBe(
      'AMOUNT_MISMATCH',
    );
    expect(refusal(() => captured().apply({ type: 'DebitSubmitted', amount: 1000n, provider: 'stripe', reference: PI })).code).toBe('TRANSITION_NOT_ALLOWED');
  });

  it('never moves after failing or being canceled', () => {
    const failed = Payment.start(initiated()).apply({ type: 'Failed', code: 'card_declined' });
    for (const event of capturedHistory().slice(1)) expect(failed.accepts(event)).toBe(false);
    expect(failed.accepts({ type: 'Canceled', reason: 'requested' })).toBe(false);
  });

  it('refuses malformed events as INVALID_INPUT: no floats, no negative or zero amounts, no free-text codes', () => {
    const payment = Payment.start(initiated());
    const bad: unknown[] = [
      { type: 'Authorized', amount: 1000, provider: 'stripe', reference: PI },
      { type: 'Authorized', amount: -1000n, provider: 'stripe', reference: PI },
      { type: 'Failed', code: 'Your card was declined.' },
      { type: 'Teleported' },
    ];
    for (const event of bad) expect(refusal(() => payment.apply(event as PaymentEvent)).code).toBe('INVALID_INPUT');
    expect(refusal(() => Payment.start(initiated({ amount: 0n }))).code).toBe('INVALID_INPUT');
    expect(refusal(() => Payment.start(initiated({ currency: 'eur' }))).message).toMatch(/currency must be an ISO-4217 code/);
  });

  it('starts only with PaymentInitiated, and only once', () => {
    expect(refusal(() => Payment.rehydrate([])).code).toBe('NOT_INITIATED');
    expect(refusal(() => Payment.rehydrate([{ type: 'Captured', amount: 1n }])).code).toBe('NOT_INITIATED');
    expect(refusal(() => Payment.start(initiated()).apply(initiated())).code).toBe('ALREADY_INITIATED');
  });
});

describe('Payment: refunds', () => {
  it('refunds partially several times, then fully, up to the captured amount', () => {
    let payment = captured();
    payment = payment.apply(payment.requestRefund({ refundId: 'r1', amount: 300n }));
    expect(payment.status).toBe('captured');
    expect(payment.refundableAmount()).toBe(700n);
    payment = payment.apply({ type: 'Refunded', refundId: 'r1', amount: 300n });
    expect(payment.status).toBe('partially_refunded');
    payment = payment.apply(payment.requestRefund({ refundId: 'r2', amount: 200n }));
    payment = payment.apply({ type: 'Refunded', refundId: 'r2', amount: 200n });
    expect(payment.status).toBe('partially_refunded');
    const rest = payment.requestRefund({ refundId: 'r3' });
    expect(rest.amount).toBe(500n);
    payment = payment.apply(rest).apply({ type: 'Refunded', refundId: 'r3', amount: 500n });
    expect(payment.status).toBe('refunded');
    expect(payment.state.refundedAmount).toBe(1000n);
    expect(refusal(() => payment.requestRefund({ refundId: 'r4', amount: 1n })).code).toBe('TRANSITION_NOT_ALLOWED');
  });

  it('counts pending refunds against what is left: two refunds can never exceed the capture', () => {
    const payment = captured().apply({ type: 'RefundRequested', refundId: 'r1', amount: 700n, reason: 'requested_by_customer' });
    const error = refusal(() => payment.requestRefund({ refundId: 'r2', amount: 301n }));
    expect(error.code).toBe('REFUND_EXCEEDS_CAPTURED');
    expect(error.message).toContain('exceeds the refundable 300');
  });

  it('frees the amount of a failed refund', () => {
    const payment = captured()
      .apply({ type: 'RefundRequested', refundId: 'r1', amount: 1000n, reason: 'requested_by_customer' })
      .apply({ type: 'RefundFailed', refundId: 'r1', reason: 'expired_or_canceled_card' });
    expect(payment.status).toBe('captured');
    expect(payment.refundableAmount()).toBe(1000n);
  });

  it('settles a refund once, for the amount requested', () => {
    const requested = captured().apply({ type: 'RefundRequested', refundId: 'r1', amount: 400n, reason: 'duplicate' });
    expect(refusal(() => requested.apply({ type: 'Refunded', refundId: 'r1', amount: 500n })).code).toBe('AMOUNT_MISMATCH');
    const settled = requested.apply({ type: 'Refunded', refundId: 'r1', amount: 400n });
    expect(refusal(() => settled.apply({ type: 'Refunded', refundId: 'r1', amount: 400n })).code).toBe('REFUND_NOT_PENDING');
    expect(refusal(() => settled.apply({ type: 'RefundFailed', refundId: 'r1', reason: 'unknown' })).code).toBe('REFUND_NOT_PENDING');
    expect(refusal(() => settled.apply({ type: 'RefundRequested', refundId: 'r1', amount: 1n, reason: 'duplicate' })).code).toBe('REFUND_ALREADY_KNOWN');
  });

  it('records a refund made at the provider without a request, within what is left', () => {
    const payment = captured().apply({ type: 'Refunded', refundId: 're_dashboard', amount: 250n });
    expect(payment.state.refunds).toEqual([{ refundId: 're_dashboard', amount: 250n, reason: 'psp', status: 'succeeded' }]);
    expect(refusal(() => payment.apply({ type: 'Refunded', refundId: 're_2', amount: 751n })).code).toBe('REFUND_EXCEEDS_CAPTURED');
  });

  it('refunds only what was captured on a partial capture', () => {
    const partial = Payment.rehydrate([...capturedHistory().slice(0, 2), { type: 'Captured', amount: 600n }]);
    expect(partial.refundableAmount()).toBe(600n);
    expect(refusal(() => partial.requestRefund({ refundId: 'r1', amount: 601n })).code).toBe('REFUND_EXCEEDS_CAPTURED');
  });

  it('refuses refunds before capture and says so', () => {
    expect(refusal(() => Payment.start(initiated()).requestRefund({ refundId: 'r1', amount: 1n })).code).toBe('TRANSITION_NOT_ALLOWED');
    expect(refusal(() => Payment.start(initiated()).requestRefund({ refundId: 'r1' })).code).toBe('TRANSITION_NOT_ALLOWED');
  });
});

describe('Payment: disputes', () => {
  const disputed = () => captured().apply({ type: 'DisputeOpened', disputeId: 'dp_1', amount: 1000n, reason: 'fraudulent' });

  it('withholds the disputed amount and refuses refunds meanwhile', () => {
    const payment = disputed();
    expect(payment.status).toBe('disputed');
    expect(refundableAmount(payment.state)).toBe(0n);
    expect(refusal(() => payment.requestRefund({ refundId: 'r1', amount: 1n })).code).toBe('TRANSITION_NOT_ALLOWED');
  });

  it('returns to captured or partially refunded when won', () => {
    expect(disputed().apply({ type: 'DisputeWon', disputeId: 'dp_1' }).status).toBe('captured');
    const partly = captured()
      .apply({ type: 'Refunded', refundId: 'r1', amount: 100n })
      .apply({ type: 'DisputeOpened', disputeId: 'dp_1', amount: 900n, reason: 'product_not_received' })
      .apply({ type: 'DisputeWon', disputeId: 'dp_1' });
    expect(partly.status).toBe('partially_refunded');
    expect(partly.refundableAmount()).toBe(900n);
  });

  it('stays disputed for good when lost, and closes a dispute once', () => {
    const lost = disputed().apply({ type: 'DisputeLost', disputeId: 'dp_1' });
    expect(lost.status).toBe('disputed');
    expect(lost.state.dispute).toMatchObject({ outcome: 'lost' });
    expect(refusal(() => lost.apply({ type: 'DisputeWon', disputeId: 'dp_1' })).code).toBe('DISPUTE_NOT_OPEN');
    expect(refusal(() => disputed().apply({ type: 'DisputeWon', disputeId: 'dp_other' })).code).toBe('DISPUTE_NOT_OPEN');
  });

  it('settles a refund requested before the dispute while disputed, but takes no new one', () => {
    const payment = captured()
      .apply({ type: 'RefundRequested', refundId: 'r1', amount: 200n, reason: 'requested_by_customer' })
      .apply({ type: 'DisputeOpened', disputeId: 'dp_1', amount: 800n, reason: 'fraudulent' })
      .apply({ type: 'Refunded', refundId: 'r1', amount: 200n });
    expect(payment.status).toBe('disputed');
    expect(payment.state.refundedAmount).toBe(200n);
    expect(refusal(() => payment.apply({ type: 'Refunded', refundId: 're_x', amount: 1n })).code).toBe('REFUND_NOT_PENDING');
  });

  it('refuses a dispute larger than what is captured and not refunded', () => {
    const payment = captured().apply({ type: 'Refunded', refundId: 'r1', amount: 400n });
    expect(refusal(() => payment.apply({ type: 'DisputeOpened', disputeId: 'dp_1', amount: 601n, reason: 'fraudulent' })).code).toBe(
      'DISPUTE_EXCEEDS_CAPTURED',
    );
  });

  it('exposes refusals as PaymentDomainError for callers that branch on the code', () => {
    let caught: unknown;
    try {
      disputed().apply({ type: 'DisputeOpened', disputeId: 'dp_2', amount: 1n, reason: 'fraudulent' });
    } catch (error) {
      caught = error;
    }
    expect(isPaymentDomainError(caught, 'TRANSITION_NOT_ALLOWED')).toBe(true);
  });
});
