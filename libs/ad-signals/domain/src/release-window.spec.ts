import fc from 'fast-check';
import type { Contribution } from './cell-table';
import { ConsentTimeline } from './consent-timeline';
import type { PurchaseFact } from './count-purchases';
import { canonicalJson } from './ids';
import { KeyedLaplaceNoise } from './noise/laplace';
import type { CellDecision, HourRelease } from './release-window';
import { hourStatusKey, releaseDay, releaseHour } from './release-window';
import { windowOf } from './time-windows';
import { HOUR, people, policy, purchase } from './__fixtures__/purchases';

const always = new ConsentTimeline([{ at: 0, sequence: 1, granted: true }]);
const TOTAL = 'app=*|country=*|merchantCategory=*|paymentMethodType=*|amountBucket=*';
const hourAt = (offsetHours: number) => windowOf('hour', HOUR + offsetHours * 3_600_000);

function closeHour(offsetHours: number, facts: PurchaseFact[], extra: Partial<Parameters<typeof releaseHour>[0]> = {}): HourRelease {
  return releaseHour({ window: hourAt(offsetHours), purchases: facts, consent: () => always, countedEarlierToday: new Map(), policy: policy(), ...extra });
}

const total = (cells: CellDecision[]): CellDecision | undefined => cells.find((cell) => cell.key === TOTAL);

describe('releasing an hour', () => {
  it('publishes only cells of at least k people, with ids that depend on the window and cell alone', () => {
    const facts = people('p', 5).map((person) => purchase(person, { occurredAt: HOUR + 5 * 60_000 }));
    const release = closeHour(0, facts);
    expect(release.cells.every((cell) => cell.status === 'published')).toBe(true);
    const aggregate = total(release.cells)?.aggregate;
    expect(aggregate).toMatchObject({
      merchantId: 'merchant-1',
      window: { granularity: 'hour', start: '2026-03-02T10:00:00.000Z', end: '2026-03-02T11:00:00.000Z' },
      grouping: 'total',
      measures: { purchases: 5, distinctPeople: 5, amounts: [{ currency: 'EUR', amount: '12500' }] },
      privacy: { k: 5, maxPurchasesPerPerson: 3, noise: 'none' },
    });
    expect(closeHour(0, facts.slice(0, 4)).cells.every((cell) => cell.status === 'suppressed')).toBe(true);
    expect(total(closeHour(0, [...facts].reverse()).cells)?.cellId).toBe(total(release.cells)?.cellId);
    expect(
      total(
        closeHour(
          1,
          facts.map((fact) => ({ ...fact, occurredAt: fact.occurredAt + 3_600_000 })),
        ).cells,
      )?.cellId,
    ).not.toBe(total(release.cells)?.cellId);
  });

  it('publishes no pseudonym, payment key or time finer than the window', () => {
    const facts = people('person-secret-', 6).map((person, i) => purchase(person, { occurredAt: HOUR + i * 61_001 }));
    const text = canonicalJson(closeHour(0, facts).cells.map((cell) => cell.aggregate));
    expect(text).not.toMatch(/person-secret-|pay-\d/);
    for (const time of text.match(/\d{4}-\d\d-\d\dT[0-9:.]+Z/g) ?? []) expect(time).toMatch(/T\d\d:00:00\.000Z$/);
  });

  it('gives byte-identical output whatever order the purchases arrive in (property)', () => {
    const facts = [
      ...people('a', 7).map((person, i) => purchase(person, { occurredAt: HOUR + i * 1000, dims: { app: 'facebook' } })),
      ...people('b', 4).map((person) => purchase(person, { dims: { app: 'messenger', paymentMethodType: 'paypal' } })),
      ...people('a', 3).map((person) => purchase(person, { dims: { app: 'whatsapp' }, amount: 70_000n })),
    ];
    const expected = canonicalJson(closeHour(0, facts).cells);
    fc.assert(
      fc.property(
        fc.shuffledSubarray(facts, { minLength: facts.length, maxLength: facts.length }),
        (shuffled) => canonicalJson(closeHour(0, shuffled).cells) === expected,
      ),
      {
        numRuns: 50,
      },
    );
  });

  it('adds Laplace noise of the configured scale when differential privacy is on, the same on every replay', () => {
    const facts = people('p', 8).map((person) => purchase(person));
    const dpPolicy = policy({ differentialPrivacy: { epsilonPerWindow: 18, maxAmountMinor: 2000n } });
    const noise = new KeyedLaplaceNoise('test-noise-key-0123456789');
    const first = closeHour(0, facts, { policy: dpPolicy, noise });
    const aggregate = total(first.cells)?.aggregate;
    expect(aggregate?.privacy).toEqual({
      k: 5,
      maxPurchasesPerPerson: 3,
      noise: 'laplace',
      epsilonPerWindow: 18,
      epsilonPerRelease: 1,
      scales: { purchases: 3, distinctPeople: 3, amounts: 6000 },
    });
    expect(Number.isInteger(aggregate?.measures.purchases)).toBe(true);
    expect(aggregate?.measures.purchases).toBeGreaterThanOrEqual(0);
    expect(canonicalJson(closeHour(0, [...facts].reverse(), { policy: dpPolicy, noise }).cells)).toBe(canonicalJson(first.cells));
    expect(() => closeHour(0, facts, { policy: dpPolicy })).toThrow(/no noise source/);
  });
});

describe('releasing a day from its hours', () => {
  const contributionsOf = (release: HourRelease, offsetHours: number): Contribution[] =>
    release.decisions
      .filter((decided) => decided.decision === 'counted')
      .map((decided) => ({ ...decided.fact, amount: decided.countedAmount, hourStart: hourAt(offsetHours).start }));

  function day(hours: Array<[number, PurchaseFact[]]>): CellDecision[] {
    const statuses = new Map<string, 'published' | 'suppressed'>();
    const contributions: Contribution[] = [];
    for (const [offset, facts] of hours) {
      const release = closeHour(offset, facts);
      for (const cell of release.cells) statuses.set(hourStatusKey(hourAt(offset).start, cell.merchantId, cell.key), cell.status);
      contributions.push(...contributionsOf(release, offset));
    }
    return releaseDay({ window: windowOf('day', HOUR), contributions, hourStatuses: statuses, policy: policy() });
  }

  const at = (offsetHours: number, persons: string[]): [number, PurchaseFact[]] => [
    offsetHours,
    persons.map((person) => purchase(person, { occurredAt: HOUR + offsetHours * 3_600_000 })),
  ];

  it('hides a day cell that minus its published hours would reveal the one hidden hour', () => {
    const cells = day([at(0, people('a', 6)), at(1, people('b', 3))]);
    expect(total(cells)?.status).toBe('suppressed');
    expect(cells.every((cell) => cell.status === 'suppressed')).toBe(true);
  });

  it('publishes the day when its hidden hours together are k people or more', () => {
    const cells = day([at(0, people('a', 6)), at(1, people('b', 3)), at(2, people('c', 3))]);
    expect(total(cells)?.status).toBe('published');
    expect(total(cells)?.aggregate?.measures).toMatchObject({ purchases: 12, distinctPeople: 12 });
  });

  it('bounds a person over the whole day: the day is the exact sum of its hours', () => {
    const hours = [at(0, people('p', 5)), at(1, people('p', 5)), at(2, people('p', 5)), at(3, people('p', 5))];
    const statuses = new Map<string, 'published' | 'suppressed'>();
    const contributions: Contribution[] = [];
    const counted = new Map<string, number>();
    for (const [offset, facts] of hours) {
      const release = closeHour(offset, facts, { countedEarlierToday: new Map(counted) });
      for (const cell of release.cells) statuses.set(hourStatusKey(hourAt(offset).start, cell.merchantId, cell.key), cell.status);
      for (const decided of release.decisions)
        if (decided.decision === 'counted') counted.set(`${decided.fact.personKey}|merchant-1`, (counted.get(`${decided.fact.personKey}|merchant-1`) ?? 0) + 1);
      contributions.push(...contributionsOf(release, offset));
      if (offset === 3) expect(release.decisions.every((decided) => decided.decision === 'over_limit')).toBe(true);
    }
    const cells = releaseDay({ window: windowOf('day', HOUR), contributions, hourStatuses: statuses, policy: policy() });
    expect(total(cells)?.aggregate?.measures).toMatchObject({ purchases: 15, distinctPeople: 5 });
  });
});

describe('the opted-out customer (differencing) attack', () => {
  // A merchant knows its own sales: who bought, how much. The published cells count only people
  // who consent. With exact values, known − published is exactly the purchases of those who
  // withdrew, so the merchant learns whether a given customer withdrew consent. With noise on it
  // may learn no more than ε allows. The attacker here is the optimal one (Neyman–Pearson): it
  // sums the Laplace log-likelihood ratios of every released value its target is in.
  const TRIALS = 600;
  const amount = 2_500n;
  const granted = new ConsentTimeline([{ at: 0, sequence: 1, granted: true }]);
  const withdrawn = new ConsentTimeline([
    { at: 0, sequence: 1, granted: true },
    { at: 1, sequence: 2, granted: false },
  ]);

  function guessesRight(dpPolicy: ReturnType<typeof policy>, noise: KeyedLaplaceNoise | undefined): number {
    let right = 0;
    for (let trial = 0; trial < TRIALS; trial += 1) {
      // Each trial a fresh hour (fresh noise); the target withdrew in every other one.
      const targetWithdrew = trial % 2 === 1;
      const buyers = people(`t${trial}-`, 8);
      const facts = buyers.map((person) => purchase(person, { occurredAt: hourAt(trial).start + 60_000, amount }));
      const release = releaseHour({
        window: hourAt(trial),
        purchases: facts,
        consent: (person) => (person === buyers[0] && targetWithdrew ? withdrawn : granted),
        countedEarlierToday: new Map(),
        policy: dpPolicy,
        noise,
      });
      // Every published cell holds all eight purchases (they share their dimensions).
      let evidence = 0; // > 0: the target looks like it consented
      for (const cell of release.cells) {
        const measures = cell.aggregate!.measures;
        const scales = cell.aggregate!.privacy.scales ?? { purchases: 1e-9, distinctPeople: 1e-9, amounts: 1e-9 };
        const known = { purchases: 8, distinctPeople: 8, amounts: 8 * Number(amount) };
        const target = { purchases: 1, distinctPeople: 1, amounts: Number(amount) };
        const observed = { purchases: measures.purchases, distinctPeople: measures.distinctPeople, amounts: Number(measures.amounts[0]?.amount ?? 0) };
        for (const measure of ['purchases', 'distinctPeople', 'amounts'] as const) {
          const ifConsented = Math.abs(observed[measure] - known[measure]);
          const ifWithdrawn = Math.abs(observed[measure] - (known[measure] - target[measure]));
          evidence += (ifWithdrawn - ifConsented) / scales[measure];
        }
      }
      if (evidence > 0 !== targetWithdrew) right += 1;
    }
    return right / TRIALS;
  }

  it('tells who withdrew every time from exact values, and no better than ε allows from noisy ones', () => {
    expect(guessesRight(policy(), undefined)).toBe(1);

    const dpPolicy = policy({ differentialPrivacy: { epsilonPerWindow: 1, maxAmountMinor: 100_000n } });
    const accuracy = guessesRight(dpPolicy, new KeyedLaplaceNoise('attack-test-noise-key-0123456789'));
    // ε the target's one purchase can cost in this window: its share of every release it is in.
    const release = releaseHour({
      window: hourAt(0),
      purchases: people('s', 8).map((person) => purchase(person, { amount })),
      consent: () => granted,
      countedEarlierToday: new Map(),
      policy: dpPolicy,
      noise: new KeyedLaplaceNoise('attack-test-noise-key-0123456789'),
    });
    const epsilonSpent = release.cells.reduce((sum, cell) => {
      const scales = cell.aggregate!.privacy.scales!;
      return sum + 1 / scales.purchases + 1 / scales.distinctPeople + Number(amount) / scales.amounts;
    }, 0);
    expect(epsilonSpent).toBeLessThanOrEqual(1);
    // ε-DP bounds any test's accuracy by e^ε / (1 + e^ε); three standard errors of slack for the sample.
    const bound = Math.exp(epsilonSpent) / (1 + Math.exp(epsilonSpent)) + 3 * Math.sqrt(0.25 / TRIALS);
    expect(accuracy).toBeLessThanOrEqual(bound);
  });
});
