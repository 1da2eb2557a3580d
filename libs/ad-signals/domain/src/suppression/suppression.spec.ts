import fc from 'fast-check';
import type { Cell, Contribution } from '../cell-table';
import { buildCells, groupingRelations } from '../cell-table';
import type { Dimension, Grouping } from '../dimensions';
import { dims, HOUR, people } from '../__fixtures__/purchases';
import { parseGroupings } from '../dimensions';
import { determinedUnknowns } from './linear-disclosure';
import type { Relation, TableCell } from './suppress-cells';
import { suppressCells } from './suppress-cells';

const row = (entries: Record<string, number>): Map<string, number> => new Map(Object.entries(entries));

describe('linear disclosure audit', () => {
  it('finds a hidden cell that a total minus the published rest gives away', () => {
    // total (published) = a + b (published) + c (hidden): c = total − b − a
    expect(determinedUnknowns([row({ c: -1 })])).toEqual(new Set(['c']));
  });

  it('finds a disclosure that needs several equations at once, not only one subtraction', () => {
    // x + y, y + z and x + z known: x = (xy − yz + xz) / 2. No single equation has one unknown.
    expect(determinedUnknowns([row({ x: 1, y: 1 }), row({ y: 1, z: 1 }), row({ x: 1, z: 1 })])).toEqual(new Set(['x', 'y', 'z']));
  });

  it('knows that a 2×2 block hidden inside published margins stays hidden', () => {
    // rows: a + b, c + d; columns: a + c, b + d. One degree of freedom remains.
    expect(determinedUnknowns([row({ a: 1, b: 1 }), row({ c: 1, d: 1 }), row({ a: 1, c: 1 }), row({ b: 1, d: 1 })])).toEqual(new Set());
  });
});

function contributions(spec: Array<[string[], Partial<Record<Dimension, string>>]>): Contribution[] {
  return spec.flatMap(([persons, overrides]) =>
    persons.map((personKey) => ({ personKey, merchantId: 'merchant-1', dimensions: dims(overrides), amount: 1000n, currency: 'EUR', hourStart: HOUR })),
  );
}

function protect(list: Contribution[], groupings: readonly Grouping[], k: number) {
  const cells = buildCells(list, groupings).get('merchant-1') as Map<string, Cell>;
  const table: TableCell[] = [...cells.values()].map((cell) => ({
    id: cell.key,
    distinctPeople: cell.people.size,
    purchases: cell.purchases,
    people: cell.people,
  }));
  const relations = groupingRelations(cells, groupings, (key) => key);
  const hidden = suppressCells(table, relations, k);
  return { cells, relations, hidden };
}

const appKey = (app: string): string => `app=${app}|country=*|merchantCategory=*|paymentMethodType=*|amountBucket=*`;
const TOTAL = 'app=*|country=*|merchantCategory=*|paymentMethodType=*|amountBucket=*';

/** The attack of the issue: a published total minus the other published cells, repeated while it reveals anything. */
function differencingAttack(cells: Map<string, Cell>, relations: readonly Relation[], hidden: ReadonlySet<string>): Map<string, number> {
  const known = new Map<string, number>();
  for (const [key, cell] of cells) if (!hidden.has(key)) known.set(key, cell.purchases);
  const learned = new Map<string, number>();
  for (let progress = true; progress;) {
    progress = false;
    for (const relation of relations) {
      const unknown = [relation.parent, ...relation.children].filter((id) => !known.has(id));
      if (unknown.length !== 1) continue;
      const [target] = unknown;
      const value =
        target === relation.parent
          ? relation.children.reduce((sum, id) => sum + (known.get(id) as number), 0)
          : (known.get(relation.parent) as number) - relation.children.filter((id) => id !== target).reduce((sum, id) => sum + (known.get(id) as number), 0);
      known.set(target, value);
      learned.set(target, value);
      progress = true;
    }
  }
  return learned;
}

describe('k-anonymity with complementary suppression', () => {
  const K = 5;
  const groupings = parseGroupings('app');

  it('publishes a cell of k people and never one of k − 1', () => {
    const { hidden } = protect(
      contributions([
        [people('i', K), { app: 'instagram' }],
        [people('m', K + 1), { app: 'messenger' }],
        [people('w', K + 2), { app: 'whatsapp' }],
        [people('f', K - 1), { app: 'facebook' }],
      ]),
      groupings,
      K,
    );
    expect(hidden.get(appKey('facebook'))).toBe('below_k');
    // The smallest sibling is hidden with it, so the total minus the published apps is two cells, not one.
    expect(hidden.get(appKey('instagram'))).toBe('complementary');
    expect(hidden.has(appKey('messenger'))).toBe(false);
    expect(hidden.has(appKey('whatsapp'))).toBe(false);
    expect(hidden.has(TOTAL)).toBe(false);
  });

  it('defeats the differencing attack: total minus the other published cells does not reveal the hidden one', () => {
    const { cells, relations, hidden } = protect(
      contributions([
        [people('i', K), { app: 'instagram' }],
        [people('m', K + 1), { app: 'messenger' }],
        [people('f', K - 1), { app: 'facebook' }],
      ]),
      groupings,
      K,
    );
    const published = [...cells.keys()].filter((key) => !hidden.has(key));
    const total = (cells.get(TOTAL) as Cell).purchases;
    const rest = published.filter((key) => key !== TOTAL).reduce((sum, key) => sum + (cells.get(key) as Cell).purchases, 0);
    expect(total - rest).toBe(K + K - 1);
    expect(total - rest).not.toBe((cells.get(appKey('facebook')) as Cell).purchases);
    expect(differencingAttack(cells, relations, new Set(hidden.keys())).size).toBe(0);
  });

  it('hides more when the hidden part itself would be a group smaller than k', () => {
    // Two small apps hide each other, but together they are 4 people: the total minus the rest would publish them.
    const { hidden } = protect(
      contributions([
        [people('a', 2), { app: 'instagram' }],
        [people('b', 2), { app: 'facebook' }],
        [people('c', K + 3), { app: 'messenger' }],
        [people('d', K + 5), { app: 'whatsapp' }],
      ]),
      groupings,
      K,
    );
    expect(hidden.get(appKey('messenger'))).toBe('complementary');
    expect(hidden.has(appKey('whatsapp'))).toBe(false);
  });

  it('hides both of two siblings rather than the total when together they are k or more', () => {
    const { hidden } = protect(
      contributions([
        [people('f', K - 1), { app: 'facebook' }],
        [people('i', K + 1), { app: 'instagram' }],
      ]),
      groupings,
      K,
    );
    expect([...hidden.keys()].sort()).toEqual([appKey('facebook'), appKey('instagram')].sort());
  });

  it('catches a disclosure no single subtraction shows: x + y, y + z and x + z published give x', () => {
    const people3 = (p: string): Set<string> => new Set(people(p, 3));
    const big = (p: string): Set<string> => new Set(people(p, 20));
    const cell = (id: string, set: Set<string>): TableCell => ({ id, distinctPeople: set.size, purchases: set.size, people: set });
    const table = [cell('x', people3('x')), cell('y', people3('y')), cell('z', people3('z'))];
    for (const n of [1, 2, 3]) table.push(cell(`P${n}`, big(`P${n}`)), cell(`q${n}`, big(`q${n}`)));
    // Each relation has two hidden members whose union is 6 ≥ k people: the per-relation rules are content.
    const relations: Relation[] = [
      { parent: 'P1', children: ['q1', 'x', 'y'] },
      { parent: 'P2', children: ['q2', 'y', 'z'] },
      { parent: 'P3', children: ['q3', 'x', 'z'] },
    ];
    const hidden = suppressCells(table, relations, K);
    expect([...hidden].filter(([, reason]) => reason === 'complementary').length).toBeGreaterThan(0);
    const rows = relations.map(
      (relation) => new Map([relation.parent, ...relation.children].filter((id) => hidden.has(id)).map((id) => [id, id === relation.parent ? 1 : -1])),
    );
    expect(determinedUnknowns(rows)).toEqual(new Set());
  });

  it('protects cells across several groupings, whatever the data (property)', () => {
    const apps = ['facebook', 'instagram', 'messenger'];
    const countries = ['DE', 'FR'];
    const methods = ['card', 'paypal', 'wallet_balance'];
    const purchaseArb = fc.record({
      person: fc.integer({ min: 1, max: 30 }),
      app: fc.constantFrom(...apps),
      country: fc.constantFrom(...countries),
      method: fc.constantFrom(...methods),
    });
    fc.assert(
      fc.property(
        fc.array(purchaseArb, { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 2, max: 6 }),
        fc.constantFrom(
          'app;country;paymentMethodType',
          'app;country;app+country',
          'app+country;paymentMethodType',
          'app;app+paymentMethodType;country+paymentMethodType',
        ),
        (list, k, spec) => {
          const grouping = parseGroupings(spec);
          const { cells, relations, hidden } = protect(
            list.map((p) => ({
              personKey: `p${p.person}`,
              merchantId: 'merchant-1',
              dimensions: dims({ app: p.app, country: p.country, paymentMethodType: p.method }),
              amount: 100n,
              currency: 'EUR',
              hourStart: HOUR,
            })),
            grouping,
            k,
          );
          const hiddenSet = new Set(hidden.keys());
          // 1. Nothing published has fewer than k people.
          for (const [key, cell] of cells) if (!hiddenSet.has(key)) expect(cell.people.size).toBeGreaterThanOrEqual(k);
          // 2. No sequence of "total minus the rest" reveals a hidden cell.
          expect([...differencingAttack(cells, relations, hiddenSet).keys()].filter((key) => hiddenSet.has(key))).toEqual([]);
          // 3. Nor does any linear combination of published cells.
          const rows = relations.map((relation) => {
            const r = new Map<string, number>();
            if (hiddenSet.has(relation.parent)) r.set(relation.parent, 1);
            for (const child of relation.children) if (hiddenSet.has(child)) r.set(child, -1);
            return r;
          });
          expect(determinedUnknowns(rows.filter((r) => r.size > 0)).size).toBe(0);
          // 4. What a published total minus its published parts reveals is a group of at least k people.
          for (const relation of relations) {
            if (hiddenSet.has(relation.parent)) continue;
            const union = new Set(relation.children.filter((id) => hiddenSet.has(id)).flatMap((id) => [...(cells.get(id) as Cell).people]));
            expect(union.size === 0 || union.size >= k).toBe(true);
          }
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });
});
