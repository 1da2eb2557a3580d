import { determinedUnknowns } from './linear-disclosure';
import type { LinearRow } from './linear-disclosure';

/** A cell of a table under protection: its size and whether it was decided earlier. */
export interface TableCell {
  id: string;
  distinctPeople: number;
  purchases: number;
  /** Pseudonyms of the cell's people: the size of a union of hidden cells is what an attacker learns. */
  people: ReadonlySet<string>;
  /** Already published or suppressed (an hour cell when its day closes): never changed here. */
  fixed?: 'published' | 'suppressed';
}

/** Published tables are additive: `parent` = the sum of `children` (purchases, amounts; people at most). */
export interface Relation {
  parent: string;
  children: readonly string[];
}

export type SuppressionReason = 'below_k' | 'complementary';

/**
 * k-anonymity with complementary suppression, the one place the rule lives: cells below k, then
 * their complements, until no hidden cell can be computed from the published ones. Returns the
 * suppressed cells that were not fixed, with why. Deterministic: ties are broken by size, then
 * purchases, then id.
 */
export function suppressCells(cells: readonly TableCell[], relations: readonly Relation[], k: number): Map<string, SuppressionReason> {
  const byId = new Map(cells.map((cell) => [cell.id, cell]));
  for (const relation of relations) {
    for (const id of [relation.parent, ...relation.children]) if (!byId.has(id)) throw new Error(`relation names unknown cell ${id}`);
  }
  const hidden = new Set<string>();
  const reasons = new Map<string, SuppressionReason>();
  hideCellsBelowK(cells, k, hidden, reasons);
  const ordered = [...relations].sort((a, b) => compareIds(a.parent, b.parent) || compareIds(a.children.join(','), b.children.join(',')));
  const hide = (id: string): void => {
    hidden.add(id);
    reasons.set(id, 'complementary');
  };
  const smallest = (ids: readonly string[]): string | undefined =>
    ids
      .map((id) => byId.get(id) as TableCell)
      .filter((cell) => !cell.fixed && !hidden.has(cell.id))
      .sort(bySize)[0]?.id;

  // Every round hides one more cell, so it ends.
  for (;;) {
    hideComplements(ordered, hidden, byId, k, smallest, hide);
    const disclosed = hiddenCellsComputableFromPublished(ordered, hidden);
    if (disclosed.length === 0) break;
    const pick = nearestPublished(disclosed[0], ordered, hidden, smallest);
    if (pick === undefined) throw new Error(`cell ${disclosed[0]} is disclosed by cells decided earlier; nothing left to hide protects it`);
    hide(pick);
  }
  return reasons;
}

/** Primary suppression: a cell with fewer than k distinct people is hidden (cells suppressed earlier stay hidden). */
function hideCellsBelowK(cells: readonly TableCell[], k: number, hidden: Set<string>, reasons: Map<string, SuppressionReason>): void {
  for (const cell of cells) {
    if (cell.fixed === 'suppressed') hidden.add(cell.id);
    else if (!cell.fixed && cell.distinctPeople < k) {
      hidden.add(cell.id);
      reasons.set(cell.id, 'below_k');
    }
  }
}

/**
 * Complementary suppression per relation "parent = Σ children", until nothing changes. A lone
 * hidden member would be the published total minus the published rest, so a second one is hidden
 * (a sibling before the parent); and the hidden children's union, which the published parent
 * reveals, must itself have at least k people.
 */
function hideComplements(
  relations: readonly Relation[],
  hidden: Set<string>,
  byId: ReadonlyMap<string, TableCell>,
  k: number,
  smallest: (ids: readonly string[]) => string | undefined,
  hide: (id: string) => void,
): void {
  for (let changed = true; changed;) {
    changed = false;
    for (const relation of relations) {
      const members = [relation.parent, ...relation.children];
      const hiddenMembers = members.filter((id) => hidden.has(id));
      if (hiddenMembers.length === 0) continue;
      let pick: string | undefined;
      if (hiddenMembers.length === 1) {
        pick = smallest(relation.children.filter((id) => id !== hiddenMembers[0])) ?? smallest([relation.parent]);
      } else if (!hidden.has(relation.parent)) {
        const union = new Set<string>();
        for (const id of relation.children) if (hidden.has(id)) for (const person of (byId.get(id) as TableCell).people) union.add(person);
        if (union.size < k) pick = smallest(relation.children) ?? smallest([relation.parent]);
      }
      if (pick !== undefined) {
        hide(pick);
        changed = true;
      }
    }
  }
}

/** The audit: hidden cells that some linear combination of the published cells computes (linear-disclosure.ts), in id order. */
function hiddenCellsComputableFromPublished(relations: readonly Relation[], hidden: ReadonlySet<string>): string[] {
  return [...determinedUnknowns(equations(relations, hidden))].sort(compareIds);
}

/** The relations as equations over the hidden cells: parent − Σ children = a published constant. */
function equations(relations: readonly Relation[], hidden: ReadonlySet<string>): LinearRow[] {
  const rows: LinearRow[] = [];
  for (const relation of relations) {
    const row = new Map<string, number>();
    if (hidden.has(relation.parent)) row.set(relation.parent, 1);
    for (const child of relation.children) if (hidden.has(child)) row.set(child, (row.get(child) ?? 0) - 1);
    if (row.size > 0) rows.push(row);
  }
  return rows;
}

/** The smallest published, undecided cell in a relation with `id`; else one relation further, and so on. */
function nearestPublished(
  id: string,
  relations: readonly Relation[],
  hidden: ReadonlySet<string>,
  smallest: (ids: readonly string[]) => string | undefined,
): string | undefined {
  const seen = new Set<string>([id]);
  let frontier = [id];
  while (frontier.length > 0) {
    const touching = relations.filter((relation) => frontier.some((member) => relation.parent === member || relation.children.includes(member)));
    const members = [...new Set(touching.flatMap((relation) => [relation.parent, ...relation.children]))];
    const pick = smallest(members);
    if (pick !== undefined) return pick;
    frontier = members.filter((member) => hidden.has(member) && !seen.has(member));
    for (const member of frontier) seen.add(member);
  }
  return undefined;
}

function bySize(a: TableCell, b: TableCell): number {
  return a.distinctPeople - b.distinctPeople || a.purchases - b.purchases || compareIds(a.id, b.id);
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
