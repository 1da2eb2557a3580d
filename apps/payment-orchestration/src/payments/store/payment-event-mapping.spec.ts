import { createEvent, parseEvent } from '@pay/contracts';
import type { PaymentEvent, PaymentState } from '@pay/payments-domain';
import { applyPaymentEvent, PAYMENT_EVENT_TYPES } from '@pay/payments-domain';
import { CorruptPaymentEventError, decodePaymentEvent, encodePaymentEvent } from './payment-event-codec';
import { toPublishedEvent } from './payment-event-contracts';

/** Two histories that between them use every event type. */
const HISTORIES: PaymentEvent[][] = [
  [
    {
      type: 'PaymentInitiated',
      paymentId: 'pay-1',
      requestId: '5d0c3c1e-8a47-4f55-b2d4-7f8a9e0c1b23',
      kind: 'donation',
      payerId: 'person-42',
      counterparty: { type: 'non-profit', id: 'np-3' },
      app: 'facebook',
      country: 'FR',
      amount: 5000n,
      currency: 'EUR',
      captureMethod: 'manual',
      paymentMethodId: 'pm-7',
      merchantCategory: '8398',
    },
    { type: 'ActionRequired', provider: 'stripe', reference: 'pi_1' },
    { type: 'Authorized', amount: 5000n, provider: 'stripe', reference: 'pi_1' },
    { type: 'Captured', amount: 5000n },
    { type: 'RefundRequested', refundId: 'r1', amount: 1000n, reason: 'requested_by_customer' },
    { type: 'RefundFailed', refundId: 'r1', reason: 'expired_or_canceled_card' },
    { type: 'Refunded', refundId: 're_dash', amount: 1000n },
    { type: 'DisputeOpened', disputeId: 'dp_1', amount: 2000n, reason: 'fraudulent' },
    { type: 'DisputeWon', disputeId: 'dp_1' },
  ],
  [
    {
      type: 'PaymentInitiated',
      paymentId: 'pay-2',
      requestId: '6d0c3c1e-8a47-4f55-b2d4-7f8a9e0c1b23',
      kind: 'transfer',
      payerId: 'person-42',
      counterparty: { type: 'person', id: 'person-43' },
      app: 'whatsapp',
      country: 'DE',
      amount: 700n,
      currency: 'EUR',
      captureMethod: 'automatic',
    },
    { type: 'Failed', code: 'card_declined', declineCode: 'insufficient_funds' },
  ],
  [
    {
      type: 'PaymentInitiated',
      paymentId: 'pay-3',
      requestId: '7d0c3c1e-8a47-4f55-b2d4-7f8a9e0c1b23',
      kind: 'purchase',
      payerId: 'person-42',
      counterparty: { type: 'merchant', id: 'm-1' },
      app: 'messenger',
      country: 'IT',
      amount: 300n,
      currency: 'EUR',
      captureMethod: 'manual',
    },
    { type: 'Canceled', reason: 'requested' },
  ],
  [
    {
      type: 'PaymentInitiated',
      paymentId: 'pay-4',
      requestId: '8d0c3c1e-8a47-4f55-b2d4-7f8a9e0c1b23',
      kind: 'purchase',
      payerId: 'person-42',
      counterparty: { type: 'merchant', id: 'm-1' },
      app: 'instagram',
      country: 'IT',
      amount: 300n,
      currency: 'USD',
      captureMethod: 'automatic',
    },
    { type: 'Authorized', amount: 300n, provider: 'stripe', reference: 'pi_4' },
    { type: 'Captured', amount: 300n },
    { type: 'DisputeOpened', disputeId: 'dp_4', amount: 300n, reason: 'product_not_received' },
    { type: 'DisputeLost', disputeId: 'dp_4' },
  ],
  [
    {
      type: 'PaymentInitiated',
      paymentId: 'pay-5',
      requestId: '0b7c2f1e-5a47-4f55-b2d4-7f8a9e0c1b24',
      kind: 'purchase',
      payerId: 'person-42',
      counterparty: { type: 'merchant', id: 'm-1' },
      app: 'instagram',
      country: 'DE',
      amount: 4200n,
      currency: 'EUR',
      captureMethod: 'automatic',
    },
    { type: 'DebitSubmitted', amount: 4200n, provider: 'stripe', reference: 'pi_5' },
    { type: 'Failed', code: 'insufficient_funds' },
  ],
];

describe('payment events: store codec and published contracts', () => {
  it('carries the merchant category of the request on payment.initiated (ad signals group by it)', () => {
    const initiated = HISTORIES[0][0];
    const published = toPublishedEvent(initiated, applyPaymentEvent(undefined, initiated));
    expect(published.data).toMatchObject({ merchantCategory: '8398' });
  });

  it('covers every event type', () => {
    expect(new Set(HISTORIES.flat().map((e) => e.type))).toEqual(new Set(PAYMENT_EVENT_TYPES));
  });

  it('publishes every event as an envelope consumers accept', () => {
    for (const history of HISTORIES) {
      let state: PaymentState | undefined;
      for (const [index, event] of history.entries()) {
        state = applyPaymentEvent(state, event);
        const published = toPublishedEvent(event, state);
        const envelope = createEvent({
          definition: published.definition,
          source: 'payment-orchestration',
          subject: state.paymentId,
          sequence: index + 1,
          data: published.data,
        });
        expect(parseEvent(JSON.parse(JSON.stringify(envelope)))).toMatchObject({ type: published.definition.type, subject: state.paymentId });
      }
    }
  });

  it('says who pays whom on the events that move money, and whether a refund completes the payment', () => {
    const [donation] = HISTORIES;
    let state: PaymentState | undefined;
    const published = donation.map((event) => {
      state = applyPaymentEvent(state, event);
      return toPublishedEvent(event, state);
    });
    expect(published[3].data).toMatchObject({
      kind: 'donation',
      counterparty: { type: 'non-profit', id: 'np-3' },
      amount: { amount: '5000', currency: 'EUR' },
    });
    expect(published[6].data).toMatchObject({ refundId: 're_dash', refundedTotal: { amount: '1000' }, full: false });
    expect(published[8].data).toMatchObject({ disputeId: 'dp_1', amount: { amount: '2000' } });
  });

  it('keeps every event exactly through the store codec (amounts as decimal strings)', () => {
    for (const event of HISTORIES.flat()) {
      const stored = encodePaymentEvent(event);
      const json = JSON.parse(JSON.stringify(stored.data)) as unknown;
      expect(decodePaymentEvent('pay-x', 1, stored.type, json)).toEqual(event);
    }
    expect(encodePaymentEvent({ type: 'Captured', amount: 12n }).data).toEqual({ amount: '12' });
  });

  it('refuses rows it cannot read instead of guessing', () => {
    expect(() => decodePaymentEvent('pay-x', 3, 'Teleported', {})).toThrow(CorruptPaymentEventError);
    expect(() => decodePaymentEvent('pay-x', 3, 'Captured', { amount: 12.5 })).toThrow('payment pay-x event 3 cannot be read: amount is not a whole number');
  });
});
