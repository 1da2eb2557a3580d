/**
 * Development-only signing keys, so `npm start` works end to end without an identity provider:
 * one key stands in for the identity provider (`npm run dev:token` signs with it), one is
 * payment-orchestration's service-token key, and one per app backend (`npm run dev:token -- --app
 * instagram`), each granted only its own subject, app, merchants and the app backends' scopes.
 * All are kept in .cache/dev-keys.json (git-ignored) and reused across starts. Never used when
 * AUTH_JWKS or AUTH_JWKS_URL is set.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { JWK } from 'jose';
import { exportJWK, generateKeyPair } from 'jose';
import { APP_BACKEND_SCOPES, MANDATE_ATTEST_SCOPE, PAY_HUB_SUBJECT, REFUND_APPROVE_SCOPE } from '@pay/auth';

/** The apps whose backends get a development key, and the merchants each acts for. */
export const DEV_APP_BACKENDS: Readonly<Record<string, readonly string[]>> = {
  facebook: ['facebook-shop', 'np-unicef', 'np-red-cross'],
  instagram: ['instagram-shop'],
  messenger: ['messenger-shop'],
  whatsapp: ['whatsapp-shop'],
};

export interface DevKeys {
  identityProvider: JWK;
  orchestrationService: JWK;
  /** By app (files written before these keys existed get them on the next start). */
  appBackends?: Record<string, JWK>;
  /** The support service's key for its refund requests to orchestration (added to older files on first use). */
  supportService?: JWK;
  /** The Pay Hub's key for its mandate attestations to the wallet (added to older files on first use). */
  payHub?: JWK;
}

export const DEV_KEYS_FILE = resolve(__dirname, '..', '.cache', 'dev-keys.json');

async function newKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
}

export async function loadDevKeys(): Promise<DevKeys> {
  const keys: DevKeys = existsSync(DEV_KEYS_FILE)
    ? (JSON.parse(readFileSync(DEV_KEYS_FILE, 'utf8')) as DevKeys)
    : { identityProvider: await newKey('dev-identity-provider'), orchestrationService: await newKey('dev-payment-orchestration') };
  const missing = Object.keys(DEV_APP_BACKENDS).filter((app) => !keys.appBackends?.[app]);
  if (missing.length === 0 && keys.supportService && keys.payHub && existsSync(DEV_KEYS_FILE)) return keys;
  keys.appBackends = { ...keys.appBackends };
  for (const app of missing) keys.appBackends[app] = await newKey(`dev-${app}-backend`);
  keys.supportService ??= await newKey('dev-support');
  keys.payHub ??= await newKey('dev-pay-hub');
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
 * with the scopes it needs (its tokens read instruments; its attestations vouch for the funds
 * commands it sends the wallet); every other claim made with that key is refused by every service.
 */
export function orchestrationKeyGrants(kid: string): string {
  return JSON.stringify({ [kid]: { subjects: ['payment-orchestration'], roles: ['service'], scopes: ['funds:command', 'instruments:read'] } });
}

/** An app backend's grant: its own subject (`<app>-backend`), its app, its merchants, the app backends' scopes. */
export function appBackendGrant(app: string, merchants: readonly string[]): Record<string, unknown> {
  return { subjects: [`${app}-backend`], roles: ['service'], scopes: [...APP_BACKEND_SCOPES], apps: [app], merchants: [...merchants] };
}

/** `AUTH_KEY_GRANTS` for the support service's key: it signs as itself, a service, for orchestration's refund route (`payments:refund` only). */
export function supportKeyGrants(kid: string): Record<string, { subjects: string[]; roles: string[]; scopes: string[] }> {
  return { [kid]: { subjects: ['support'], roles: ['service'], scopes: ['payments:refund'] } };
}

/**
 * `AUTH_KEY_GRANTS` for the Pay Hub's key: it signs as itself, a service, only its mandate
 * attestations to the wallet (`mandates:attest`) and its approvals of agents' refunds (`refunds:approve`).
 */
export function payHubKeyGrants(kid: string): Record<string, { subjects: string[]; roles: string[]; scopes: string[] }> {
  return { [kid]: { subjects: [PAY_HUB_SUBJECT], roles: ['service'], scopes: [MANDATE_ATTEST_SCOPE, REFUND_APPROVE_SCOPE] } };
}

/** `AUTH_KEY_GRANTS` for every development key that is not the identity provider's. */
export function devKeyGrants(keys: DevKeys): string {
  const grants: Record<string, unknown> = JSON.parse(orchestrationKeyGrants(keys.orchestrationService.kid as string)) as Record<string, unknown>;
  for (const [app, key] of Object.entries(keys.appBackends ?? {})) grants[key.kid as string] = appBackendGrant(app, DEV_APP_BACKENDS[app] ?? []);
  if (keys.supportService) Object.assign(grants, supportKeyGrants(keys.supportService.kid as string));
  if (keys.payHub) Object.assign(grants, payHubKeyGrants(keys.payHub.kid as string));
  return JSON.stringify(grants);
}
