import { observeStripeDispute, observeStripePaymentIntent, observeStripeRefund } from './stripe-status';

const intent = (status: string, extra: Partial<Parameters<typeof observeStripePaymentIntent>[0]> = {}) =>
  observeStripePaymentIntent({ id: 'pi_1', status, amountCapturable: 0n, amountReceived: 0n, ...extra });

describe('Stripe statuses in our words', () => {
  it.each([
    ['requires_payment_method', { stage: 'pending' }],
    ['requires_confirmation', { stage: 'pending' }],
    ['processing', { stage: 'pending' }],
    ['requires_action', { stage: 'requires_action' }],
  ])('PaymentIntent %s -> %j', (status, expected) => {
    expect(intent(status)).toEqual({ reference: 'pi_1', ...expected });
  });

  it('reads processing as a bank debit on its way when the PaymentIntent takes SEPA or ACH debits, as pending for a card', () => {
    expect(intent('processing', { amount: 900n, paymentMethodTypes: ['sepa_debit'] })).toEqual({ stage: 'processing', reference: 'pi_1', amount: 900n });
    expect(intent('processing', { amount: 900n, paymentMethodTypes: ['us_bank_account'] })).toEqual({ stage: 'processing', reference: 'pi_1', amount: 900n });
    expect(intent('processing', { amount: 900n, paymentMethodTypes: ['card'] })).toEqual({ stage: 'pending', reference: 'pi_1' });
  });

  it('marks the failure of a bank debit, which may be its return after it succeeded', () => {
    expect(intent('requires_payment_method', { lastPaymentError: { code: 'insufficient_funds' }, paymentMethodTypes: ['sepa_debit'] })).toEqual({
      stage: 'failed',
      reference: 'pi_1',
      code: 'insufficient_funds',
      bankDebit: true,
    });
    expect(intent('requires_payment_method', { lastPaymentError: { code: 'card_declined' }, paymentMethodTypes: ['card'] })).toEqual({
      stage: 'failed',
      reference: 'pi_1',
      code: 'card_declined',
    });
  });

  it('reads amounts from the field that matters for the status', () => {
    expect(intent('requires_capture', { amountCapturable: 700n })).toEqual({ stage: 'authorized', reference: 'pi_1', amount: 700n });
    expect(intent('succeeded', { amountReceived: 650n })).toEqual({ stage: 'captured', reference: 'pi_1', amount: 650n });
  });

  it('reads a failed attempt off requires_payment_method with last_payment_error, and drops codes that are not codes', () => {
    expect(intent('requires_payment_method', { lastPaymentError: { code: 'card_declined', declineCode: 'lost_card' } })).toEqual({
      stage: 'failed',
      reference: 'pi_1',
      code: 'card_declined',
      declineCode: 'lost_card',
    });
    expect(intent('requires_payment_method', { lastPaymentError: { code: 'Call 555-0100 now' } })).toEqual({
      stage: 'failed',
      reference: 'pi_1',
      code: 'payment_failed',
    });
  });

  it('reports a status it does not know as unrecognized, for the domain to leave alone', () => {
    expect(intent('requires_teleportation')).toEqual({ stage: 'unrecognized', reference: 'pi_1', providerStatus: 'requires_teleportation' });
  });

  it('maps cancellation reasons, an expired authorisation included', () => {
    expect(intent('canceled', { cancellationReason: 'automatic' })).toMatchObject({ stage: 'canceled', reason: 'authorization_expired' });
    expect(intent('canceled', { cancellationReason: 'requested_by_customer' })).toMatchObject({ reason: 'requested' });
    expect(intent('canceled', { cancellationReason: null })).toMatchObject({ reason: 'psp' });
  });

  it('maps refunds and disputes', () => {
    expect(observeStripeRefund({ refundId: 'r1', status: 'requires_action', amount: 5n })).toEqual({ refundId: 'r1', amount: 5n, status: 'pending' });
    expect(observeStripeRefund({ refundId: 'r1', status: 'failed', amount: 5n, failureReason: 'expired_or_canceled_card' })).toMatchObject({
      status: 'failed',
      reason: 'expired_or_canceled_card',
    });
    expect(observeStripeDispute({ id: 'dp_1', status: 'needs_response', amount: 5n, reason: 'fraudulent' }).status).toBe('open');
    expect(observeStripeDispute({ id: 'dp_1', status: 'warning_closed', amount: 5n, reason: 'fraudulent' }).status).toBe('won');
    expect(observeStripeDispute({ id: 'dp_1', status: 'lost', amount: 5n, reason: 'fraudulent' }).status).toBe('lost');
  });
});
