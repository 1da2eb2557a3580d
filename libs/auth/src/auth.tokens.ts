/** Injection tokens of the auth module. */
export const ACCESS_TOKEN_VERIFIER = Symbol('AccessTokenVerifier');
export const AUTH_OPTIONS = Symbol('AuthOptions');
