import { createHash, randomBytes } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { createRemoteJWKSet, jwtVerify } from 'jose';

/** RFC 7636: a high-entropy verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: pkceChallenge(verifier) };
}

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

export interface OidcClient {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  redirectUri: string;
  scopes: string;
}

export interface ProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
}

/** The authorization request of the code flow with PKCE (S256), state and nonce. */
export function authorizationUrl(provider: ProviderMetadata, client: OidcClient, request: { state: string; nonce: string; codeChallenge: string }): string {
  const url = new URL(provider.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    scope: client.scopes,
    state: request.state,
    nonce: request.nonce,
    code_challenge: request.codeChallenge,
    code_challenge_method: 'S256',
  }).toString();
  return url.toString();
}

export async function discover(issuer: string): Promise<ProviderMetadata> {
  const response = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`OIDC discovery at ${issuer} answered HTTP ${response.status}`);
  const metadata = (await response.json()) as Partial<ProviderMetadata>;
  for (const field of ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
    if (typeof metadata[field] !== 'string') throw new Error(`OIDC discovery at ${issuer} has no ${field}`);
  }
  if (metadata.issuer !== issuer) throw new Error(`OIDC discovery at ${issuer} names another issuer`);
  return metadata as ProviderMetadata;
}

export interface CodeExchange {
  accessToken: string;
  /** Milliseconds since the epoch, when the token endpoint says. */
  expiresAt?: number;
  idToken: JWTPayload;
}

/**
 * Trades the code for tokens at the token endpoint (with the PKCE verifier), and checks the ID
 * token: signature by the provider's keys, issuer, audience and the nonce of this sign-in.
 */
export async function exchangeCode(provider: ProviderMetadata, client: OidcClient, code: string, codeVerifier: string, nonce: string): Promise<CodeExchange> {
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: client.redirectUri,
    client_id: client.clientId,
    code_verifier: codeVerifier,
  });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (client.clientSecret)
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`;
  const response = await fetch(provider.token_endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`the token endpoint answered HTTP ${response.status}`);
  const tokens = (await response.json()) as { access_token?: unknown; id_token?: unknown; expires_in?: unknown };
  if (typeof tokens.access_token !== 'string' || typeof tokens.id_token !== 'string') throw new Error('the token endpoint gave no access_token or id_token');
  const { payload } = await jwtVerify(tokens.id_token, createRemoteJWKSet(new URL(provider.jwks_uri)), { issuer: provider.issuer, audience: client.clientId });
  if (payload.nonce !== nonce) throw new Error('the ID token is not for this sign-in (nonce)');
  const expiresIn = typeof tokens.expires_in === 'number' && tokens.expires_in > 0 ? tokens.expires_in : undefined;
  return { accessToken: tokens.access_token, idToken: payload, expiresAt: expiresIn === undefined ? undefined : Date.now() + expiresIn * 1000 };
}
