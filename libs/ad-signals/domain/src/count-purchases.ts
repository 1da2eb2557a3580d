import type { ConsentTimeline } from './consent-timeline';
import type { DimensionValues } from './dimensions';

/** A captured purchase as the aggregation keeps it: pseudonymous, described by dimension values. */
export interface PurchaseFact {
  /** Pseudonym of the payment (refunds find their purchase by it). */
  paymentKey: string;
  /** Pseudonym of the paying person: HMAC of the person id, never the id. */
  personKey: string;
  merchantId: string;
  /** Epoch ms of the capture. */
  occurredAt: number;
  dimensions: DimensionValues;
  amount: bigint;
  currency: string;
  /** Refunds applied before the purchase's window closed. */
  refunded: bigint;
  fullyRefunded: boolean;
}

export type PurchaseDecision = 'counted' | 'no_consent' | 'over_limit' | 'refunded';

export interface DecidedPurchase {
  fact: PurchaseFact;
  decision: PurchaseDecision;
  /** What the purchase adds to sums: the amount less refunds (0 unless counted). */
  countedAmount: bigint;
}

export interface CountPurchasesInput {
  /** The purchases of one hour window that arrived in time. */
  purchases: readonly PurchaseFact[];
  consent: (personKey: string) => ConsentTimeline;
  /** Purchases already counted earlier the same UTC day, per `personKey|merchantId`. */
  countedEarlierToday: ReadonlyMap<string, number>;
  maxPurchasesPerPerson: number;
}

export const contributionKey = (personKey: string, merchantId: string): string => `${personKey}|${merchantId}`;

/**
 * Decides once, when its hour closes, whether each purchase counts; the day reuses the decision,
 * so a day's cells are exactly the sum of its hours' cells.
 *
 * - Refunded in full (before the window closed): not a purchase any more.
 * - Consent: only if the person's consent was on at the purchase's time.
 * - Contribution bounding: a person counts at most `maxPurchasesPerPerson` purchases per merchant
 *   per UTC day — the first ones in time (ties by payment pseudonym), so the choice does not depend
 *   on arrival order. That bounds every hour cell and every day cell alike.
 */
export function countPurchases(input: CountPurchasesInput): DecidedPurchase[] {
  const counted = new Map(input.countedEarlierToday);
  const ordered = [...input.purchases].sort((a, b) => a.occurredAt - b.occurredAt || compare(a.paymentKey, b.paymentKey));
  return ordered.map((fact): DecidedPurchase => {
    const net = fact.amount - fact.refunded;
    if (fact.fullyRefunded || net <= 0n) return { fact, decision: 'refunded', countedAmount: 0n };
    if (!input.consent(fact.personKey).grantedAt(fact.occurredAt)) return { fact, decision: 'no_consent', countedAmount: 0n };
    const key = contributionKey(fact.personKey, fact.merchantId);
    const before = counted.get(key) ?? 0;
    if (before >= input.maxPurchasesPerPerson) return { fact, decision: 'over_limit', countedAmount: 0n };
    counted.set(key, before + 1);
    return { fact, decision: 'counted', countedAmount: net };
  });
}

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
