/**
 * The platform's fee on a payment to a business: basis points of the amount plus a fixed part,
 * in the payment's minor units. Integer arithmetic only; the percentage is rounded half up (to
 * the nearest minor unit), and the fee never exceeds the amount (a tiny payment pays at most
 * itself, the business then receives nothing).
 */
export interface FeeRule {
  /** 1 bp = 0.01 %; 0 to 10 000. */
  readonly basisPoints: number;
  /** Minor units of the payment's currency, 0 or more. */
  readonly fixedMinor: bigint;
}

export const NO_FEE: FeeRule = { basisPoints: 0, fixedMinor: 0n };

const BASIS_POINTS_PER_UNIT = 10_000n;

export function assertFeeRule(rule: FeeRule): FeeRule {
  if (!Number.isInteger(rule.basisPoints) || rule.basisPoints < 0 || rule.basisPoints > 10_000) {
    throw new RangeError(`basisPoints must be a whole number from 0 to 10000, got ${rule.basisPoints}`);
  }
  if (typeof rule.fixedMinor !== 'bigint' || rule.fixedMinor < 0n) throw new RangeError(`fixedMinor must be 0 or more minor units, got ${rule.fixedMinor}`);
  return rule;
}

export function paymentFee(amount: bigint, rule: FeeRule): bigint {
  if (amount < 0n) throw new RangeError(`amount must not be negative, got ${amount}`);
  assertFeeRule(rule);
  const proportional = (amount * BigInt(rule.basisPoints) + BASIS_POINTS_PER_UNIT / 2n) / BASIS_POINTS_PER_UNIT;
  const fee = proportional + rule.fixedMinor;
  return fee > amount ? amount : fee;
}

/** How a rule is written in a journal entry's metadata, e.g. `150bp+25`. */
export function describeFeeRule(rule: FeeRule): string {
  return `${rule.basisPoints}bp+${rule.fixedMinor}`;
}
