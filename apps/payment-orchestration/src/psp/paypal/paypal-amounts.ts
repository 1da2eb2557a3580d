import type { Money } from '@pay/contracts';
import { toMinorUnits } from '@pay/contracts';

/**
 * PayPal carries amounts as decimal strings in the currency's unit ("12.34" EUR); we carry
 * bigint minor units. Conversions are exact, by the currency's decimals as PayPal defines them.
 */
const ZERO_DECIMAL = new Set(['HUF', 'JPY', 'TWD']);

export class PayPalAmountError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'PayPalAmountError';
  }
}

export function payPalDecimals(currency: string): number {
  return ZERO_DECIMAL.has(currency.toUpperCase()) ? 0 : 2;
}

export function toPayPalValue(amount: bigint, currency: string): string {
  if (amount < 0n || amount >= 10n ** 15n) throw new PayPalAmountError(`amount ${amount} is outside what PayPal carries (0 to 15 digits)`);
  const decimals = payPalDecimals(currency);
  if (decimals === 0) return amount.toString();
  const digits = amount.toString().padStart(decimals + 1, '0');
  return `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}

/** Our `Money` as PayPal's amount object. */
export function toPayPalAmount(amount: Money): { currencyCode: string; value: string } {
  return { currencyCode: amount.currency, value: toPayPalValue(toMinorUnits(amount), amount.currency) };
}

export function fromPayPalValue(value: string | undefined, currency: string): bigint {
  if (value === undefined) return 0n;
  const decimals = payPalDecimals(currency);
  const pattern = decimals === 0 ? /^\d{1,15}$/ : /^\d{1,13}(\.\d{1,2})?$/;
  if (!pattern.test(value)) throw new PayPalAmountError(`"${value}" is not an amount of ${currency} as PayPal writes it`);
  const [whole, fraction = ''] = value.split('.');
  return BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, '0') || '0');
}
