/**
 * What a purchase is described by in an aggregate. Every dimension value is a code from a
 * closed set (or a four-digit category, a two-letter country, a bucket label): never free text
 * and never anything that names a person.
 */
export const DIMENSIONS = ['app', 'country', 'merchantCategory', 'paymentMethodType', 'amountBucket'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** The value of a dimension a cell does not break down by: "all of them". */
export const ALL = '*';
/** A value we could not learn (e.g. a category the payment events do not carry yet). */
export const UNKNOWN = 'unknown';

export const PAYMENT_METHOD_TYPES = ['card', 'paypal', 'bank_account', 'stripe_customer', 'wallet_balance', UNKNOWN] as const;
export type PaymentMethodType = (typeof PAYMENT_METHOD_TYPES)[number];

export type DimensionValues = Readonly<Record<Dimension, string>>;

/** A set of dimensions published together, in DIMENSIONS order; [] is the merchant's total. */
export type Grouping = readonly Dimension[];

const DIMENSION_SET = new Set<string>(DIMENSIONS);

export function isDimension(value: string): value is Dimension {
  return DIMENSION_SET.has(value);
}

/** Orders a grouping's dimensions canonically so equal groupings compare equal. */
export function normaliseGrouping(dimensions: readonly Dimension[]): Grouping {
  return DIMENSIONS.filter((dimension) => dimensions.includes(dimension));
}

export function groupingName(grouping: Grouping): string {
  return grouping.length === 0 ? 'total' : grouping.join('+');
}

/**
 * Parses `app;country;app+country` (groupings separated by `;`, dimensions of one grouping by
 * `+`). The merchant's total is always published, so it is always included, first.
 */
export function parseGroupings(spec: string): Grouping[] {
  const result: Grouping[] = [[]];
  const seen = new Set<string>(['total']);
  for (const part of spec
    .split(';')
    .map((item) => item.trim())
    .filter(Boolean)) {
    if (part === 'total') continue;
    const names = part.split('+').map((name) => name.trim());
    const unknown = names.filter((name) => !isDimension(name));
    if (unknown.length > 0) throw new RangeError(`unknown dimension ${unknown.join(', ')}; dimensions are ${DIMENSIONS.join(', ')}`);
    if (new Set(names).size !== names.length) throw new RangeError(`grouping ${part} names a dimension twice`);
    const grouping = normaliseGrouping(names as Dimension[]);
    const name = groupingName(grouping);
    if (seen.has(name)) continue;
    seen.add(name);
    result.push(grouping);
  }
  return result;
}

/** The cell of `grouping` that a fully described purchase (or a finer cell) falls into. */
export function project(values: DimensionValues, grouping: Grouping): DimensionValues {
  const projected = {} as Record<Dimension, string>;
  for (const dimension of DIMENSIONS) projected[dimension] = grouping.includes(dimension) ? values[dimension] : ALL;
  return projected;
}

/** A canonical text key of a cell's dimension values: `app=instagram|country=*|...`. */
export function dimensionsKey(values: DimensionValues): string {
  return DIMENSIONS.map((dimension) => `${dimension}=${values[dimension]}`).join('|');
}

/** The grouping a cell belongs to: the dimensions it does not aggregate away. */
export function groupingOf(values: DimensionValues): Grouping {
  return DIMENSIONS.filter((dimension) => values[dimension] !== ALL);
}

/** Whether `parent` is a strictly coarser grouping than `child` (all its dimensions, fewer of them). */
export function isCoarser(parent: Grouping, child: Grouping): boolean {
  return parent.length < child.length && parent.every((dimension) => child.includes(dimension));
}
