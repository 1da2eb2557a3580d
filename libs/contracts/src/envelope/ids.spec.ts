import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { IsOptional, validateSync } from 'class-validator';
import { PaymentCapturedData } from '../payments/payment-events';
import { PurchaseRequested } from '../payments/purchase-requested';
import { SupportRefundRequested } from '../support/support-events';
import { ReserveFundsData } from '../wallet-funds/wallet-funds';
import { flattenValidationErrors } from './event-registry';
import { IsOpaqueId } from './ids';
import { IsMoney, Money } from './money';

class Sample {
  @IsOpaqueId()
  payerId!: string;

  @IsOptional()
  @IsMoney()
  amount?: Money;
}

const problems = <T extends object>(type: new () => T, plain: Record<string, unknown>): string[] =>
  flattenValidationErrors(validateSync(plainToInstance(type, plain) as object, { whitelist: true }));

describe('ids and money: one rule each, wherever a contract carries them', () => {
  it('takes an opaque id of 1 to 100 letters, digits, "_", "-", ":" and "." and names the property it refuses', () => {
    expect(problems(Sample, { payerId: 'person:p-1_2.x' })).toEqual([]);
    expect(problems(Sample, { payerId: 'p'.repeat(100) })).toEqual([]);
    for (const refused of ['p'.repeat(101), 'with space', 'a/b', ''])
      expect(problems(Sample, { payerId: refused })).toEqual(['payerId: payerId must be 1 to 100 of letters, digits, "_", "-", ":" and "."']);
  });

  it('builds Money and validates it whole', () => {
    expect(plainToInstance<Sample, object>(Sample, { payerId: 'p-1', amount: { amount: '1250', currency: 'EUR' } }).amount).toBeInstanceOf(Money);
    expect(problems(Sample, { payerId: 'p-1', amount: { amount: '12.50', currency: 'eur' } })).toEqual([
      'amount.amount: amount must be a whole number of minor units written as a string, e.g. "1250"',
      'amount.currency: currency must be an ISO-4217 code such as EUR or USD',
    ]);
  });

  it.each([
    { type: PurchaseRequested, field: 'payerId' },
    { type: PaymentCapturedData, field: 'reference' },
    { type: ReserveFundsData, field: 'senderId' },
    { type: SupportRefundRequested, field: 'agentId' },
  ])('$type.name refuses a bad $field with the same words', ({ type, field }) => {
    const reasons = problems(type as new () => object, { [field]: 'not an id!' });
    expect(reasons).toContain(`${field}: ${field} must be 1 to 100 of letters, digits, "_", "-", ":" and "."`);
  });
});
