/**
 * Every way the ledger can refuse a request. The code is stable (clients branch on it, the
 * HTTP layer maps it to a status); the message says what was wrong and what is accepted.
 */
export const LEDGER_ERROR_CODES = [
  'INVALID_INPUT',
  'UNBALANCED',
  'CURRENCY_MISMATCH',
  'ACCOUNT_NOT_FOUND',
  'INSUFFICIENT_FUNDS',
  'AMOUNT_TOO_LARGE',
  'IDEMPOTENCY_CONFLICT',
  'TRANSACTION_NOT_FOUND',
  'RESERVATION_NOT_FOUND',
  'RESERVATION_NOT_PENDING',
  'RESERVATION_EXPIRED',
  'RESERVATION_NOT_DUE',
  'AMOUNT_EXCEEDS_RESERVATION',
  'REVERSAL_NOT_ALLOWED',
  'REVERSAL_EXCEEDS_ORIGINAL',
] as const;

export type LedgerErrorCode = (typeof LEDGER_ERROR_CODES)[number];

export class LedgerError extends Error {
  constructor(
    readonly code: LedgerErrorCode,
    message: string,
    readonly details: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'LedgerError';
  }
}

export function isLedgerError(error: unknown, code?: LedgerErrorCode): error is LedgerError {
  return error instanceof LedgerError && (code === undefined || error.code === code);
}

export function invalidInput(message: string): LedgerError {
  return new LedgerError('INVALID_INPUT', message);
}
