import { parseStepUpThresholds } from '@pay/auth';
import type { UnconfirmedSpending } from './cumulative-step-up';
import { cumulativeStepUpRefusal } from './cumulative-step-up';

const limits = { maxUnconfirmedPayments: 5, maxUnconfirmedAmounts: parseStepUpThresholds('EUR:10000') };

/** Pays each amount without a proof, in order, as the store would (counting only what it lets through). */
function payAll(amounts: bigint[], currency = 'EUR'): string[] {
  let spent: UnconfirmedSpending = { payments: 0, amount: 0n };
  return amounts.map((amount) => {
    const refusal = cumulativeStepUpRefusal(spent, amount, currency, limits);
    if (refusal) return refusal.code;
    spent = { payments: spent.payments + 1, amount: spent.amount + amount };
    return 'ok';
  });
}

describe('cumulative step-up', () => {
  it('lets at most the configured number of payments through without a proof', () => {
    expect(payAll([100n, 100n, 100n, 100n, 100n, 100n, 100n])).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'STEP_UP_REQUIRED', 'STEP_UP_REQUIRED']);
  });

  it('refuses the payment that would take the sum above the limit, and lets a smaller one that fits through', () => {
    // 4 × 2400 = 9600; a fifth of 2400 would make 12000 > 10000; 400 still fits (10000).
    expect(payAll([2_400n, 2_400n, 2_400n, 2_400n, 2_400n, 400n])).toEqual(['ok', 'ok', 'ok', 'ok', 'STEP_UP_REQUIRED', 'ok']);
    expect(payAll([10_000n, 1n])).toEqual(['ok', 'STEP_UP_REQUIRED']);
  });

  it('limits a currency without a configured sum by the count alone', () => {
    expect(payAll([9_000_000n, 9_000_000n, 9_000_000n, 9_000_000n, 9_000_000n, 1n], 'USD')).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'STEP_UP_REQUIRED']);
  });

  it('says why, in a message without amounts of anyone but the payer', () => {
    expect(cumulativeStepUpRefusal({ payments: 5, amount: 500n }, 100n, 'EUR', limits)?.message).toMatch(/5 payments were made without confirmation/);
    expect(cumulativeStepUpRefusal({ payments: 1, amount: 9_950n }, 100n, 'EUR', limits)?.message).toMatch(/more than 10000 EUR/);
  });
});
