import type { Grouping } from './dimensions';

/** Differential privacy of published values (optional). */
export interface DifferentialPrivacyPolicy {
  /** The privacy loss one window may cause a person, split over every value the window publishes. */
  epsilonPerWindow: number;
  /** Each purchase's amount is clamped to this many minor units in published sums, bounding their sensitivity. */
  maxAmountMinor: bigint;
}

/** The privacy rules of one deployment, each configurable, each enforced in one place. */
export interface PrivacyPolicy {
  /** A cell with fewer distinct people is never published (k-anonymity). */
  k: number;
  /** One person counts at most this many purchases per merchant per window, so in any cell. */
  maxPurchasesPerPerson: number;
  /** The cells published per merchant and window; [] (the total) first. */
  groupings: readonly Grouping[];
  /** Absent: exact values are published. */
  differentialPrivacy?: DifferentialPrivacyPolicy;
}

export const MEASURES = ['purchases', 'distinctPeople', 'amounts'] as const;
export type Measure = (typeof MEASURES)[number];

export interface NoiseScales {
  /** The ε each released vector (one measure of one grouping) gets. */
  epsilonPerRelease: number;
  purchases: number;
  distinctPeople: number;
  amounts: number;
}

/**
 * Laplace scales b = Δ/ε. A window releases 3 measures for each of G groupings; by sequential
 * composition each gets ε_window / (3·G). Within one grouping a person's purchases fall into one
 * cell each and at most `m` of them count, so the L1 sensitivity of the purchase counts is m, of
 * the distinct-people counts m (at most m cells touched), of the sums m·maxAmount.
 */
export function noiseScales(policy: PrivacyPolicy): NoiseScales | undefined {
  const dp = policy.differentialPrivacy;
  if (!dp) return undefined;
  const releases = MEASURES.length * policy.groupings.length;
  const epsilonPerRelease = dp.epsilonPerWindow / releases;
  const m = policy.maxPurchasesPerPerson;
  return {
    epsilonPerRelease,
    purchases: m / epsilonPerRelease,
    distinctPeople: m / epsilonPerRelease,
    amounts: (m * Number(dp.maxAmountMinor)) / epsilonPerRelease,
  };
}

export function assertPolicy(policy: PrivacyPolicy): PrivacyPolicy {
  if (!Number.isInteger(policy.k) || policy.k < 2) throw new RangeError('k must be a whole number of at least 2');
  if (!Number.isInteger(policy.maxPurchasesPerPerson) || policy.maxPurchasesPerPerson < 1) throw new RangeError('maxPurchasesPerPerson must be at least 1');
  if (policy.groupings.length === 0 || policy.groupings[0].length !== 0) throw new RangeError('the first grouping must be the total ([])');
  const dp = policy.differentialPrivacy;
  if (dp && !(dp.epsilonPerWindow > 0 && Number.isFinite(dp.epsilonPerWindow))) throw new RangeError('epsilonPerWindow must be a positive number');
  if (dp && dp.maxAmountMinor <= 0n) throw new RangeError('maxAmountMinor must be positive');
  return policy;
}
