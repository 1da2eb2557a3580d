import type { Cell, Contribution } from './cell-table';
import { buildCells, groupingRelations } from './cell-table';
import type { ConsentTimeline } from './consent-timeline';
import type { DecidedPurchase, PurchaseFact } from './count-purchases';
import { compare, countPurchases } from './count-purchases';
import type { Dimension, DimensionValues } from './dimensions';
import { groupingName } from './dimensions';
import { uuidV5 } from './ids';
import type { NoiseSource } from './noise/laplace';
import type { NoiseScales, PrivacyPolicy } from './privacy-policy';
import { noiseScales } from './privacy-policy';
import type { Relation, SuppressionReason, TableCell } from './suppression/suppress-cells';
import { suppressCells } from './suppression/suppress-cells';
import type { TimeWindow } from './time-windows';
import { hoursOfDay, isoOf, windowNumber } from './time-windows';

/** Part of every id: a change in how cells are computed gets new ids instead of clashing with old ones. */
export const COMPUTATION_VERSION = 1;

/** What is published for one cell of one window: nothing that names or times a person. */
export interface PublishedAggregate {
  cellId: string;
  seriesId: string;
  merchantId: string;
  window: { granularity: 'hour' | 'day'; start: string; end: string };
  grouping: string;
  dimensions: Record<Dimension, string>;
  measures: { purchases: number; distinctPeople: number; amounts: { currency: string; amount: string }[] };
  privacy: {
    k: number;
    maxPurchasesPerPerson: number;
    noise: 'none' | 'laplace';
    epsilonPerWindow?: number;
    epsilonPerRelease?: number;
    scales?: { purchases: number; distinctPeople: number; amounts: number };
  };
  computation: number;
}

export interface CellDecision {
  merchantId: string;
  key: string;
  values: DimensionValues;
  cellId: string;
  seriesId: string;
  /** The cell series' position: the window's number since the epoch. */
  sequence: number;
  status: 'published' | 'suppressed';
  reason?: SuppressionReason;
  /** The event's data when published. */
  aggregate?: PublishedAggregate;
}

export interface HourReleaseInput {
  window: TimeWindow;
  purchases: readonly PurchaseFact[];
  consent: (personKey: string) => ConsentTimeline;
  countedEarlierToday: ReadonlyMap<string, number>;
  policy: PrivacyPolicy;
  noise?: NoiseSource;
}

export interface HourRelease {
  decisions: DecidedPurchase[];
  cells: CellDecision[];
}

/** Closes an hour: decides every purchase once, then protects and publishes the hour's cells. */
export function releaseHour(input: HourReleaseInput): HourRelease {
  if (input.window.granularity !== 'hour') throw new RangeError('releaseHour needs an hour window');
  const decisions = countPurchases({
    purchases: input.purchases,
    consent: input.consent,
    countedEarlierToday: input.countedEarlierToday,
    maxPurchasesPerPerson: input.policy.maxPurchasesPerPerson,
  });
  const contributions = decisions.filter((decided) => decided.decision === 'counted').map((decided) => contributionOf(decided, input.window.start));
  return { decisions, cells: releaseCells(input.window, contributions, input.policy, input.noise) };
}

export interface DayReleaseInput {
  window: TimeWindow;
  /** The purchases counted when the day's hours closed. */
  contributions: readonly Contribution[];
  /** What became of each hour cell: key `hourStart|merchantId|dimensionsKey`. */
  hourStatuses: ReadonlyMap<string, 'published' | 'suppressed'>;
  policy: PrivacyPolicy;
  noise?: NoiseSource;
}

export const hourStatusKey = (hourStart: number, merchantId: string, key: string): string => `${hourStart}|${merchantId}|${key}`;

/**
 * Closes a day from the purchases its hours counted. The day's cells are the sums of its hours'
 * cells, so "day minus the published hours" is one more difference to defend: the hour cells
 * enter the suppression as fixed, and a day cell is hidden when publishing it would expose one.
 */
export function releaseDay(input: DayReleaseInput): CellDecision[] {
  if (input.window.granularity !== 'day') throw new RangeError('releaseDay needs a day window');
  const hours = hoursOfDay(input.window).map((hour) => hour.start);
  const outside = input.contributions.find((contribution) => !hours.includes(contribution.hourStart));
  if (outside) throw new RangeError(`a contribution of hour ${isoOf(outside.hourStart)} is not in day ${isoOf(input.window.start)}`);
  return releaseCells(input.window, input.contributions, input.policy, input.noise, input.hourStatuses);
}

function releaseCells(
  window: TimeWindow,
  contributions: readonly Contribution[],
  policy: PrivacyPolicy,
  noise: NoiseSource | undefined,
  hourStatuses?: ReadonlyMap<string, 'published' | 'suppressed'>,
): CellDecision[] {
  const exact = buildCells(contributions, policy.groupings);
  const dp = policy.differentialPrivacy;
  const scales = noiseScales(policy);
  if (scales && !noise) throw new Error('differential privacy is on but no noise source was given');
  const clamped = dp ? buildCells(contributions, policy.groupings, dp.maxAmountMinor) : exact;
  const order = new Map(policy.groupings.map((grouping, index) => [groupingName(grouping), index]));
  const decisions: CellDecision[] = [];

  for (const merchantId of [...exact.keys()].sort(compare)) {
    const cells = exact.get(merchantId) as Map<string, Cell>;
    const own = (key: string): string => `w|${key}`;
    const table: TableCell[] = [...cells.values()].map((cell) => tableCell(own(cell.key), cell));
    const relations: Relation[] = groupingRelations(cells, policy.groupings, own);
    if (hourStatuses) addHourLayer(window, merchantId, contributions, policy, hourStatuses, cells, table, relations);
    const reasons = suppressCells(table, relations, policy.k);

    const sorted = [...cells.values()].sort(
      (a, b) => (order.get(groupingName(a.grouping)) ?? 0) - (order.get(groupingName(b.grouping)) ?? 0) || compare(a.key, b.key),
    );
    for (const cell of sorted) {
      const ids = cellIds(window, merchantId, cell.key);
      const reason = reasons.get(own(cell.key));
      const decision: CellDecision = {
        merchantId,
        key: cell.key,
        values: cell.values,
        ...ids,
        sequence: windowNumber(window),
        status: reason ? 'suppressed' : 'published',
      };
      if (reason) decision.reason = reason;
      else decision.aggregate = publish(window, cell, (clamped.get(merchantId) as Map<string, Cell>).get(cell.key) as Cell, ids, policy, scales, noise);
      decisions.push(decision);
    }
  }
  return decisions;
}

/** The day's hour cells as fixed members of the table, and "day cell = Σ its hour cells". */
function addHourLayer(
  day: TimeWindow,
  merchantId: string,
  contributions: readonly Contribution[],
  policy: PrivacyPolicy,
  hourStatuses: ReadonlyMap<string, 'published' | 'suppressed'>,
  dayCells: ReadonlyMap<string, Cell>,
  table: TableCell[],
  relations: Relation[],
): void {
  const children = new Map<string, string[]>();
  for (const hour of hoursOfDay(day)) {
    const ofHour = contributions.filter((contribution) => contribution.hourStart === hour.start && contribution.merchantId === merchantId);
    if (ofHour.length === 0) continue;
    const hourCells = buildCells(ofHour, policy.groupings).get(merchantId) as Map<string, Cell>;
    const id = (key: string): string => `h${hour.start}|${key}`;
    for (const cell of hourCells.values()) {
      // A cell the store does not know was not published: treat it as hidden (the safe side).
      table.push({ ...tableCell(id(cell.key), cell), fixed: hourStatuses.get(hourStatusKey(hour.start, merchantId, cell.key)) ?? 'suppressed' });
      children.set(cell.key, [...(children.get(cell.key) ?? []), id(cell.key)]);
    }
    relations.push(...groupingRelations(hourCells, policy.groupings, id));
  }
  for (const key of dayCells.keys()) relations.push({ parent: `w|${key}`, children: children.get(key) ?? [] });
}

function tableCell(id: string, cell: Cell): TableCell {
  return { id, distinctPeople: cell.people.size, purchases: cell.purchases, people: cell.people };
}

export function cellIds(window: TimeWindow, merchantId: string, key: string): { cellId: string; seriesId: string } {
  return {
    cellId: uuidV5(`ad-signals:v${COMPUTATION_VERSION}:cell:${window.granularity}:${isoOf(window.start)}:${merchantId}:${key}`),
    seriesId: uuidV5(`ad-signals:v${COMPUTATION_VERSION}:series:${window.granularity}:${merchantId}:${key}`),
  };
}

/** The id that correlates every cell published for one window. */
export function windowCorrelationId(window: TimeWindow): string {
  return uuidV5(`ad-signals:v${COMPUTATION_VERSION}:window:${window.granularity}:${isoOf(window.start)}`);
}

function publish(
  window: TimeWindow,
  cell: Cell,
  forSums: Cell,
  ids: { cellId: string; seriesId: string },
  policy: PrivacyPolicy,
  scales: NoiseScales | undefined,
  noise: NoiseSource | undefined,
): PublishedAggregate {
  const currencies = [...forSums.amounts.keys()].sort(compare);
  let purchases = cell.purchases;
  let distinctPeople = cell.people.size;
  let amounts = currencies.map((currency) => ({ currency, amount: forSums.amounts.get(currency) as bigint }));
  if (scales && noise) {
    // Post-processing (rounding, clamping at 0) keeps the guarantee and keeps values plausible.
    const noisy = (value: number, scale: number, label: string): number => Math.max(0, Math.round(value + noise.laplace(scale, `${ids.cellId}|${label}`)));
    purchases = noisy(purchases, scales.purchases, 'purchases');
    distinctPeople = noisy(distinctPeople, scales.distinctPeople, 'distinctPeople');
    amounts = amounts.map(({ currency, amount }) => {
      const shifted = amount + BigInt(Math.round(noise.laplace(scales.amounts, `${ids.cellId}|amount|${currency}`)));
      return { currency, amount: shifted < 0n ? 0n : shifted };
    });
  }
  const dp = policy.differentialPrivacy;
  return {
    ...ids,
    merchantId: cell.merchantId,
    window: { granularity: window.granularity, start: isoOf(window.start), end: isoOf(window.end) },
    grouping: groupingName(cell.grouping),
    dimensions: { ...cell.values },
    measures: { purchases, distinctPeople, amounts: amounts.map(({ currency, amount }) => ({ currency, amount: amount.toString() })) },
    privacy: {
      k: policy.k,
      maxPurchasesPerPerson: policy.maxPurchasesPerPerson,
      noise: scales ? 'laplace' : 'none',
      ...(dp && scales
        ? {
            epsilonPerWindow: dp.epsilonPerWindow,
            epsilonPerRelease: scales.epsilonPerRelease,
            scales: { purchases: scales.purchases, distinctPeople: scales.distinctPeople, amounts: scales.amounts },
          }
        : {}),
    },
    computation: COMPUTATION_VERSION,
  };
}

function contributionOf(decided: DecidedPurchase, hourStart: number): Contribution {
  const { fact } = decided;
  return {
    personKey: fact.personKey,
    merchantId: fact.merchantId,
    dimensions: fact.dimensions,
    amount: decided.countedAmount,
    currency: fact.currency,
    hourStart,
  };
}
