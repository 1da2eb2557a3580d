import { AuthenticationError, DEFAULT_ALGORITHMS, ROLES, SUBJECT_PATTERN, toAuthenticationError } from '@pay/auth';
import { ID_PATTERN } from '@pay/contracts';
import type { JSONWebKeySet, JWTVerifyGetKey } from 'jose';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify } from 'jose';

/** An advertiser and the merchants whose cells it may see. */
export interface AdvertiserPrincipal {
  subject: string;
  merchants: string[];
  tokenId?: string;
}

export interface AdvertiserTokenOptions {
  jwks?: JSONWebKeySet;
  jwksUrl?: string;
  issuer: string;
  audience: string;
}

/** A token that is valid but not an advertiser's: the route is closed to it (403), not unauthenticated. */
export class NotAnAdvertiserError extends Error {
  override name = 'NotAnAdvertiserError';
}

export const ADVERTISER_ROLE = 'advertiser';
export const MAX_MERCHANTS_PER_TOKEN = 1_000;
const ACCESS_TOKEN_TYPES = new Set([undefined, 'JWT', 'at+jwt', 'application/at+jwt']);

/**
 * Verifies advertisers' access tokens the way libs/auth verifies every access token (key set,
 * asymmetric algorithms, issuer, audience, expiry, `typ`), and reads the claims libs/auth does
 * not know yet: role `advertiser` and `merchants`, the merchant ids the advertiser may see.
 * Interim: once libs/auth knows the role and the claim, this becomes `@Roles('advertiser')`.
 */
export class AdvertiserTokenVerifier {
  private readonly keys?: JWTVerifyGetKey;

  constructor(private readonly options: AdvertiserTokenOptions) {
    if (options.jwks) this.keys = createLocalJWKSet(options.jwks);
    else if (options.jwksUrl) this.keys = createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: 3_000, cooldownDuration: 30_000 });
  }

  async verify(token: string): Promise<AdvertiserPrincipal> {
    if (!this.keys) throw new AuthenticationError('no-key-set', 'this service has no token key set configured (AUTH_JWKS or AUTH_JWKS_URL); every request is refused');
    let payload: Record<string, unknown>;
    let typ: string | undefined;
    try {
      const verified = await jwtVerify(token, this.keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: [...DEFAULT_ALGORITHMS],
        clockTolerance: 30,
        requiredClaims: ['sub', 'exp'],
      });
      payload = verified.payload;
      typ = verified.protectedHeader.typ;
    } catch (error) {
      throw toAuthenticationError(error);
    }
    if (!ACCESS_TOKEN_TYPES.has(typ)) throw new AuthenticationError('bad-claims', `a token of type "${typ}" is not an access token`);
    const { sub, role, merchants, jti } = payload;
    if (typeof sub !== 'string' || !SUBJECT_PATTERN.test(sub)) {
      throw new AuthenticationError('bad-claims', 'the access token\'s "sub" must be 1 to 100 of letters, digits, "_", "-", ":" and "."');
    }
    if (role !== ADVERTISER_ROLE) {
      if (typeof role === 'string' && (ROLES as readonly string[]).includes(role)) throw new NotAnAdvertiserError(`this route is open to advertiser; the token's role is ${role}`);
      throw new AuthenticationError('bad-claims', `the access token's "role" must be one of ${[...ROLES, ADVERTISER_ROLE].join(', ')}`);
    }
    if (
      !Array.isArray(merchants) ||
      merchants.length === 0 ||
      merchants.length > MAX_MERCHANTS_PER_TOKEN ||
      !merchants.every((merchant) => typeof merchant === 'string' && ID_PATTERN.test(merchant))
    ) {
      throw new AuthenticationError('bad-claims', `an advertiser's access token must name the merchants it may see: "merchants", 1 to ${MAX_MERCHANTS_PER_TOKEN} merchant ids`);
    }
    return { subject: sub, merchants: [...new Set(merchants as string[])].sort(), tokenId: typeof jti === 'string' ? jti : undefined };
  }
}
