import { invalidInput, LedgerError } from './errors';

/**
 * Identifiers chosen by clients (account and transaction ids). ':' is deliberately not
 * accepted: the ledger derives the ids of reservation resolutions as `<reservation>:post`,
 * and a client id must never collide with one.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A reference to any journal entry: a client id, or the derived id of a reservation's resolution. */
export const TRANSACTION_REF_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}(:(post|void|expire))?$/;

/** ISO-4217 shape; which codes exist is checked at the edge (HTTP DTOs), not here. */
export const CURRENCY_PATTERN = /^[A-Z]{3}$/;

/** PostgreSQL `bigint`: every stored amount and every balance component must fit. */
export const MAX_AMOUNT = 9_223_372_036_854_775_807n;

/** Decimal minor units as they travel in JSON. */
export const MINOR_UNITS_TEXT = /^(0|[1-9][0-9]{0,18})$/;

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type Metadata = Readonly<Record<string, string>>;

const METADATA_KEY = /^[A-Za-z0-9_.-]{1,64}$/;
const METADATA_MAX_KEYS = 32;
const METADATA_MAX_VALUE = 512;

export function assertId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    throw invalidInput(`${field} must be 1-128 characters of letters, digits, ".", "_" or "-", starting with a letter or digit`);
  }
  return value;
}

export function assertTransactionRef(value: unknown, field: string): string {
  if (typeof value !== 'string' || !TRANSACTION_REF_PATTERN.test(value)) {
    throw invalidInput(`${field} must be a transaction id (a client id, or <reservation>:post for a posted reservation)`);
  }
  return value;
}

export function assertCurrency(value: unknown, field = 'currency'): string {
  if (typeof value !== 'string' || !CURRENCY_PATTERN.test(value)) {
    throw invalidInput(`${field} must be an ISO-4217 code in upper case, e.g. EUR`);
  }
  return value;
}

/** Amounts are whole minor units, strictly positive; zero-amount postings carry no meaning. */
export function assertPositiveAmount(value: unknown, field: string): bigint {
  if (typeof value !== 'bigint') throw invalidInput(`${field} must be an integer number of minor units (bigint)`);
  if (value <= 0n) throw invalidInput(`${field} must be greater than zero, got ${value}`);
  if (value > MAX_AMOUNT) throw new LedgerError('AMOUNT_TOO_LARGE', `${field} must be at most ${MAX_AMOUNT}, got ${value}`);
  return value;
}

/** Parses minor units written as a decimal string ("1250"), the only form amounts take in JSON. */
export function parseMinorUnits(text: unknown, field: string): bigint {
  if (typeof text !== 'string' || !MINOR_UNITS_TEXT.test(text)) {
    throw invalidInput(`${field} must be a whole number of minor units written as a string, e.g. "1250"`);
  }
  const value = BigInt(text);
  if (value > MAX_AMOUNT) throw new LedgerError('AMOUNT_TOO_LARGE', `${field} must be at most ${MAX_AMOUNT}`);
  return value;
}

export function assertMetadata(value: unknown, field = 'metadata'): Metadata {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidInput(`${field} must be an object of string values`);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > METADATA_MAX_KEYS) throw invalidInput(`${field} accepts at most ${METADATA_MAX_KEYS} keys`);
  const out: Record<string, string> = {};
  for (const [key, item] of entries) {
    if (!METADATA_KEY.test(key)) throw invalidInput(`${field} key "${key.slice(0, 64)}" must be 1-64 letters, digits, ".", "_" or "-"`);
    // PostgreSQL jsonb refuses U+0000, and the hash chain must hash exactly what is stored.
    if (typeof item !== 'string' || item.length > METADATA_MAX_VALUE || item.includes('\u0000')) {
      throw invalidInput(`${field}.${key} must be a string of at most ${METADATA_MAX_VALUE} characters without NUL`);
    }
    out[key] = item;
  }
  return out;
}

export function assertDate(value: unknown, field: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw invalidInput(`${field} must be a valid date`);
  return value;
}

export function assertOptionalUuid(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !UUID_PATTERN.test(value)) throw invalidInput(`${field} must be a UUID`);
  return value;
}
