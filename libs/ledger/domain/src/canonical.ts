import { createHash } from 'node:crypto';

export type CanonicalValue =
  string | number | bigint | boolean | null | Date | readonly CanonicalValue[] | { readonly [key: string]: CanonicalValue | undefined };

/**
 * A deterministic JSON text: object keys sorted, no whitespace, bigint as a decimal string,
 * dates as ISO-8601 UTC with milliseconds, `undefined` members omitted. Hashes are computed
 * over this text, so the same content gives the same hash on every machine and after a
 * round-trip through PostgreSQL (jsonb reorders keys; we never rely on its order).
 */
export function canonicalJson(value: CanonicalValue): string {
  if (value === null) return 'null';
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (typeof value === 'number') {
    // Only integers belong in ledger content; a float here would be a bug upstream.
    if (!Number.isSafeInteger(value)) throw new TypeError(`canonicalJson accepts only safe integers, got ${value}`);
    return String(value);
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((item: CanonicalValue) => canonicalJson(item)).join(',')}]`;
  const object = value as { readonly [key: string]: CanonicalValue | undefined };
  const members = Object.keys(object)
    .filter((key) => object[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key] as CanonicalValue)}`);
  return `{${members.join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
