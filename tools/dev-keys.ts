/**
 * Development-only signing keys, so `npm start` works end to end without an identity provider:
 * one key stands in for the identity provider (`npm run dev:token` signs with it), one is
 * payment-orchestration's service-token key. Both are kept in .cache/dev-keys.json (git-ignored)
 * and reused across starts. Never used when AUTH_JWKS or AUTH_JWKS_URL is set.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { JWK } from 'jose';
import { exportJWK, generateKeyPair } from 'jose';

export interface DevKeys {
  identityProvider: JWK;
  orchestrationService: JWK;
  /** The support service's key for its refund requests to orchestration (added to older files on first use). */
  supportService: JWK;
}

export const DEV_KEYS_FILE = resolve(__dirname, '..', '.cache', 'dev-keys.json');

async function newKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
}

export async function loadDevKeys(): Promise<DevKeys> {
  if (existsSync(DEV_KEYS_FILE)) {
    const kept = JSON.parse(readFileSync(DEV_KEYS_FILE, 'utf8')) as Partial<DevKeys> & Omit<DevKeys, 'supportService'>;
    if (kept.supportService) return kept as DevKeys;
    const keys: DevKeys = { ...kept, supportService: await newKey('dev-support') };
    writeFileSync(DEV_KEYS_FILE, JSON.stringify(keys, null, 2), { mode: 0o600 });
    return keys;
  }
  const keys: DevKeys = {
    identityProvider: await newKey('dev-identity-provider'),
    orchestrationService: await newKey('dev-payment-orchestration'),
    supportService: await newKey('dev-support'),
  };
  mkdirSync(dirname(DEV_KEYS_FILE), { recursive: true });
  writeFileSync(DEV_KEYS_FILE, JSON.stringify(keys, null, 2), { mode: 0o600 });
  return keys;
}

/** The public half of a private JWK. */
export function publicJwk(key: JWK): JWK {
  const { d: _d, ...rest } = key;
  return rest;
}

/**
 * `AUTH_KEY_GRANTS` for payment-orchestration's service key: it signs for itself, as a service,
 * with the one scope it needs; every other claim made with that key is refused by every service.
 */
export function orchestrationKeyGrants(kid: string): string {
  return JSON.stringify({ [kid]: { subjects: ['payment-orchestration'], roles: ['service'], scopes: ['instruments:read'] } });
}

/** `AUTH_KEY_GRANTS` for the support service's key: it signs as itself, a service, for orchestration's refund route (no scope). */
export function supportKeyGrants(kid: string): Record<string, { subjects: string[]; roles: string[]; scopes: string[] }> {
  return { [kid]: { subjects: ['support'], roles: ['service'], scopes: [] } };
}
