import fc from 'fast-check';
import { assertFeeRule, describeFeeRule, NO_FEE, paymentFee } from './payment-fee';

describe('paymentFee', () => {
  const rule = { basisPoints: 150, fixedMinor: 25n };

  it('takes basis points of the amount plus the fixed part, in minor units', () => {
    expect(paymentFee(10_000n, rule)).toBe(175n); // 1.5 % of 100.00 = 1.50, + 0.25
    expect(paymentFee(123_456n, { basisPoints: 290, fixedMinor: 30n })).toBe(3_610n); // 3580.224 -> 3580, + 30
  });

  it('rounds the percentage half up to the nearest minor unit', () => {
    expect(paymentFee(100n, { basisPoints: 50, fixedMinor: 0n })).toBe(1n); // 0.5 -> 1
    expect(paymentFee(99n, { basisPoints: 50, fixedMinor: 0n })).toBe(0n); // 0.495 -> 0
    expect(paymentFee(300n, { basisPoints: 150, fixedMinor: 0n })).toBe(5n); // 4.5 -> 5
  });

  it('never exceeds the amount', () => {
    expect(paymentFee(10n, rule)).toBe(10n);
    expect(paymentFee(0n, rule)).toBe(0n);
    expect(paymentFee(1n, { basisPoints: 10_000, fixedMinor: 1_000_000n })).toBe(1n);
  });

  it('charges nothing without a rule, and everything at 100 %', () => {
    expect(paymentFee(987_654_321n, NO_FEE)).toBe(0n);
    expect(paymentFee(987_654_321n, { basisPoints: 10_000, fixedMinor: 0n })).toBe(987_654_321n);
  });

  it('is exact for amounts far beyond 2^53 (bigint, no floating point)', () => {
    const amount = 999_999_999_999_999_999n;
    expect(paymentFee(amount, { basisPoints: 1, fixedMinor: 0n })).toBe(100_000_000_000_000n);
  });

  it('stays between the fixed part (capped) and amount, and grows with the amount', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 18n }),
        fc.bigInt({ min: 0n, max: 10n ** 6n }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        (amount, extra, basisPoints, fixed) => {
          const feeRule = { basisPoints, fixedMinor: BigInt(fixed) };
          const fee = paymentFee(amount, feeRule);
          expect(fee).toBeGreaterThanOrEqual(0n);
          expect(fee).toBeLessThanOrEqual(amount);
          expect(fee).toBeGreaterThanOrEqual(feeRule.fixedMinor < amount ? feeRule.fixedMinor : amount);
          expect(paymentFee(amount + extra, feeRule)).toBeGreaterThanOrEqual(fee);
          // Within half a minor unit of the exact percentage (before the cap).
          const exactTimes2 = (2n * amount * BigInt(basisPoints)) / 10_000n;
          if (fee < amount) expect((2n * (fee - feeRule.fixedMinor) - exactTimes2) ** 2n).toBeLessThanOrEqual(4n);
        },
      ),
    );
  });

  it('refuses rules out of range and negative amounts', () => {
    expect(() => assertFeeRule({ basisPoints: 10_001, fixedMinor: 0n })).toThrow(/basisPoints must be a whole number from 0 to 10000/);
    expect(() => assertFeeRule({ basisPoints: 1.5, fixedMinor: 0n })).toThrow(/basisPoints/);
    expect(() => assertFeeRule({ basisPoints: 0, fixedMinor: -1n })).toThrow(/fixedMinor must be 0 or more/);
    expect(() => paymentFee(-1n, rule)).toThrow(/amount must not be negative/);
  });

  it('describes a rule for the journal', () => {
    expect(describeFeeRule(rule)).toBe('150bp+25');
  });
});
