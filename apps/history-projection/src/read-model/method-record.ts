import type { MethodRow } from '../project-events/wallet-profile';

/** The columns of a methods row, as the projection writes them and every reader selects them. */
export const METHOD_RECORD_COLUMNS =
  'method_id, person_id, kind, brand, last4, exp_month, exp_year, country, added_at, removed_at, unusable_reason, unusable_since';

/** One methods row as the driver returns it (timestamps as Date) or as `methodRecord` writes it (text). */
// A type, not an interface: rows are written through upsertRows' Record<string, unknown>.
export type MethodRecord = {
  method_id: string;
  person_id: string;
  kind: string | null;
  brand: string | null;
  last4: string | null;
  exp_month: number | null;
  exp_year: number | null;
  country: string | null;
  added_at: Date | string | null;
  removed_at: Date | string | null;
  unusable_reason: string | null;
  unusable_since: Date | string | null;
};

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

/** A stored method as the projection and the readers use it; timestamps as ISO-8601 UTC with milliseconds. */
export function methodFromRecord(r: MethodRecord): MethodRow {
  return {
    methodId: r.method_id,
    personId: r.person_id,
    kind: r.kind,
    brand: r.brand,
    last4: r.last4,
    expMonth: r.exp_month,
    expYear: r.exp_year,
    country: r.country,
    addedAt: iso(r.added_at),
    removedAt: iso(r.removed_at),
    unusableReason: r.unusable_reason,
    unusableSince: iso(r.unusable_since),
  };
}

/** A method as its row is written (METHOD_COLUMNS of the projection). */
export const methodRecord = (m: MethodRow): MethodRecord => ({
  method_id: m.methodId,
  person_id: m.personId,
  kind: m.kind,
  brand: m.brand,
  last4: m.last4,
  exp_month: m.expMonth,
  exp_year: m.expYear,
  country: m.country,
  added_at: m.addedAt,
  removed_at: m.removedAt,
  unusable_reason: m.unusableReason,
  unusable_since: m.unusableSince,
});
