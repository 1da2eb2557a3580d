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
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw new Error(`not an ISO-8601 instant: ${value.slice(0, 40)}`);
  return time.toISOString();
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
