import fc from 'fast-check';
import { ConsentTimeline } from './consent-timeline';
import { contributionKey, countPurchases } from './count-purchases';
import type { PurchaseFact } from './count-purchases';
import { HOUR, purchase } from './__fixtures__/purchases';

const MINUTE = 60_000;
const always = new ConsentTimeline([{ at: 0, sequence: 1, granted: true }]);

describe('consent timeline', () => {
  it('judges a purchase by the consent in force at its time, whatever order the changes arrived in', () => {
    const timeline = new ConsentTimeline([
      { at: HOUR + 30 * MINUTE, sequence: 3, granted: false },
      { at: HOUR, sequence: 2, granted: true },
      { at: HOUR - MINUTE, sequence: 1, granted: false },
    ]);
    expect(timeline.grantedAt(HOUR - 1)).toBe(false);
    expect(timeline.grantedAt(HOUR)).toBe(true);
    expect(timeline.grantedAt(HOUR + 29 * MINUTE)).toBe(true);
    // A withdrawal applies from its instant on.
    expect(timeline.grantedAt(HOUR + 30 * MINUTE)).toBe(false);
    expect(timeline.grantedAt(HOUR + 10 * 86_400_000)).toBe(false);
  });

  it('counts nobody who never said yes', () => {
    expect(new ConsentTimeline([]).grantedAt(HOUR)).toBe(false);
  });

  it('orders two changes of one millisecond by the wallet sequence', () => {
    const timeline = new ConsentTimeline([
      { at: HOUR, sequence: 8, granted: false },
      { at: HOUR, sequence: 7, granted: true },
    ]);
    expect(timeline.grantedAt(HOUR)).toBe(false);
  });
});

describe('countPurchases', () => {
  it('excludes purchases made without consent, refunded in full, or beyond the per-person bound', () => {
    const withdrawn = new ConsentTimeline([
      { at: 0, sequence: 1, granted: true },
      { at: HOUR + 20 * MINUTE, sequence: 2, granted: false },
    ]);
    const decided = countPurchases({
      purchases: [
        purchase('w', { occurredAt: HOUR + 10 * MINUTE }),
        purchase('w', { occurredAt: HOUR + 30 * MINUTE }),
        purchase('a', { occurredAt: HOUR + 1 * MINUTE, refunded: 2500n, fullyRefunded: true }),
        purchase('a', { occurredAt: HOUR + 2 * MINUTE, refunded: 500n }),
        purchase('a', { occurredAt: HOUR + 3 * MINUTE }),
        purchase('a', { occurredAt: HOUR + 4 * MINUTE }),
      ],
      consent: (person) => (person === 'w' ? withdrawn : always),
      countedEarlierToday: new Map([[contributionKey('a', 'merchant-1'), 1]]),
      maxPurchasesPerPerson: 3,
    });
    expect(decided.map((d) => [d.fact.personKey, d.decision, d.countedAmount])).toEqual([
      ['a', 'refunded', 0n],
      ['a', 'counted', 2000n],
      ['a', 'counted', 2500n],
      ['a', 'over_limit', 0n],
      ['w', 'counted', 2500n],
      ['w', 'no_consent', 0n],
    ]);
  });

  it('bounds per merchant: the same person at another merchant is counted apart', () => {
    const decided = countPurchases({
      purchases: [purchase('a'), purchase('a'), purchase('a', { merchantId: 'merchant-2' })],
      consent: () => always,
      countedEarlierToday: new Map(),
      maxPurchasesPerPerson: 1,
    });
    expect(
      decided
        .filter((d) => d.decision === 'counted')
        .map((d) => d.fact.merchantId)
        .sort(),
    ).toEqual(['merchant-1', 'merchant-2']);
  });

  it('decides the same whatever order the purchases arrived in', () => {
    const facts: PurchaseFact[] = Array.from({ length: 12 }, (_, i) => purchase(`p${i % 3}`, { occurredAt: HOUR + (i % 4) * MINUTE }));
    const baseline = new Map(
      countPurchases({ purchases: facts, consent: () => always, countedEarlierToday: new Map(), maxPurchasesPerPerson: 2 }).map((d) => [
        d.fact.paymentKey,
        d.decision,
      ]),
    );
    fc.assert(
      fc.property(fc.shuffledSubarray(facts, { minLength: facts.length, maxLength: facts.length }), (shuffled) => {
        const decided = countPurchases({ purchases: shuffled, consent: () => always, countedEarlierToday: new Map(), maxPurchasesPerPerson: 2 });
        return decided.every((d) => baseline.get(d.fact.paymentKey) === d.decision);
      }),
    );
  });
});
