import { createHash, createHmac } from 'node:crypto';

/** Namespace of every deterministic id of the ad-signal aggregation (a random v4, fixed forever). */
export const AD_SIGNALS_NAMESPACE = '6c1f3a5e-9b2d-4f7a-8e41-2d0b9c7a5f13';

/** RFC 9562 UUID version 5 (SHA-1 of namespace and name): the same name gives the same id, always. */
export function uuidV5(name: string, namespace = AD_SIGNALS_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** JSON with object keys sorted at every level: equal values give equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}

export type PseudonymPurpose = 'person' | 'payment';

/**
 * A keyed pseudonym (HMAC-SHA256, base64url): stable, so distinct people are counted exactly,
 * and not reversible or recomputable without the key, which lives only in the service's config.
 * The purpose is part of the input, so a person's and a payment's pseudonyms never collide.
 */
export function pseudonymize(key: string, purpose: PseudonymPurpose, id: string): string {
  return createHmac('sha256', key).update(`${purpose}:${id}`, 'utf8').digest('base64url');
}
