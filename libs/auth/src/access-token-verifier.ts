import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { JSONWebKeySet, JWTPayload, JWTVerifyGetKey } from 'jose';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify } from 'jose';
import { AuthenticationError, keySetUnavailable, toAuthenticationError } from './auth-errors';
import { DEFAULT_ALGORITHMS, keySetFailuresAs } from './key-set';
import type { KeyGrants } from './key-grants';
import { APP_PATTERN, exceedsGrant, SCOPE_PATTERN } from './key-grants';
import type { Principal } from './principal';
import { isRole, MAX_MERCHANTS_PER_TOKEN, ROLES, SUBJECT_PATTERN } from './principal';
import type { MandateAttestation } from './mandate-attestation';
import { MANDATE_ATTEST_SCOPE, MANDATE_ATTESTATION_LIFETIME_SECONDS, MANDATE_ATTESTATION_TYPE, PAY_HUB_SUBJECT } from './mandate-attestation';
import type { VerifiedSupportCase } from './support-case';
import { SUPPORT_CASE_LIFETIME_SECONDS, SUPPORT_CASE_TYPE, SUPPORT_SERVICE_SUBJECT } from './support-case';

/** Skew allowed on a support case's expiry (access tokens: `clockToleranceSeconds`, 30 s). */
const SUPPORT_CASE_CLOCK_TOLERANCE_SECONDS = 5;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MINOR_UNITS = /^[1-9][0-9]{0,18}$/;
const CURRENCY = /^[A-Z]{3}$/;

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
   * A support case reference (`Support-Case` header, `support-case+jwt`): signed by a key whose
   * grant (`AUTH_KEY_GRANTS`) registers it for the support service (subject `support`, role
   * `service`, scope `payments:refund`) — never the identity provider's keys, which have no grant —
   * for our issuer and audience, at most SUPPORT_CASE_LIFETIME_SECONDS long and not expired.
   * Throws AuthenticationError with what was wrong (or KeySetUnavailableError).
   */
  async verifySupportCase(token: string): Promise<VerifiedSupportCase> {
    // Skew allowed, but not the access tokens' 30 s: a case lives for its one request only.
    const { payload, typ, kid } = await this.verifyJws(token, 'support case', ['sub', 'exp', 'iat'], this.now(), SUPPORT_CASE_CLOCK_TOLERANCE_SECONDS);
    if (typ !== SUPPORT_CASE_TYPE) throw new AuthenticationError('bad-claims', `the support case must be of type "${SUPPORT_CASE_TYPE}"`);
    const grant = kid === undefined ? undefined : this.options.keyGrants?.get(kid);
    if (
      !grant ||
      exceedsGrant(grant, { subject: SUPPORT_SERVICE_SUBJECT, role: 'service', scopes: ['payments:refund'] }) ||
      payload.sub !== SUPPORT_SERVICE_SUBJECT
    ) {
      throw new AuthenticationError('bad-signature', "the support case is not signed by the support service's registered key");
    }
    if ((payload.exp as number) - (payload.iat as number) > SUPPORT_CASE_LIFETIME_SECONDS) {
      throw new AuthenticationError('bad-claims', `a support case is good for at most ${SUPPORT_CASE_LIFETIME_SECONDS} seconds`);
    }
    const { conversation, agent, payment, idempotency_key: idempotencyKey, amount, jti } = payload;
    const money = (amount ?? {}) as Record<string, unknown>;
    if (
      typeof conversation !== 'string' ||
      !UUID.test(conversation) ||
      typeof agent !== 'string' ||
      !SUBJECT_PATTERN.test(agent) ||
      typeof payment !== 'string' ||
      !SUBJECT_PATTERN.test(payment) ||
      typeof idempotencyKey !== 'string' ||
      !UUID.test(idempotencyKey) ||
      typeof money.amount !== 'string' ||
      !MINOR_UNITS.test(money.amount) ||
      typeof money.currency !== 'string' ||
      !CURRENCY.test(money.currency) ||
      typeof jti !== 'string' ||
      !UUID.test(jti)
    ) {
      throw new AuthenticationError(
        'bad-claims',
        'the support case must name a conversation, an agent, a payment, an Idempotency-Key, an amount and its id (jti)',
      );
    }
    return {
      caseId: jti,
      expiresAt: new Date((payload.exp as number) * 1000),
      conversationId: conversation,
      agentId: agent,
      paymentId: payment,
      idempotencyKey,
      amount: { amount: money.amount, currency: money.currency },
    };
  }

  /**
   * The Pay Hub's attestation of a mandate acceptance (`Mandate-Attestation` header,
   * `mandate-attestation+jwt`): signed by a key whose grant registers it for the hub (subject
   * `pay-hub`, role `service`, scope `mandates:attest`) — never the identity provider's keys nor an
   * app backend's — for our issuer and audience, at most a minute long and not expired, naming a
   * person, an account digest and what the hub saw. Throws AuthenticationError (or KeySetUnavailableError).
   */
  async verifyMandateAttestation(token: string): Promise<MandateAttestation> {
    const { payload, typ, kid } = await this.verifyJws(token, 'mandate attestation', ['sub', 'exp', 'iat'], this.now());
    if (typ !== MANDATE_ATTESTATION_TYPE) throw new AuthenticationError('bad-claims', `the mandate attestation must be of type "${MANDATE_ATTESTATION_TYPE}"`);
    const grant = kid === undefined ? undefined : this.options.keyGrants?.get(kid);
    if (!grant || exceedsGrant(grant, { subject: PAY_HUB_SUBJECT, role: 'service', scopes: [MANDATE_ATTEST_SCOPE] }) || payload.sub !== PAY_HUB_SUBJECT) {
      throw new AuthenticationError('bad-signature', "the mandate attestation is not signed by a key registered to attest mandates (the Pay Hub's)");
    }
    if ((payload.exp as number) - (payload.iat as number) > MANDATE_ATTESTATION_LIFETIME_SECONDS) {
      throw new AuthenticationError('bad-claims', `a mandate attestation is good for at most ${MANDATE_ATTESTATION_LIFETIME_SECONDS} seconds`);
    }
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

  /**
   * The access token of the support agent a case names (`Support-Agent-Token`, forwarded by the
   * support service from the agent's own request): issued by the identity provider — a key without
   * a grant in `AUTH_KEY_GRANTS`, so never support's own key or another service's — for our issuer
   * and audience, not expired, role `support`, subject `agentId`. So support's key alone (code
   * running in support) cannot start a refund: it needs a live token of the agent the case names.
   * Throws AuthenticationError with what was wrong (or KeySetUnavailableError).
   */
  async verifySupportAgent(token: string, agentId: string): Promise<Principal> {
    let verified: { principal: Principal; granted: boolean };
    try {
      verified = await this.verifyToken(token);
    } catch (error) {
      if (error instanceof AuthenticationError) throw new AuthenticationError(error.reason, error.message.replace('access token', "agent's access token"));
      throw error;
    }
    const { principal, granted } = verified;
    if (granted)
      throw new AuthenticationError('bad-signature', "the agent's access token must be issued by the identity provider, not signed by a service's key");
    if (principal.role !== 'support')
      throw new AuthenticationError('bad-claims', `the agent's access token must be of role "support", not "${principal.role}"`);
    if (principal.subject !== agentId)
      throw new AuthenticationError('bad-claims', "the agent's access token is not the token of the agent the support case names");
    return principal;
  }

  private async verifyToken(token: string, at?: number): Promise<{ principal: Principal; expiresAt: number; granted: boolean }> {
    const { payload, typ, kid } = await this.verifyJws(token, 'access token', ['sub', 'exp'], at ?? this.now());
    if (!ACCESS_TOKEN_TYPES.has(typ)) {
      throw new AuthenticationError('bad-claims', `a token of type "${typ}" is not an access token`);
    }
    const { sub, role, jti, merchants, org, scope, exp, app } = payload;
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
    const grant = kid === undefined ? undefined : this.options.keyGrants?.get(kid);
    const excess = grant && exceedsGrant(grant, { subject: sub, role, scopes, ...serviceClaims });
    if (excess) throw new AuthenticationError('bad-claims', `the key "${kid}" ${excess}`);
    const granted = grant !== undefined;
    if (role === 'analyst') {
      // An analyst's organisation keys the pseudonyms it sees (optional: without, the analysts' shared one).
      if (org !== undefined && (typeof org !== 'string' || !SUBJECT_PATTERN.test(org))) {
        throw new AuthenticationError('bad-claims', 'an analyst\'s "org" must be 1 to 100 of letters, digits, "_", "-", ":" and "."');
      }
      return { principal: { subject: sub, role, tokenId, scopes, ...(typeof org === 'string' ? { organisation: org } : {}) }, expiresAt, granted };
    }
    if (role !== 'advertiser') return { principal: { subject: sub, role, tokenId, scopes, ...serviceClaims }, expiresAt, granted };
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
      granted,
    };
  }

  /**
   * The checks both kinds of token share: signature by the key set with an accepted algorithm,
   * issuer, audience, the required claims and expiry as of `at` (ms since the epoch). jose's
   * errors become AuthenticationError (or KeySetUnavailableError) naming `kind`.
   */
  private async verifyJws(
    token: string,
    kind: 'access token' | 'support case' | 'mandate attestation',
    requiredClaims: string[],
    at: number,
    clockToleranceSeconds = this.options.clockToleranceSeconds ?? 30,
  ): Promise<{ payload: JWTPayload; typ?: string; kid?: string }> {
    if (!this.keys) {
      // An access token is on every request: say that all of them are refused.
      const consequence = kind === 'access token' ? '; every request is refused' : '';
      throw new AuthenticationError('no-key-set', `this service has no token key set configured (AUTH_JWKS or AUTH_JWKS_URL)${consequence}`);
    }
    try {
      const { payload, protectedHeader } = await jwtVerify(token, this.keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
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
