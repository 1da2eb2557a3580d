import { WalletError } from './wallet-error';

/** Spaces removed, upper case: the form we validate, encrypt and show the last four of. */
export function normalizeIban(input: string): string {
  return input.replace(/[\s-]/g, '').toUpperCase();
}

const SHAPE = /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/;

/** ISO 13616: the shape, then the mod-97 check that catches typos and swapped digits. */
export function isValidIban(iban: string): boolean {
  if (!SHAPE.test(iban)) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    const value = char >= 'A' ? (char.charCodeAt(0) - 55).toString() : char;
    for (const digit of value) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}

export function assertValidIban(iban: string): void {
  if (!isValidIban(iban)) {
    throw new WalletError('invalid', 'IBAN_INVALID', 'the IBAN is not valid: expected a country code, two check digits and the account number (ISO 13616)', {
      field: 'iban',
    });
  }
}
