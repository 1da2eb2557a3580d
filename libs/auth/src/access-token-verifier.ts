import type { JSONWebKeySet, JWTVerifyGetKey } from 'jose';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify } from 'jose';
import { AuthenticationError, keySetUnavailable, toAuthenticationError } from './auth-errors';
import { DEFAULT_ALGORITHMS, keySetFailuresAs } from './key-set';
import type { Principal } from './principal';
import { isRole, MAX_MERCHANTS_PER_TOKEN, ROLES, SUBJECT_PATTERN } from './principal';

export interface AccessTokenOptions {
  /** Public keys inline (`AUTH_JWKS`). */
  jwks?: JSONWebKeySet;
  /** Or where the identity provider publishes them (`AUTH_JWKS_URL`); fetched and cached by kid. */
  jwksUrl?: string;
  /** How long a fetch of `jwksUrl` may take before the keys count as unavailable (default 3 s). */
  jwksTimeoutMs?: number;
  issuer: string;
  audience: string;
  algorithms?: readonly string[];
  /** Skew allowed between our clock and the issuer's. */
  clockToleranceSeconds?: number;
}

/** `typ` values of access tokens; anything else (a step-up proof, an ID token) is refused. */
const ACCESS_TOKEN_TYPES = new Set([undefined, 'JWT', 'at+jwt', 'application/at+jwt']);

/**
 * Verifies access tokens: signature against the configured key set with an allowed asymmetric
 * algorithm, issuer, audience, expiry, and our claims (`sub`, `role`). Without a key set it
 * refuses everything: a service that cannot verify must not let anyone in.
 *
 * When the key set at `jwksUrl` cannot be had (refused, slow, 5xx/404, not JSON, not a key set,
 * a key that does not import) the answer is KeySetUnavailableError, never a refusal: the token
 * is not checked, and the next request fetches again. A token that is not a JWS, or names an
 * algorithm we do not accept, is refused without fetching; one naming a key the fetched set
 * does not hold is refused (`bad-signature`).
 */
export class AccessTokenVerifier {
  private readonly keys?: JWTVerifyGetKey;

  constructor(private readonly options: AccessTokenOptions) {
    if (options.jwks) this.keys = keySetFailuresAs(createLocalJWKSet(options.jwks), keySetUnavailable);
    else if (options.jwksUrl) {
      const remote = createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: options.jwksTimeoutMs ?? 3_000, cooldownDuration: 30_000 });
      this.keys = keySetFailuresAs(remote, keySetUnavailable);
    }
  }

  /** Whether a key set is configured at all. */
  get configured(): boolean {
    return this.keys !== undefined;
  }

  async verify(token: string): Promise<Principal> {
    if (!this.keys) {
      throw new AuthenticationError('no-key-set', 'this service has no token key set configured (AUTH_JWKS or AUTH_JWKS_URL); every request is refused');
    }
    let payload: Record<string, unknown>;
    let typ: string | undefined;
    try {
      const verified = await jwtVerify(token, this.keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: [...(this.options.algorithms ?? DEFAULT_ALGORITHMS)],
        clockTolerance: this.options.clockToleranceSeconds ?? 30,
        requiredClaims: ['sub', 'exp'],
      });
      payload = verified.payload;
      typ = verified.protectedHeader.typ;
    } catch (error) {
      throw toAuthenticationError(error);
    }
    if (!ACCESS_TOKEN_TYPES.has(typ)) {
      throw new AuthenticationError('bad-claims', `a token of type "${typ}" is not an access token`);
    }
    const { sub, role, jti, merchants } = payload;
    if (typeof sub !== 'string' || !SUBJECT_PATTERN.test(sub)) {
      throw new AuthenticationError('bad-claims', 'the access token\'s "sub" must be 1 to 100 of letters, digits, "_", "-", ":" and "."');
    }
    if (!isRole(role)) {
      throw new AuthenticationError('bad-claims', `the access token's "role" must be one of ${ROLES.join(', ')}`);
    }
    const tokenId = typeof jti === 'string' ? jti : undefined;
    if (role !== 'advertiser') return { subject: sub, role, tokenId };
    // An advertiser sees only the merchants its token names: no claim, no access.
    if (
      !Array.isArray(merchants) ||
      merchants.length === 0 ||
      merchants.length > MAX_MERCHANTS_PER_TOKEN ||
      !merchants.every((merchant) => typeof merchant === 'string' && SUBJECT_PATTERN.test(merchant))
    ) {
      throw new AuthenticationError('bad-claims', `an advertiser's access token must name the merchants it may see: "merchants", 1 to ${MAX_MERCHANTS_PER_TOKEN} merchant ids`);
    }
    return { subject: sub, role, tokenId, merchants: [...new Set(merchants as string[])].sort() };
  }
}
