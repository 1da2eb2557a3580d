/**
 * Test helpers: an identity provider in a box. It holds a private key, publishes the matching
 * public key set (give it to a service as AUTH_JWKS, or serve it with `startTestKeyEndpoint` for
 * AUTH_JWKS_URL) and mints access tokens. Never imported by production code (it is not part of
 * `@pay/auth`'s index).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CryptoKey, JSONWebKeySet, JWK } from 'jose';
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
  /** Default: the issuer's `agentAudience` for role `support`, its `audience` for every other role. */
  audience?: string | string[];
  typ?: string;
}

/** The audience of support agents' tokens, as the support service expects by default (`AUTH_AGENT_AUDIENCE`). */
export const TEST_AGENT_AUDIENCE = 'pay-support';

export interface TestIssuer {
  issuer: string;
  audience: string;
  /** The audience it gives agents' tokens (role `support`) instead, as the identity provider is registered to. */
  agentAudience: string;
  /** The public key set, for AUTH_JWKS (`JSON.stringify(issuer.jwks)`). */
  jwks: JSONWebKeySet;
  signTestToken(claims: TestTokenClaims, options?: TestTokenOptions): Promise<string>;
}

/** An ES256 key pair of a service (public half for a key set, private half for a signer), under `kid`. */
export async function testKeyPair(kid: string): Promise<{ publicJwk: JWK; privateJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return {
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256' },
  };
}

export async function createTestIssuer(options: { issuer?: string; audience?: string; algorithm?: TestAlgorithm } = {}): Promise<TestIssuer> {
  const algorithm = options.algorithm ?? 'ES256';
  const issuer = options.issuer ?? 'https://id.test.pay';
  const audience = options.audience ?? 'pay-api';
  const agentAudience = TEST_AGENT_AUDIENCE;
  const kid = `test-${randomUUID()}`;
  const { privateKey, publicKey } = await generateKeyPair(algorithm, { extractable: true });
  const jwks: JSONWebKeySet = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: algorithm, use: 'sig' }] };
  return {
    issuer,
    audience,
    agentAudience,
    jwks,
    signTestToken: (claims, tokenOptions = {}) =>
      signTestToken(
        privateKey,
        {
          algorithm,
          kid,
          ...tokenOptions,
          issuer: tokenOptions.issuer ?? issuer,
          audience: tokenOptions.audience ?? (claims.role === 'support' ? agentAudience : audience),
        },
        claims,
      ),
  };
}

/** Signs an access token with any key, for tests of what a verifier accepts and refuses. */
export async function signTestToken(
  key: CryptoKey,
  options: TestTokenOptions & { algorithm: TestAlgorithm; kid?: string; issuer: string; audience: string | string[] },
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

/** How a test key endpoint answers: the key set, or one way for an identity provider to fail. */
export type TestKeyEndpointMode = 'keys' | 'status-503' | 'status-404' | 'not-json' | 'not-a-key-set' | 'reset' | 'hang';

/** Every way to fail `startTestKeyEndpoint` knows; `hang` last (it takes the client's whole timeout). */
export const TEST_KEY_ENDPOINT_OUTAGES: readonly TestKeyEndpointMode[] = ['status-503', 'status-404', 'not-json', 'not-a-key-set', 'reset', 'hang'];

/** A JWKS endpoint on loopback (a stand-in for `AUTH_JWKS_URL`), told how to behave. */
export interface TestKeyEndpoint {
  mode: TestKeyEndpointMode;
  /** Requests received so far (tests reset it). */
  requests: number;
  readonly url: string;
  close(): Promise<void>;
}

export async function startTestKeyEndpoint(keys: () => object, path = '/.well-known/jwks.json'): Promise<TestKeyEndpoint> {
  const server: Server = createServer();
  const endpoint = {
    mode: 'keys' as TestKeyEndpointMode,
    requests: 0,
    url: '',
    close: async (): Promise<void> => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    endpoint.requests += 1;
    const json = (status: number, body: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    switch (endpoint.mode) {
      case 'keys':
        return json(200, keys());
      case 'status-503':
        return json(503, { code: 'UNAVAILABLE' });
      case 'status-404':
        return json(404, { code: 'NOT_FOUND' });
      case 'not-json':
        response.writeHead(200, { 'content-type': 'text/html' });
        return void response.end('<html>maintenance</html>');
      case 'not-a-key-set':
        return json(200, { status: 'ok' });
      case 'reset':
        return void request.socket.destroy(); // the connection drops before any answer
      case 'hang':
        return; // never answers
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  return endpoint;
}

/** A loopback port nobody listens on (connection refused). */
export async function closedLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
