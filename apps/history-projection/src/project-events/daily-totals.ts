import type { HistoryEntry } from './history-entries';

/**
 * Counts and sums of entries per UTC day and dimension, kept in step with the entries: when an
 * entry changes (its status, its method type, its day), its old contribution is taken out of
 * its old row and the new one added to its new row. Unknown dimensions are ''.
 */
export interface DailyTotalKey {
  day: string;
  app: string;
  country: string;
  currency: string;
  kind: string;
  methodType: string;
  status: string;
}

export interface DailyTotalDelta extends DailyTotalKey {
  entries: number;
  amount: bigint;
  netAmount: bigint;
}

export function dailyTotalKey(entry: HistoryEntry): DailyTotalKey {
  return {
    day: entry.occurredAt.slice(0, 10),
    app: entry.app ?? '',
    country: entry.country ?? '',
    currency: entry.currency,
    kind: entry.kind,
    methodType: entry.methodType,
    status: entry.status,
  };
}

const keyText = (key: DailyTotalKey): string => [key.day, key.app, key.country, key.currency, key.kind, key.methodType, key.status].join('\u0000');

/**
 * Accumulates the change of the daily totals when entries change from `before` to `after`.
 * Deltas that cancel out are dropped; the result is sorted by key, so that concurrent writers
 * lock rows in the same order.
 */
export class DailyTotalsChange {
  private readonly deltas = new Map<string, DailyTotalDelta>();

  add(entry: HistoryEntry, sign: 1 | -1): void {
    const key = dailyTotalKey(entry);
    const text = keyText(key);
    const delta = this.deltas.get(text) ?? { ...key, entries: 0, amount: 0n, netAmount: 0n };
    delta.entries += sign;
    delta.amount += BigInt(sign) * BigInt(entry.amount);
    delta.netAmount += BigInt(sign) * BigInt(entry.netAmount);
    this.deltas.set(text, delta);
  }

  replace(before: HistoryEntry | undefined, after: HistoryEntry | undefined): void {
    if (before) this.add(before, -1);
    if (after) this.add(after, 1);
  }

  toList(): DailyTotalDelta[] {
    return [...this.deltas.entries()]
      .filter(([, d]) => d.entries !== 0 || d.amount !== 0n || d.netAmount !== 0n)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, d]) => d);
  }
}
