import { PaymentInputError } from './payment-errors';

/**
 * Amounts are integer minor units (cents) in a bigint, never floating point. The upper bound
 * is what the `Money` contract carries (18 decimal digits), so every amount the domain accepts
 * can be published.
 */
export const MAX_MINOR_UNITS = 999_999_999_999_999_999n;

/** ISO-4217 shape; which codes exist is checked at the edge (contracts), not here. */
export const CURRENCY_PATTERN = /^[A-Z]{3}$/;

/** Ids we keep (payment, refund, dispute, PSP references): never free text. */
export const REFERENCE_PATTERN = /^[A-Za-z0-9_.:-]{1,100}$/;

export function assertPositiveAmount(value: unknown, field: string): bigint {
  if (typeof value !== 'bigint' || value <= 0n || value > MAX_MINOR_UNITS) {
    throw new PaymentInputError(`${field} must be a positive whole number of minor units (a bigint from 1 to ${MAX_MINOR_UNITS})`);
  }
  return value;
}

export function assertCurrency(value: unknown, field = 'currency'): string {
  if (typeof value !== 'string' || !CURRENCY_PATTERN.test(value)) {
    throw new PaymentInputError(`${field} must be an ISO-4217 code in upper case, e.g. EUR`);
  }
  return value;
}

export function assertReference(value: unknown, field: string): string {
  if (typeof value !== 'string' || !REFERENCE_PATTERN.test(value)) {
    throw new PaymentInputError(`${field} must be 1 to 100 of letters, digits, "_", ".", ":" and "-"`);
  }
  return value;
}

export function minBigInt(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
