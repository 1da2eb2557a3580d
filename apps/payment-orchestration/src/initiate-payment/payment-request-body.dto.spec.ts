import { Counterparty, EVENT_EXAMPLES, flattenValidationErrors, Money, PurchaseRequested } from '@pay/contracts';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { PaymentRequestBody } from './payment-request-body.dto';

// The AsyncAPI document's example request, less its requestId (the Idempotency-Key header on this door).
const { requestId: _requestId, ...BODY } = (EVENT_EXAMPLES['payments.purchase.requested'] as { data: Record<string, unknown> }).data;

const read = <T extends object>(type: new () => T, plain: object): { value: T; problems: string[] } => {
  const value = plainToInstance(type, plain);
  return { value, problems: flattenValidationErrors(validateSync(value, { whitelist: true, forbidNonWhitelisted: true })) };
};

describe('POST /v1/payments body: the contract without requestId', () => {
  it('reads and validates as the Kafka door does (the terms, Money, the counterparty)', () => {
    const { value, problems } = read(PaymentRequestBody, BODY);
    expect(problems).toEqual([]);
    expect(value.amount).toBeInstanceOf(Money);
    expect(value.counterparty).toBeInstanceOf(Counterparty);
  });

  it('reads the deprecated personId as payerId, as the contract does', () => {
    const { payerId: _payerId, ...withoutPayerId } = BODY;
    expect(read(PaymentRequestBody, { ...withoutPayerId, personId: 'person-7' }).value.payerId).toBe('person-7');
  });

  it('refuses what the contract refuses, with the same words', () => {
    const bad = { ...BODY, payerId: 'not an id', amount: { amount: '12.50', currency: 'EUR' }, merchantCategory: '58' };
    const contract = read(PurchaseRequested, { ...bad, requestId: '2b1f2c9e-7c55-4a8f-9b1e-2f6c1d0e4a11' }).problems;
    expect(read(PaymentRequestBody, bad).problems).toEqual(contract);
    expect(contract).toHaveLength(3);
    expect(read(PaymentRequestBody, { ...BODY, requestId: '2b1f2c9e-7c55-4a8f-9b1e-2f6c1d0e4a11' }).problems).toEqual([
      'requestId: property requestId should not exist',
    ]);
  });
});
