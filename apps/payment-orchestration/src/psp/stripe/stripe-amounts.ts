/**
 * Stripe's API and SDK carry amounts as JSON numbers; we carry bigint. Conversions refuse what a
 * double cannot hold exactly instead of rounding money.
 */
export class AmountOutOfRangeError extends RangeError {
  constructor(readonly amount: string) {
    super(`amount ${amount} is outside what Stripe carries exactly (0 to ${Number.MAX_SAFE_INTEGER} minor units)`);
    this.name = 'AmountOutOfRangeError';
  }
}

export function toStripeAmount(amount: bigint): number {
  if (amount < 0n || amount > BigInt(Number.MAX_SAFE_INTEGER)) throw new AmountOutOfRangeError(amount.toString());
  return Number(amount);
}

export function fromStripeAmount(amount: number | null | undefined): bigint {
  if (amount === null || amount === undefined) return 0n;
  if (!Number.isSafeInteger(amount) || amount < 0) throw new AmountOutOfRangeError(String(amount));
  return BigInt(amount);
}
