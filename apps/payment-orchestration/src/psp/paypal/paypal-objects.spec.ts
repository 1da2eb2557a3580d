import { webhookSubjectOf } from './paypal-objects';

describe("PayPal's webhook resources read into our words", () => {
  const resource = {
    dispute_id: 'PP-D-4711',
    status: 'RESOLVED',
    reason: 'MERCHANDISE_OR_SERVICE_NOT_RECEIVED',
    dispute_amount: { currency_code: 'USD', value: '20.00' },
    dispute_outcome: { outcome_code: 'RESOLVED_BUYER_FAVOUR' },
    disputed_transactions: [{ seller_transaction_id: '9AB12345CD678901E', custom: 'pay_123' }],
  };

  it('a dispute names our payment by the disputed transaction’s custom id, with its amount in minor units', () => {
    expect(webhookSubjectOf('dispute', resource)).toEqual({
      kind: 'dispute',
      paymentId: 'pay_123',
      observation: { disputeId: 'PP-D-4711', amount: 2000n, status: 'lost', reason: 'merchandise_or_service_not_received' },
    });
  });

  it('a dispute without an id or amount is nothing we can apply', () => {
    const { dispute_amount: _amount, ...noAmount } = resource;
    expect(webhookSubjectOf('dispute', noAmount)).toEqual({ kind: 'other', objectType: 'dispute' });
  });
});
