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

/** The key set could not be fetched: the token may be fine, we cannot tell (HTTP 503). */
export class KeySetUnavailableError extends Error {
  override name = 'KeySetUnavailableError';
}

const KEY_SET_OUTAGE_CODES = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JOSE_GENERIC']);

/**
 * Maps jose's error codes to our reasons, so callers never depend on jose's classes (and the
 * messages we return stay ours, not the library's).
 */
export function toAuthenticationError(error: unknown): AuthenticationError | KeySetUnavailableError {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && KEY_SET_OUTAGE_CODES.has(code)) {
    return new KeySetUnavailableError('the token key set could not be fetched; try again shortly');
  }
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
      if (error instanceof TypeError && /fetch/i.test(error.message)) {
        return new KeySetUnavailableError('the token key set could not be fetched; try again shortly');
      }
      return new AuthenticationError('malformed', 'the access token is not a well-formed signed JWT');
  }
}
