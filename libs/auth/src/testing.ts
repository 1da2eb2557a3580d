/**
 * Test helpers: an identity provider in a box. It holds a private key, publishes the matching
 * public key set (give it to a service as AUTH_JWKS) and mints access tokens. Never imported by
 * production code (it is not part of `@pay/auth`'s index).
 */
import { randomUUID } from 'node:crypto';
import type { CryptoKey, JSONWebKeySet } from 'jose';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export type TestAlgorithm = 'ES256' | 'EdDSA' | 'RS256';

export interface TestTokenClaims {
  sub: string;
  /** Any string, so tests can also send roles that do not exist. */
  role: string;
  [claim: string]: unknown;
}

export interface TestTokenOptions {
  /** Seconds from now; negative for an expired token. Default 300. */
  expiresIn?: number;
  issuer?: string;
  audience?: string;
  typ?: string;
}

export interface TestIssuer {
  issuer: string;
  audience: string;
  /** The public key set, for AUTH_JWKS (`JSON.stringify(issuer.jwks)`). */
  jwks: JSONWebKeySet;
  signTestToken(claims: TestTokenClaims, options?: TestTokenOptions): Promise<string>;
}

export async function createTestIssuer(options: { issuer?: string; audience?: string; algorithm?: TestAlgorithm } = {}): Promise<TestIssuer> {
  const algorithm = options.algorithm ?? 'ES256';
  const issuer = options.issuer ?? 'https://id.test.pay';
  const audience = options.audience ?? 'pay-api';
  const kid = `test-${randomUUID()}`;
  const { privateKey, publicKey } = await generateKeyPair(algorithm, { extractable: true });
  const jwks: JSONWebKeySet = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: algorithm, use: 'sig' }] };
  return {
    issuer,
    audience,
    jwks,
    signTestToken: (claims, tokenOptions = {}) =>
      signTestToken(privateKey, { algorithm, kid, issuer: tokenOptions.issuer ?? issuer, audience: tokenOptions.audience ?? audience, ...tokenOptions }, claims),
  };
}

/** Signs an access token with any key, for tests of what a verifier accepts and refuses. */
export async function signTestToken(
  key: CryptoKey,
  options: TestTokenOptions & { algorithm: TestAlgorithm; kid?: string; issuer: string; audience: string },
  claims: TestTokenClaims,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: options.algorithm, kid: options.kid, ...(options.typ ? { typ: options.typ } : {}) })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setJti(randomUUID())
    .setIssuedAt(now + Math.min(0, options.expiresIn ?? 300) - 1)
    .setExpirationTime(now + (options.expiresIn ?? 300))
    .sign(key);
}
