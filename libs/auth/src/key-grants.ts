import type { Role } from './principal';
import { isRole, SUBJECT_PATTERN } from './principal';

/** A scope names a resource and what may be done with it: `instruments:read`, `payments:initiate`. */
export const SCOPE_PATTERN = /^[a-z][a-z-]{0,40}:[a-z][a-z-]{0,40}$/;

/**
 * What the tokens signed by one key (by `kid`) may claim. The identity provider's own keys have
 * no grant and may sign for anyone; a service's own signing key (payment-orchestration's) has
 * one, so that code running in that service cannot mint an operator's, an advertiser's or a
 * person's token, nor give itself scopes it was not registered for.
 */
export interface KeyGrant {
  readonly subjects: readonly string[];
  readonly roles: readonly Role[];
  readonly scopes: readonly string[];
  /** The apps (`app` claim) its tokens may act for; none: its tokens may name no app. */
  readonly apps: readonly string[];
  /** The merchants (`merchants` claim of a service) its tokens may act for; none: no merchant. */
  readonly merchants: readonly string[];
}

/** An app's name in the `app` claim: `instagram`. */
export const APP_PATTERN = /^[a-z][a-z0-9-]{0,40}$/;

/**
 * The scopes an app's backend (`service:<app>-backend`) is registered with, and no more: ask for
 * payments of its app, look up, read and refund the payments of the merchants it acts for, read
 * those merchants' history. Never instruments, the ledger or a person's consent.
 */
export const APP_BACKEND_SCOPES = ['history:read', 'payments:initiate', 'payments:read', 'payments:refund'] as const;

export type KeyGrants = ReadonlyMap<string, KeyGrant>;

/**
 * `AUTH_KEY_GRANTS`: `{"<kid>": {"subjects": [...], "roles": [...], "scopes": [...], "apps"?: [...], "merchants"?: [...]}, ...}`.
 * Throws with what is wrong; an empty object grants nothing special.
 */
export function parseKeyGrants(json: string, name = 'AUTH_KEY_GRANTS'): KeyGrants {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(`${name} is not JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${name} must be an object of key ids`);
  const grants = new Map<string, KeyGrant>();
  for (const [kid, grant] of Object.entries(parsed as Record<string, unknown>)) {
    const { subjects, roles, scopes, apps, merchants } = (grant ?? {}) as Record<string, unknown>;
    const list = (value: unknown, valid: (item: string) => boolean, what: string): string[] => {
      if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && valid(item))) {
        throw new Error(`${name}["${kid}"].${what} must be a list of ${what}`);
      }
      return [...new Set(value as string[])].sort();
    };
    grants.set(kid, {
      subjects: list(subjects, (item) => SUBJECT_PATTERN.test(item), 'subjects'),
      roles: list(roles, isRole, 'roles') as Role[],
      scopes: list(scopes, (item) => SCOPE_PATTERN.test(item), 'scopes'),
      apps: list(apps ?? [], (item) => APP_PATTERN.test(item), 'apps'),
      merchants: list(merchants ?? [], (item) => SUBJECT_PATTERN.test(item), 'merchants'),
    });
  }
  return grants;
}

export function isKeyGrants(json: unknown): boolean {
  if (typeof json !== 'string') return false;
  try {
    parseKeyGrants(json);
    return true;
  } catch {
    return false;
  }
}

/** Why a token signed by a granted key claims more than its grant, or undefined when it does not. */
export function exceedsGrant(
  grant: KeyGrant,
  claims: { subject: string; role: Role; scopes: readonly string[]; app?: string; merchants?: readonly string[] },
): string | undefined {
  if (!grant.subjects.includes(claims.subject)) return `may not sign for subject "${claims.subject}"`;
  if (!grant.roles.includes(claims.role)) return `may not sign for role "${claims.role}"`;
  const extra = claims.scopes.filter((scope) => !grant.scopes.includes(scope));
  if (extra.length > 0) return `may not grant scope ${extra.map((scope) => `"${scope}"`).join(', ')}`;
  if (claims.app !== undefined && !grant.apps.includes(claims.app)) return `may not act for app "${claims.app}"`;
  const otherMerchants = (claims.merchants ?? []).filter((merchant) => !grant.merchants.includes(merchant));
  if (otherMerchants.length > 0) return `may not act for merchant ${otherMerchants.map((merchant) => `"${merchant}"`).join(', ')}`;
  return undefined;
}
