/** Why a token was refused; the message is safe to return (it never echoes the token). */
export class AuthenticationError extends Error {
  override name = 'AuthenticationError';
  constructor(
    readonly reason: 'missing' | 'malformed' | 'expired' | 'bad-signature' | 'bad-claims' | 'no-key-set',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The key set could not be had: the identity provider's key endpoint (`AUTH_JWKS_URL`) refused
 * the connection, timed out, answered other than 200, or with something that is not a usable
 * key set. The token may be fine, we cannot tell: never a refusal (401), but HTTP 503
 * `AUTH_KEYS_UNAVAILABLE` with Retry-After, and the same request is asked again later.
 */
export class KeySetUnavailableError extends Error {
  override name = 'KeySetUnavailableError';
  /** Always: asking again once the key endpoint answers gets the token checked. */
  readonly retryable = true;
}

/** Seconds the guard's 503 `AUTH_KEYS_UNAVAILABLE` asks a client to wait (Retry-After). */
export const AUTH_KEYS_RETRY_AFTER_SECONDS = 5;

const KEY_SET_UNAVAILABLE_MESSAGE = 'the token key set could not be fetched, so the token was not checked; try again shortly';

export function keySetUnavailable(cause: unknown): KeySetUnavailableError {
  return new KeySetUnavailableError(KEY_SET_UNAVAILABLE_MESSAGE, { cause });
}

/**
 * jose's codes for a key set that could not be had: a timeout, a non-200 answer or a body that
 * is not JSON (ERR_JOSE_GENERIC), JSON that is not a key set or holds a private key, a key that
 * does not import. The verifier's key lookup already turns every failure to have the keys into
 * KeySetUnavailableError (`keySetFailuresAs`), whatever its code; these are for an error that
 * reached here raw.
 */
const KEY_SET_OUTAGE_CODES = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JOSE_GENERIC', 'ERR_JWKS_INVALID', 'ERR_JWK_INVALID']);

/** A fetch that failed below HTTP (refused, reset, DNS, TLS: undici's `TypeError: fetch failed`) or was aborted. */
function isFetchFailure(error: unknown): boolean {
  if (error instanceof TypeError) return /fetch/i.test(error.message);
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

/**
 * Maps jose's error codes to our reasons, so callers never depend on jose's classes (and the
 * messages we return stay ours, not the library's). A KeySetUnavailableError passes through.
 */
export function toAuthenticationError(error: unknown): AuthenticationError | KeySetUnavailableError {
  if (error instanceof KeySetUnavailableError || error instanceof AuthenticationError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if ((typeof code === 'string' && KEY_SET_OUTAGE_CODES.has(code)) || isFetchFailure(error)) return keySetUnavailable(error);
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return new AuthenticationError('expired', 'the access token has expired');
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return new AuthenticationError('bad-signature', 'the access token is not signed by a trusted key with an accepted algorithm');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const claim = (error as { claim?: unknown }).claim;
      return new AuthenticationError('bad-claims', `the access token's ${typeof claim === 'string' ? `"${claim}" ` : ''}claim is not accepted`);
    }
    default:
      return new AuthenticationError('malformed', 'the access token is not a well-formed signed JWT');
  }
}
