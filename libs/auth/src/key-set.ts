import type { JSONWebKeySet, JWK } from 'jose';

/** Algorithms accepted by default: asymmetric only, so no verifier can mint tokens. */
export const DEFAULT_ALGORITHMS = ['ES256', 'EdDSA', 'RS256'] as const;

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;

/**
 * Parses an inline JWKS (`{"keys":[...]}`), refusing private or symmetric key material: a
 * verifier configured with a private key is a misconfiguration that leaks signing power.
 * Messages never quote the input.
 */
export function parsePublicKeySet(json: string, what = 'key set'): JSONWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(`${what} is not valid JSON; expected {"keys":[{...public JWK...}]}`);
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray(keys) || keys.length === 0) {
    throw new Error(`${what} must be a JSON object with a non-empty "keys" array`);
  }
  keys.forEach((key: unknown, index) => {
    if (typeof key !== 'object' || key === null || typeof (key as JWK).kty !== 'string') {
      throw new Error(`${what}: key ${index} is not a JWK (it has no "kty")`);
    }
    if ((key as JWK).kty === 'oct' || PRIVATE_MEMBERS.some((member) => member in key)) {
      throw new Error(`${what}: key ${index} holds private or symmetric material; publish public keys only`);
    }
  });
  return parsed as JSONWebKeySet;
}

/** True when `json` parses as a public key set; for config validators. */
export function isPublicKeySet(json: unknown): boolean {
  if (typeof json !== 'string') return false;
  try {
    parsePublicKeySet(json);
    return true;
  } catch {
    return false;
  }
}
