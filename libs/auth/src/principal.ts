import type { ExecutionContext } from '@nestjs/common';
import { createParamDecorator } from '@nestjs/common';

/**
 * Who is calling. Every HTTP request of every service carries a signed access token naming the
 * subject and one role; the role decides what the subject may do:
 * - `person`: only their own wallet, methods and history (the subject is the person id), also when
 *   an app's backend holds the token for them (RFC 8693 delegation: `act`, below);
 * - `service`: a platform service or an app's backend as itself: never a person's resources
 *   (payment-orchestration alone reads a person's instruments, for a payment in progress);
 * - `analyst`: read-only history and aggregates, never one person's wallet;
 * - `operator`: rebuilds, verification, configuration reloads;
 * - `advertiser`: published ad-signal aggregates of the merchants its token names (`merchants`),
 *   for the organisation it names (`org`);
 * - `support`: a support agent: the chat queue, the conversations assigned to them, the timeline
 *   of a payment such a conversation is about, refunds within that payment's limits.
 */
export const ROLES = ['person', 'service', 'analyst', 'operator', 'advertiser', 'support'] as const;
export type Role = (typeof ROLES)[number];

/** Subjects become database keys and log fields: opaque ids, never free text. */
export const SUBJECT_PATTERN = /^[A-Za-z0-9_.:-]{1,100}$/;

export interface Principal {
  /** The `sub` claim: a person id for `person`, the calling app's id for `service`. */
  subject: string;
  role: Role;
  /** The token's `jti`, when it has one (audit). */
  tokenId?: string;
  /**
   * The token's `scope` claim (space-separated, RFC 9068), sorted and distinct: what a caller may
   * do beyond its role, e.g. `instruments:read` for payment-orchestration alone. Routes that need
   * one say so with `@RequireScopes`.
   */
  scopes: readonly string[];
  /**
   * The merchant ids the caller acts for (sorted, distinct): for an `advertiser`, whose aggregates
   * it may see (required); for a `service` (an app's backend), whose payments it may read and
   * refund and whose history it may read (none: no merchant's).
   */
  merchants?: readonly string[];
  /**
   * The app (`app` claim, e.g. `instagram`). For a `service`: the app whose backend calls; it asks
   * for payments in that app only (a platform service names none). For a `person`: the app whose
   * client the person signed in through (or whose backend holds the token, `actedBy`); such a token
   * sees that app's part of the person's history only (without: every app).
   */
  app?: string;
  /**
   * For `person` only: who acts for the person (`act.sub`, RFC 8693 §4.1): the subject of the app's
   * backend (`<app>-backend`) that the identity provider issued this token to by token exchange.
   * Such a token opens only the person's routes that allow it (`@AllowDelegated`), as the person would
   * there; never the PIN, passkeys or consent.
   */
  actedBy?: string;
  /**
   * The organisation the token acts for (`org` claim). For an `advertiser` (required): what it may
   * learn is limited per organisation (the privacy budget), so that its many users and tokens
   * share one limit instead of multiplying it. For an `analyst` (optional): the pseudonyms it sees
   * people by are its organisation's, so two organisations cannot join their exports.
   */
  organisation?: string;
}

export const MAX_MERCHANTS_PER_TOKEN = 1_000;

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Whether a `service` caller acts for this merchant (or non-profit): its `merchants` claim names it. */
export function actsForMerchant(principal: Principal, merchantId: string): boolean {
  return (principal.merchants ?? []).includes(merchantId);
}

/**
 * What an event or audit row records as the author of a change: `person:p-1`, `service:instagram-shop`;
 * a person's token held by an app's backend (`actedBy`) names both, `person:p-1 via instagram-backend`
 * (the wallet events' `actor`, libs/contracts): the audit trail says through which backend a change came.
 */
export function describeActor(principal: Principal): string {
  const actor = `${principal.role}:${principal.subject}`;
  return principal.actedBy !== undefined ? `${actor} via ${principal.actedBy}` : actor;
}

/**
 * Who makes the calls, for limits per caller: the backend acting for a person (`service:<backend>`)
 * rather than the person, so one backend's calls for many persons share one limit.
 */
export function describeCaller(principal: Principal): string {
  return principal.actedBy !== undefined ? `service:${principal.actedBy}` : `${principal.role}:${principal.subject}`;
}

/** What the guard adds to an authenticated request. */
export interface AuthenticatedRequest {
  principal?: Principal;
}

/** Parameter decorator: the request's authenticated caller (`@Principal() principal: Principal`). */
export const Principal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  // Only a @Public route has none, and such a route has no business asking for one.
  if (!principal) throw new Error('@Principal() used on a route without authentication');
  return principal;
});
