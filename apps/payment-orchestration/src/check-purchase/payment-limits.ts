/**
 * Which currencies payments are taken in, and the range of one payment in each, in minor units
 * (`PAYMENT_LIMITS=EUR:50-1000000,USD:50-1000000`). A currency not listed is not accepted: a
 * new currency is switched on deliberately, with its limits.
 */
export interface AmountRange {
  readonly min: bigint;
  readonly max: bigint;
}

export type PaymentLimits = ReadonlyMap<string, AmountRange>;

const ENTRY = /^([A-Z]{3}):([1-9][0-9]{0,17})-([1-9][0-9]{0,17})$/;

export function parsePaymentLimits(text: string): PaymentLimits {
  const limits = new Map<string, AmountRange>();
  for (const part of text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const match = ENTRY.exec(part);
    if (!match) throw new Error(`payment limit "${part}" is not CURRENCY:min-max in minor units, e.g. EUR:50-1000000`);
    const [, currency, min, max] = match;
    if (limits.has(currency)) throw new Error(`payment limit for ${currency} is given twice`);
    if (BigInt(min) > BigInt(max)) throw new Error(`payment limit for ${currency}: the minimum ${min} is above the maximum ${max}`);
    limits.set(currency, { min: BigInt(min), max: BigInt(max) });
  }
  if (limits.size === 0) throw new Error('at least one currency must be accepted');
  return limits;
}
