import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import type { JSONWebKeySet, JWTPayload, JWTVerifyGetKey } from 'jose';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify } from 'jose';
import { AuthenticationError, keySetUnavailable, toAuthenticationError } from './auth-errors';
import { FUNDS_COMMAND_ATTESTATION, FUNDS_COMMAND_ATTESTATION_HEADER, fundsCommandAsJson } from './funds-command-attestation';
import { DEFAULT_ALGORITHMS, keySetFailuresAs } from './key-set';
import type { KeyGrants } from './key-grants';
import { APP_PATTERN, exceedsGrant, SCOPE_PATTERN } from './key-grants';
import type { Principal } from './principal';
import { isRole, MAX_MERCHANTS_PER_TOKEN, ROLES, SUBJECT_PATTERN } from './principal';
import type { MandateAttestation } from './mandate-attestation';
import { MANDATE_ATTESTATION } from './mandate-attestation';
import type { VerifiedRefundApproval } from './refund-approval';
import { REFUND_APPROVAL } from './refund-approval';
import { refundClaims } from './refund-statement';
import type { VerifiedSupportCase } from './support-case';
import { SUPPORT_CASE } from './support-case';
import type { TypedJwsKind } from './typed-jws';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface AccessTokenOptions {
  /** Public keys inline (`AUTH_JWKS`). */
  jwks?: JSONWebKeySet;
  /** Or where the identity provider publishes them (`AUTH_JWKS_URL`); fetched and cached by kid. */
  jwksUrl?: string;
  /** How long a fetch of `jwksUrl` may take before the keys count as unavailable (default 3 s). */
  jwksTimeoutMs?: number;
  issuer: string;
  /** The audience (`aud`) every caller's token names, but an agent's (`AUTH_AUDIENCE`). */
  audience: string;
  /**
   * The audience of support agents' tokens (role `support`), set at the support service alone
   * (`AUTH_AGENT_AUDIENCE`): agents' tokens name it and nothing else, and no other role may name
   * it. Without it, as at every other service, an agent's token is refused.
   */
  agentAudience?: string;
  algorithms?: readonly string[];
  /** Skew allowed between our clock and the issuer's. */
  clockToleranceSeconds?: number;
  /**
   * How long a verified service token (role `service`) is taken again without checking its
   * signature (default 10 s; 0: never). Never past the token's own expiry.
   */
  serviceTokenCacheMs?: number;
  /** At most this many of them are remembered (default 256); the oldest goes first. */
  serviceTokenCacheSize?: number;
  /** What tokens signed by particular keys may claim (`AUTH_KEY_GRANTS`); other keys are the identity provider's. */
  keyGrants?: KeyGrants;
  /** The clock (ms since the epoch), for tests. */
  now?: () => number;
}

/**
 * Service tokens verified recently, by the SHA-256 of the token (the token itself is not kept),
 * each until min(verified + cache time, its expiry). Services reuse one token for minutes and
 * call each other on every payment: this saves an ES256 verification (~0.5 ms of CPU) per call.
 */
class VerifiedServiceTokens {
  private readonly entries = new Map<string, { principal: Principal; until: number; expiresAt: number }>();

  constructor(private readonly size: number) {}

  get(key: string, now: number): { principal: Principal; expiresAt: number } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (now < entry.until) return entry;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, principal: Principal, until: number, expiresAt: number): void {
    this.entries.delete(key);
    if (this.entries.size >= this.size) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { principal, until, expiresAt });
  }
}

/**
 * A person's token may name the app whose client the person signed in through (`app`) and, when the
 * identity provider issued it to that app's backend by token exchange (RFC 8693), who acts for them:
 * `act: {"sub": "<app>-backend"}` (§4.1), the backend of the same app, one level (no chain of actors).
 */
function delegationOf(app: unknown, act: unknown): { app?: string; actedBy?: string } {
  if (app !== undefined && (typeof app !== 'string' || !APP_PATTERN.test(app))) {
    throw new AuthenticationError('bad-claims', 'the access token\'s "app" must be an app\'s name, e.g. "instagram"');
  }
  if (act === undefined) return typeof app === 'string' ? { app } : {};
  const actor = act as Record<string, unknown> | null;
  if (actor === null || typeof actor !== 'object' || Array.isArray(actor) || typeof actor.sub !== 'string' || !SUBJECT_PATTERN.test(actor.sub)) {
    throw new AuthenticationError('bad-claims', 'the access token\'s "act" must be an object naming who acts: {"sub": "<app>-backend"}');
  }
  if (actor.act !== undefined) throw new AuthenticationError('bad-claims', 'the access token\'s "act" must name one actor, not a chain ("act" inside "act")');
  if (typeof app !== 'string' || actor.sub !== `${app}-backend`) {
    throw new AuthenticationError(
      'bad-claims',
      'a person\'s token held by an app\'s backend names its app ("app") and that app\'s backend in "act": {"sub": "<app>-backend"}',
    );
  }
  return { app, actedBy: actor.sub };
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
  private readonly verified?: VerifiedServiceTokens;
  private readonly now: () => number;

  constructor(private readonly options: AccessTokenOptions) {
    this.now = options.now ?? Date.now;
    if ((options.serviceTokenCacheMs ?? 10_000) > 0) this.verified = new VerifiedServiceTokens(options.serviceTokenCacheSize ?? 256);
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

  /**
   * The token's principal. `at` (ms since the epoch) judges its expiry as of that time instead of
   * now: a message's producer is authenticated as of when the message was written (a Kafka
   * record's timestamp), so consumer lag does not expire it.
   */
  async verify(token: string, at?: number): Promise<Principal> {
    if (!this.verified) return (await this.verifyToken(token, at)).principal;
    const key = createHash('sha256').update(token).digest('base64url');
    const now = this.now();
    const known = this.verified.get(key, now);
    // A cached token was valid when it was verified; as of an earlier or later `at` its expiry decides.
    if (known && (at === undefined || at <= known.expiresAt + (this.options.clockToleranceSeconds ?? 30) * 1000)) return known.principal;
    const { principal, expiresAt } = await this.verifyToken(token, at);
    if (principal.role === 'service') this.verified.set(key, principal, Math.min(now + (this.options.serviceTokenCacheMs ?? 10_000), expiresAt), expiresAt);
    return principal;
  }

  /**
   * A statement of one kind (`TypedJwsKind`: a support case, a mandate attestation, a refund
   * approval): of its `typ`, signed by a key whose grant (`AUTH_KEY_GRANTS`) registers it for the
   * kind's subject, role `service` and scope — never the identity provider's keys, which have no
   * grant — for our issuer and audience, at most the kind's lifetime long, unexpired (with the
   * kind's skew), with an id if the kind has one. Throws AuthenticationError with what was wrong
   * (or KeySetUnavailableError).
   */
  async verifyTypedJws(token: string, kind: TypedJwsKind): Promise<{ payload: JWTPayload; id?: string; expiresAt: Date }> {
    const { payload, typ, kid } = await this.verifyJws(token, kind.name, ['sub', 'exp', 'iat'], this.now(), kind.clockToleranceSeconds);
    if (typ !== kind.type) throw new AuthenticationError('bad-claims', `the ${kind.name} must be of type "${kind.type}"`);
    const grant = kid === undefined ? undefined : this.options.keyGrants?.get(kid);
    if (!grant || exceedsGrant(grant, { subject: kind.subject, role: 'service', scopes: [kind.scope] }) || payload.sub !== kind.subject) {
      throw new AuthenticationError(
        'bad-signature',
        `the ${kind.name} is not signed by a key registered for it (subject "${kind.subject}", scope "${kind.scope}")`,
      );
    }
    if ((payload.exp as number) - (payload.iat as number) > kind.lifetimeSeconds) {
      throw new AuthenticationError('bad-claims', `a ${kind.name} is good for at most ${kind.lifetimeSeconds} seconds`);
    }
    if (kind.withId && (typeof payload.jti !== 'string' || !UUID.test(payload.jti)))
      throw new AuthenticationError('bad-claims', `the ${kind.name} must have an id (jti)`);
    return { payload, ...(kind.withId ? { id: payload.jti } : {}), expiresAt: new Date((payload.exp as number) * 1000) };
  }

  /**
   * A support case reference (`Support-Case` header, `SUPPORT_CASE`): signed by support's
   * registered key (subject `support`, scope `payments:refund`), at most 15 s long, naming one
   * refund. Throws AuthenticationError with what was wrong (or KeySetUnavailableError).
   */
  async verifySupportCase(token: string): Promise<VerifiedSupportCase> {
    const { payload, id, expiresAt } = await this.verifyTypedJws(token, SUPPORT_CASE);
    return { caseId: id!, expiresAt, ...refundClaims(payload, SUPPORT_CASE.name) };
  }

  /**
   * The Pay Hub's approval of an agent's refund (`Refund-Approval` header, `REFUND_APPROVAL`):
   * signed by a key whose grant holds `refunds:approve` (the hub's; never support's, an app's or the
   * identity provider's), at most a minute long, naming one refund. An agent's access token is
   * refused by its `typ` and its key. Throws AuthenticationError (or KeySetUnavailableError).
   */
  async verifyRefundApproval(token: string): Promise<VerifiedRefundApproval> {
    const { payload, id, expiresAt } = await this.verifyTypedJws(token, REFUND_APPROVAL);
    return { approvalId: id!, expiresAt, ...refundClaims(payload, REFUND_APPROVAL.name) };
  }

  /**
   * payment-orchestration's attestation of a funds command (`FUNDS_COMMAND_ATTESTATION`): signed by a
   * key whose grant holds `funds:command` (orchestration's; never the identity provider's, an app's
   * or the wallet's), at most a week long, holding exactly this command (`command`: the record's
   * value as parsed JSON; member order aside). Throws AuthenticationError with what was wrong (or
   * KeySetUnavailableError).
   */
  async verifyFundsCommand(attestation: string | undefined, command: object): Promise<void> {
    if (attestation === undefined) {
      throw new AuthenticationError('missing', `a funds command needs payment-orchestration's attestation (header ${FUNDS_COMMAND_ATTESTATION_HEADER})`);
    }
    const { payload } = await this.verifyTypedJws(attestation, FUNDS_COMMAND_ATTESTATION);
    if (!isDeepStrictEqual(payload.command, fundsCommandAsJson(command))) {
      throw new AuthenticationError('bad-claims', 'the funds command attestation is for another command (its content differs)');
    }
  }

  /**
   * The Pay Hub's attestation of a mandate acceptance (`Mandate-Attestation` header,
   * `MANDATE_ATTESTATION`): signed by the hub's registered key (scope `mandates:attest`), at most a
   * minute long, naming a person, an account digest and what the hub saw. Throws
   * AuthenticationError (or KeySetUnavailableError).
   */
  async verifyMandateAttestation(token: string): Promise<MandateAttestation> {
    const { payload } = await this.verifyTypedJws(token, MANDATE_ATTESTATION);
    const { person, account } = payload;
    const mandate = (payload.mandate ?? {}) as Record<string, unknown>;
    const acceptedAt = typeof mandate.accepted_at === 'string' ? new Date(mandate.accepted_at) : undefined;
    if (
      typeof person !== 'string' ||
      !SUBJECT_PATTERN.test(person) ||
      typeof account !== 'string' ||
      !/^[0-9a-f]{64}$/.test(account) ||
      typeof mandate.text_version !== 'string' ||
      !/^[A-Za-z0-9._-]{1,40}$/.test(mandate.text_version) ||
      typeof mandate.ip_address !== 'string' ||
      isIP(mandate.ip_address) === 0 ||
      typeof mandate.user_agent !== 'string' ||
      mandate.user_agent.length === 0 ||
      mandate.user_agent.length > 512 ||
      !acceptedAt ||
      Number.isNaN(acceptedAt.getTime())
    ) {
      throw new AuthenticationError(
        'bad-claims',
        'the mandate attestation must name a person, an account digest, the text version, an IP address, a user agent and when',
      );
    }
    return { personId: person, account, textVersion: mandate.text_version, ipAddress: mandate.ip_address, userAgent: mandate.user_agent, acceptedAt };
  }

  private async verifyToken(token: string, at?: number): Promise<{ principal: Principal; expiresAt: number }> {
    const { agentAudience } = this.options;
    const audiences = agentAudience === undefined ? [this.options.audience] : [this.options.audience, agentAudience];
    const { payload, typ, kid } = await this.verifyJws(token, 'access token', ['sub', 'exp'], at ?? this.now(), undefined, audiences);
    if (!ACCESS_TOKEN_TYPES.has(typ)) {
      throw new AuthenticationError('bad-claims', `a token of type "${typ}" is not an access token`);
    }
    const { sub, role, jti, merchants, org, scope, exp, app, act } = payload;
    this.checkAudienceOfRole(role, typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []));
    const expiresAt = (exp as number) * 1000;
    if (typeof sub !== 'string' || !SUBJECT_PATTERN.test(sub)) {
      throw new AuthenticationError('bad-claims', 'the access token\'s "sub" must be 1 to 100 of letters, digits, "_", "-", ":" and "."');
    }
    if (!isRole(role)) {
      throw new AuthenticationError('bad-claims', `the access token's "role" must be one of ${ROLES.join(', ')}`);
    }
    const tokenId = typeof jti === 'string' ? jti : undefined;
    if (scope !== undefined && typeof scope !== 'string')
      throw new AuthenticationError('bad-claims', 'the access token\'s "scope" must be a space-separated string');
    const scopes = [...new Set((scope ?? '').split(' ').filter(Boolean))].sort();
    if (!scopes.every((item) => SCOPE_PATTERN.test(item)))
      throw new AuthenticationError('bad-claims', 'the access token\'s "scope" must list scopes like "instruments:read"');
    const validMerchants =
      Array.isArray(merchants) &&
      merchants.length <= MAX_MERCHANTS_PER_TOKEN &&
      merchants.every((merchant) => typeof merchant === 'string' && SUBJECT_PATTERN.test(merchant));
    if (role === 'service') {
      // An app's backend names its app and the merchants it acts for; a platform service neither.
      if (app !== undefined && (typeof app !== 'string' || !APP_PATTERN.test(app))) {
        throw new AuthenticationError('bad-claims', 'the access token\'s "app" must be an app\'s name, e.g. "instagram"');
      }
      if (merchants !== undefined && !validMerchants) {
        throw new AuthenticationError('bad-claims', `a service's "merchants" must list 0 to ${MAX_MERCHANTS_PER_TOKEN} merchant ids`);
      }
    }
    const serviceClaims =
      role === 'service'
        ? { ...(typeof app === 'string' ? { app } : {}), ...(merchants !== undefined ? { merchants: [...new Set(merchants as string[])].sort() } : {}) }
        : {};
    const personClaims = role === 'person' ? delegationOf(app, act) : {};
    if (role !== 'person' && act !== undefined) {
      throw new AuthenticationError('bad-claims', 'only a person\'s access token may name who acts for them ("act")');
    }
    const grant = kid === undefined ? undefined : this.options.keyGrants?.get(kid);
    const excess = grant && exceedsGrant(grant, { subject: sub, role, scopes, ...serviceClaims, ...personClaims });
    if (excess) throw new AuthenticationError('bad-claims', `the key "${kid}" ${excess}`);
    if (role === 'person') return { principal: { subject: sub, role, tokenId, scopes, ...personClaims }, expiresAt };
    if (role === 'analyst') {
      // An analyst's organisation keys the pseudonyms it sees (optional: without, the analysts' shared one).
      if (org !== undefined && (typeof org !== 'string' || !SUBJECT_PATTERN.test(org))) {
        throw new AuthenticationError('bad-claims', 'an analyst\'s "org" must be 1 to 100 of letters, digits, "_", "-", ":" and "."');
      }
      return { principal: { subject: sub, role, tokenId, scopes, ...(typeof org === 'string' ? { organisation: org } : {}) }, expiresAt };
    }
    if (role !== 'advertiser') return { principal: { subject: sub, role, tokenId, scopes, ...serviceClaims }, expiresAt };
    // An advertiser sees only the merchants its token names: no claim, no access.
    if (!validMerchants || (merchants as unknown[]).length === 0) {
      throw new AuthenticationError(
        'bad-claims',
        `an advertiser's access token must name the merchants it may see: "merchants", 1 to ${MAX_MERCHANTS_PER_TOKEN} merchant ids`,
      );
    }
    // …and spends its organisation's privacy budget: no organisation, no access.
    if (typeof org !== 'string' || !SUBJECT_PATTERN.test(org)) {
      throw new AuthenticationError(
        'bad-claims',
        'an advertiser\'s access token must name its organisation: "org", 1 to 100 of letters, digits, "_", "-", ":" and "."',
      );
    }
    return {
      principal: { subject: sub, role, tokenId, scopes, merchants: [...new Set(merchants as string[])].sort(), organisation: org },
      expiresAt,
    };
  }

  /**
   * Agents' tokens are for the support service alone: one names the agents' audience and no other
   * (so no other service takes it, whatever its role checks), and only an agent's names it.
   */
  private checkAudienceOfRole(role: unknown, audiences: string[]): void {
    const { audience, agentAudience } = this.options;
    if (role === 'support') {
      if (agentAudience === undefined) throw new AuthenticationError('bad-claims', "a support agent's token is accepted by the support service alone");
      if (audiences.length !== 1 || audiences[0] !== agentAudience) {
        throw new AuthenticationError('bad-claims', `a support agent's token must name the audience "${agentAudience}" and no other`);
      }
    } else if (!audiences.includes(audience)) {
      throw new AuthenticationError('bad-claims', `the access token's audience must include "${audience}" (only support agents' tokens name another)`);
    }
  }

  /**
   * The checks both kinds of token share: signature by the key set with an accepted algorithm,
   * issuer, audience (one of `audiences`), the required claims and expiry as of `at` (ms since
   * the epoch). jose's errors become AuthenticationError (or KeySetUnavailableError) naming `kind`.
   */
  private async verifyJws(
    token: string,
    kind: string,
    requiredClaims: string[],
    at: number,
    clockToleranceSeconds = this.options.clockToleranceSeconds ?? 30,
    audiences: string[] = [this.options.audience],
  ): Promise<{ payload: JWTPayload; typ?: string; kid?: string }> {
    if (!this.keys) {
      // An access token is on every request: say that all of them are refused.
      const consequence = kind === 'access token' ? '; every request is refused' : '';
      throw new AuthenticationError('no-key-set', `this service has no token key set configured (AUTH_JWKS or AUTH_JWKS_URL)${consequence}`);
    }
    try {
      const { payload, protectedHeader } = await jwtVerify(token, this.keys, {
        issuer: this.options.issuer,
        audience: audiences,
        algorithms: [...(this.options.algorithms ?? DEFAULT_ALGORITHMS)],
        clockTolerance: Math.min(clockToleranceSeconds, this.options.clockToleranceSeconds ?? 30),
        requiredClaims,
        currentDate: new Date(at),
      });
      return { payload, typ: protectedHeader.typ, kid: protectedHeader.kid };
    } catch (error) {
      const refused = toAuthenticationError(error);
      // toAuthenticationError speaks of access tokens.
      if (kind !== 'access token' && refused instanceof AuthenticationError)
        throw new AuthenticationError(refused.reason, refused.message.replace('access token', kind));
      throw refused;
    }
  }
}
