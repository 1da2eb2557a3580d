/**
 * What the projection needs of an envelope (the folds read nothing else). Live events are
 * validated class instances; events replayed from `raw_events` are these fields of the same
 * JSON, validated when they were first consumed.
 */
export interface ProjectableEvent<T extends object = object> {
  type: string;
  subject: string;
  sequence: number;
  occurredAt: string;
  data: T;
}

export const PAYMENT_EVENT_PREFIX = 'payments.payment.';
export const LEDGER_TRANSACTION_RECORDED = 'ledger.transaction.recorded';

export function isPaymentEvent(event: ProjectableEvent): boolean {
  return event.type.startsWith(PAYMENT_EVENT_PREFIX);
}

export function isLedgerEvent(event: ProjectableEvent): boolean {
  return event.type === LEDGER_TRANSACTION_RECORDED;
}

/** One spelling of every instant (ISO-8601 UTC with milliseconds), so strings compare as times. */
export function normalizeInstant(value: string): string {
  // Most instants already are in that spelling (every producer here writes toISOString()): a
  // valid one is its own normal form, and checking it costs a fraction of parsing and printing a
  // Date (7.6 % of the rebuild's busy Node time, 2026-12-06).
  if (isNormalInstant(value)) return value;
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw new Error(`not an ISO-8601 instant: ${value.slice(0, 40)}`);
  return time.toISOString();
}

const NORMAL_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{3}Z$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Whether `new Date(value).toISOString()` gives `value` back: the spelling above, naming a real day and time. */
function isNormalInstant(value: string): boolean {
  const match = NORMAL_INSTANT.exec(value);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
  return month >= 1 && month <= 12 && day >= 1 && day <= days && hour <= 23 && minute <= 59 && second <= 59;
}

export const minInstant = (a: string | undefined, b: string | undefined): string | undefined => (a === undefined ? b : b === undefined ? a : a < b ? a : b);
export const maxInstant = (a: string | undefined, b: string | undefined): string | undefined => (a === undefined ? b : b === undefined ? a : a > b ? a : b);

/** JSON with keys sorted at every level: equal values give equal text, whatever their key order (jsonb reorders keys). */
export function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => stableJson(item)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableJson(item)}`).join(',')}}`;
}
