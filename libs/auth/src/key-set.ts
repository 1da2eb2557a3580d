import type { JSONWebKeySet, JWK, JWTVerifyGetKey } from 'jose';

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

/**
 * What a key lookup throws because of the token itself: it names a key (`kid`) or an algorithm
 * the key set does not hold. Once the key set is had, nothing else comes out of a lookup; any
 * other failure means the key set could not be had (fetch refused, timed out, not 200, not JSON,
 * not a key set, a key that does not import).
 */
const TOKEN_FAULT_LOOKUP_CODES = new Set(['ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_MULTIPLE_MATCHING_KEYS', 'ERR_JOSE_NOT_SUPPORTED']);

/** jose's key lookups can show the key set they hold (a remote one: the last it fetched). */
type InspectableLookup = JWTVerifyGetKey & { jwks?: () => JSONWebKeySet | undefined };

/**
 * Wraps a key lookup (jose's local or remote key set) so that every failure to have the keys
 * becomes `unavailable(cause)`, whatever jose or the fetch called it. Classifying by where the
 * failure happened, not by a list of outage codes, keeps a new way for a key endpoint to fail
 * from passing as a bad token. An empty key set (`{"keys":[]}`) counts as no key set: it cannot
 * verify anything, so "no key for this token" says nothing about the token.
 */
export function keySetFailuresAs(lookup: JWTVerifyGetKey, unavailable: (cause: unknown) => Error): JWTVerifyGetKey {
  return async (protectedHeader, token) => {
    try {
      return await lookup(protectedHeader, token);
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      const tokenFault = typeof code === 'string' && TOKEN_FAULT_LOOKUP_CODES.has(code);
      if (tokenFault && !(code === 'ERR_JWKS_NO_MATCHING_KEY' && holdsNoKey(lookup))) throw error;
      throw unavailable(error);
    }
  };
}

function holdsNoKey(lookup: InspectableLookup): boolean {
  const keys = lookup.jwks?.()?.keys;
  return Array.isArray(keys) && keys.length === 0;
}
