import type { DimensionValues, Grouping } from './dimensions';
import { dimensionsKey, groupingOf, isCoarser, project } from './dimensions';
import type { Relation } from './suppression/suppress-cells';

/** One counted purchase as it enters the cells of its window. */
export interface Contribution {
  personKey: string;
  merchantId: string;
  dimensions: DimensionValues;
  /** The purchase's amount less refunds, minor units. */
  amount: bigint;
  currency: string;
  /** The hour window (epoch ms) the purchase was counted in. */
  hourStart: number;
}

/** The exact aggregate of one cell, private until the protection rules say it may be published. */
export interface Cell {
  merchantId: string;
  key: string;
  values: DimensionValues;
  grouping: Grouping;
  people: Set<string>;
  purchases: number;
  /** Sums per currency. */
  amounts: Map<string, bigint>;
}

/**
 * Every cell of every grouping, per merchant. `clampAmount` caps what one purchase adds to a sum
 * (differential privacy needs bounded sensitivity); suppression never depends on it.
 */
export function buildCells(contributions: readonly Contribution[], groupings: readonly Grouping[], clampAmount?: bigint): Map<string, Map<string, Cell>> {
  const byMerchant = new Map<string, Map<string, Cell>>();
  for (const contribution of contributions) {
    let cells = byMerchant.get(contribution.merchantId);
    if (!cells) byMerchant.set(contribution.merchantId, (cells = new Map<string, Cell>()));
    const amount = clampAmount !== undefined && contribution.amount > clampAmount ? clampAmount : contribution.amount;
    for (const grouping of groupings) {
      const values = project(contribution.dimensions, grouping);
      const key = dimensionsKey(values);
      let cell = cells.get(key);
      if (!cell) {
        cell = { merchantId: contribution.merchantId, key, values, grouping, people: new Set(), purchases: 0, amounts: new Map() };
        cells.set(key, cell);
      }
      cell.people.add(contribution.personKey);
      cell.purchases += 1;
      cell.amounts.set(contribution.currency, (cell.amounts.get(contribution.currency) ?? 0n) + amount);
    }
  }
  return byMerchant;
}

/**
 * The additive relations among one merchant's cells of one window: for every pair of published
 * groupings where one is coarser, each coarse cell equals the sum of the finer cells inside it.
 * `idOf` names cells in the suppression table.
 */
export function groupingRelations(cells: ReadonlyMap<string, Cell>, groupings: readonly Grouping[], idOf: (key: string) => string): Relation[] {
  const relations = new Map<string, { parent: string; children: string[] }>();
  for (const cell of cells.values()) {
    const own = groupingOf(cell.values);
    for (const parentGrouping of groupings) {
      if (!isCoarser(parentGrouping, own)) continue;
      const parentKey = dimensionsKey(project(cell.values, parentGrouping));
      const relationKey = `${parentKey}>${own.join('+')}`;
      let relation = relations.get(relationKey);
      if (!relation) relations.set(relationKey, (relation = { parent: idOf(parentKey), children: [] }));
      relation.children.push(idOf(cell.key));
    }
  }
  return [...relations.values()].map((relation) => ({ parent: relation.parent, children: relation.children.sort() }));
}
