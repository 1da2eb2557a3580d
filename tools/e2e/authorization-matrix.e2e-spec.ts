/**
 * The authorization matrix, from the services' own OpenAPI documents: every route of the five
 * services × no token and every role (and, for services, with and without the scopes a route
 * asks for). RULES below is the policy, written down: a route the documents serve that RULES does
 * not name fails the test, so a route added later must come with its rule. A route a role may not
 * call answers 403 before any handler runs; one it may call never refuses it for its role; a
 * person naming another person's id gets the 404 of a person that does not exist, never data.
 * An app's backend's own token opens no person's route (403); it acts for a person with the
 * person's token the identity provider issued it (RFC 8693: `act`), which opens the routes that
 * allow delegation for that person alone, and 403 on the person's own (PIN, passkeys, consent).
 * Charge data goes to payment-orchestration's subject alone, whatever scopes another token claims.
 * A support agent's token (the support service's audience alone) is refused as a token (401) by
 * every other service. A token signed with payment-orchestration's own key (registered in
 * AUTH_KEY_GRANTS as production registers it) for any other subject, role or scope — what code
 * running in orchestration's pod could mint — is refused (401) by every service on every route.
 */
import type { TestIssuer } from '@pay/auth/testing';
import { createTestIssuer } from '@pay/auth/testing';
import { APP_BACKEND_SCOPES } from '@pay/auth';
import type { RunningService, ServiceDefinition } from '@pay/platform';
import { createService } from '@pay/platform';
import { dropSchema, testConsumerGroupsEnv, testDatabaseUrl, testKafkaEnv, uniqueName } from '@pay/testing';
import { adSignalAggregationService } from '@pay/ad-signal-aggregation/tools';
import { historyProjectionService } from '@pay/history-projection/tools';
import { paymentOrchestrationService } from '@pay/payment-orchestration/tools';
import { supportService } from '@pay/support/tools';
import { walletService } from '@pay/wallet/tools';
import { orchestrationKeyGrants } from '../dev-keys';

type Role = 'person' | 'service' | 'analyst' | 'operator' | 'advertiser' | 'support';
const ROLES: readonly Role[] = ['person', 'service', 'analyst', 'operator', 'advertiser', 'support'];

interface Rule {
  /** Who may call the route; `public` needs no token. */
  roles: readonly Role[] | 'public';
  /** Scopes a service needs besides its role. */
  scopes?: readonly string[];
  /** The services (token subjects) the route is for, besides the scopes: any other subject with the scopes gets 403. */
  serviceSubjects?: readonly string[];
  /** A person's token that an app's backend holds for them (`act`) opens it too; without, 403. */
  delegated?: true;
  /**
   * The support service's own identity (subject `support`, no app) acts here only with the case
   * reference it signed for this very request (`Support-Case`): without one, 403 SUPPORT_CASE_REFUSED
   * (and with one, only with the Pay Hub's approval of the same refund, `Refund-Approval`: tested in
   * support-refund.e2e-spec.ts, which holds support's and the hub's keys).
   */
  supportCase?: true;
}

/** A person's own, also through an app's backend holding the person's token; never a service's own token (an app's backend's included). */
const PERSON_SELF: Rule = { roles: ['person'], delegated: true };
/** The person's own, not through a backend. */
const PERSON_ONLY: Rule = { roles: ['person'] };
/** Charge data: payment-orchestration alone, with its scope. */
const INSTRUMENTS: Rule = { roles: ['service'], scopes: ['instruments:read'], serviceSubjects: ['payment-orchestration'] };
const BUSINESS_HISTORY: Rule = { roles: ['service', 'analyst'], scopes: ['history:read'] };

/** The policy: `<service> <METHOD> <OpenAPI path>` → who may call it. */
const RULES: Readonly<Record<string, Rule>> = {
  // Every service
  ...Object.fromEntries(
    ['wallet', 'payment-orchestration', 'history-projection', 'ad-signal-aggregation', 'support'].flatMap((service) => [
      [`${service} GET /health/live`, { roles: 'public' }],
      [`${service} GET /health/ready`, { roles: 'public' }],
    ]),
  ),
  // wallet: a person's own wallet, also through an app's backend holding the person's token
  'wallet POST /v1/wallets/{personId}': PERSON_SELF,
  'wallet GET /v1/wallets/{personId}': PERSON_SELF,
  'wallet PUT /v1/wallets/{personId}/apps': PERSON_SELF,
  'wallet PUT /v1/wallets/{personId}/apps/{app}': PERSON_SELF,
  'wallet POST /v1/wallets/{personId}/payment-methods/cards': PERSON_SELF,
  'wallet POST /v1/wallets/{personId}/payment-methods/paypal-accounts': PERSON_SELF,
  'wallet POST /v1/wallets/{personId}/payment-methods/bank-accounts': PERSON_SELF,
  'wallet POST /v1/wallets/{personId}/payment-methods/us-bank-accounts': PERSON_SELF,
  'wallet POST /v1/wallets/{personId}/payment-methods/{methodId}/microdeposits': PERSON_SELF,
  'wallet POST /v1/wallets/{personId}/payment-methods/stripe-customers': PERSON_SELF,
  'wallet GET /v1/wallets/{personId}/payment-methods': PERSON_SELF,
  'wallet GET /v1/wallets/{personId}/payment-methods/{methodId}': PERSON_SELF,
  'wallet PATCH /v1/wallets/{personId}/payment-methods/{methodId}': PERSON_SELF,
  'wallet DELETE /v1/wallets/{personId}/payment-methods/{methodId}': PERSON_SELF,
  'wallet PUT /v1/wallets/{personId}/payment-methods/{methodId}/preferred': PERSON_SELF,
  // The PIN is the person's own: set and changed by the person alone (a backend may confirm with it, below).
  'wallet POST /v1/wallets/{personId}/pin': PERSON_ONLY,
  'wallet PUT /v1/wallets/{personId}/pin': PERSON_ONLY,
  'wallet POST /v1/wallets/{personId}/step-up/pin': PERSON_SELF,
  'wallet POST /v1/wallets/{personId}/step-up/biometric': PERSON_SELF,
  'wallet POST /v1/wallets/{personId}/step-up/biometric/options': PERSON_SELF,
  // Passkeys are registered, listed and removed by the person's own browser only, never by a backend for them.
  'wallet POST /v1/wallets/{personId}/passkeys/registration-options': PERSON_ONLY,
  'wallet POST /v1/wallets/{personId}/passkeys': PERSON_ONLY,
  'wallet GET /v1/wallets/{personId}/passkeys': PERSON_ONLY,
  'wallet DELETE /v1/wallets/{personId}/passkeys/{passkeyId}': PERSON_ONLY,
  // Consent is the person's own choice: no service sets it
  'wallet PUT /v1/wallets/{personId}/consents/ad-measurement': PERSON_ONLY,
  'wallet PUT /v1/wallets/{personId}/contact': PERSON_SELF,
  // Charge data: payment-orchestration alone, with its scope
  'wallet GET /v1/wallets/{personId}/payment-instruments/preferred': INSTRUMENTS,
  'wallet GET /v1/wallets/{personId}/payment-instruments/{methodId}': INSTRUMENTS,
  // Several releases at once (each ask names its person): the same
  'wallet POST /v1/payment-instruments/releases': INSTRUMENTS,
  'wallet GET /.well-known/step-up-jwks.json': { roles: 'public' },
  'wallet GET /v1/rollout': { roles: ['person', 'service', 'analyst', 'operator'] },
  'wallet POST /v1/rollout/reload': { roles: ['operator'] },
  // Lifting a PIN block after support re-verified the person (audited with the case)
  'wallet POST /v1/support/wallets/{personId}/pin/unblock': { roles: ['operator'] },
  // The ledger's HTTP API: raw writes need ledger:write (no production caller holds it), reads
  // and corrections are for operators (docs/security.md, "The ledger's API")
  'wallet POST /v1/ledger/accounts': { roles: ['service'], scopes: ['ledger:write'] },
  'wallet GET /v1/ledger/accounts/{id}': { roles: ['operator'] },
  'wallet GET /v1/ledger/accounts/{id}/balance': { roles: ['operator'] },
  'wallet GET /v1/ledger/accounts/{id}/statement': { roles: ['operator'] },
  'wallet POST /v1/ledger/reservations': { roles: ['service'], scopes: ['ledger:write'] },
  'wallet POST /v1/ledger/reservations/{id}/post': { roles: ['service'], scopes: ['ledger:write'] },
  'wallet POST /v1/ledger/reservations/{id}/void': { roles: ['service'], scopes: ['ledger:write'] },
  'wallet POST /v1/ledger/transactions': { roles: ['service'], scopes: ['ledger:write'] },
  'wallet POST /v1/ledger/corrections': { roles: ['operator'] },
  // payment-orchestration
  // An app's backend, in its own app (the token's `app`)
  'payment-orchestration POST /v1/payments': { roles: ['service'], scopes: ['payments:initiate'] },
  // A producer's lookup of its request's payment (by requestId and payer): its own app's only.
  'payment-orchestration GET /v1/payments': { roles: ['service'], scopes: ['payments:initiate'] },
  // Operators any; a service the payments to the merchants its token names (another's: 404)
  'payment-orchestration GET /v1/payments/{paymentId}': { roles: ['service', 'operator'], scopes: ['payments:read'] },
  // …and the support service only the payment of its agent's claimed conversation, with the case it signed (docs/security.md)
  'payment-orchestration POST /v1/payments/{paymentId}/refunds': { roles: ['service', 'operator'], scopes: ['payments:refund'], supportCase: true },
  // A manual payment's capture or void: the merchant's own backend (its merchants only, another's: 404) or an operator.
  'payment-orchestration POST /v1/payments/{paymentId}/capture': { roles: ['service', 'operator'], scopes: ['payments:initiate'] },
  'payment-orchestration POST /v1/payments/{paymentId}/void': { roles: ['service', 'operator'], scopes: ['payments:initiate'] },
  // Stripe calls it without a token; the signature over the body is its authentication.
  'payment-orchestration POST /v1/webhooks/stripe': { roles: 'public' },
  // PayPal likewise: its signature (with PayPal's certificate) over the body is its authentication.
  'payment-orchestration POST /v1/webhooks/paypal': { roles: 'public' },
  // history-projection: a person's own history, also through an app's backend (its app only); analysts know
  // people only by pseudonym and never by id
  'history-projection GET /v1/history/persons/{personId}/entries': PERSON_SELF,
  'history-projection GET /v1/history/persons/{personId}/entries/export': PERSON_SELF,
  'history-projection GET /v1/history/persons/{personId}/summary': PERSON_SELF,
  'history-projection GET /v1/history/persons/{personId}/profile': PERSON_SELF,
  // A business's history: analysts (pseudonymous payers), or a backend acting for that business (another's: 404)
  'history-projection GET /v1/history/merchants/{id}/entries': BUSINESS_HISTORY,
  'history-projection GET /v1/history/merchants/{id}/entries/export': BUSINESS_HISTORY,
  'history-projection GET /v1/history/merchants/{id}/summary': BUSINESS_HISTORY,
  'history-projection GET /v1/history/non-profits/{id}/entries': BUSINESS_HISTORY,
  'history-projection GET /v1/history/non-profits/{id}/entries/export': BUSINESS_HISTORY,
  'history-projection GET /v1/history/non-profits/{id}/summary': BUSINESS_HISTORY,
  'history-projection GET /v1/history/entries': { roles: ['analyst'] },
  'history-projection GET /v1/history/entries/export': { roles: ['analyst'] },
  'history-projection GET /v1/history/aggregates': { roles: ['analyst'] },
  'history-projection GET /v1/history/aggregates/export': { roles: ['analyst'] },
  'history-projection GET /v1/history/read-model': { roles: ['operator'] },
  // ad-signal-aggregation: published cells of the advertiser's own merchants
  'ad-signal-aggregation GET /v1/ad-signals/aggregates': { roles: ['advertiser'] },
  // support: persons open and export their own conversations; agents (role support) work the queue
  // and the conversations assigned to them (anyone else's answers 404, tested in apps/support/test)
  'support GET /v1/support/availability': { roles: ['person'] },
  'support POST /v1/support/conversations': { roles: ['person'] },
  'support GET /v1/support/persons/{personId}/conversations/export': { roles: ['person'] },
  'support GET /v1/support/queue': { roles: ['support'] },
  'support GET /v1/support/agents/me/conversations': { roles: ['support'] },
  'support POST /v1/support/conversations/{conversationId}/claim': { roles: ['support'] },
  'support POST /v1/support/conversations/{conversationId}/hand-over': { roles: ['support'] },
  'support POST /v1/support/conversations/{conversationId}/close': { roles: ['support'] },
  'support GET /v1/support/conversations/{conversationId}/payment': { roles: ['support'] },
  'support POST /v1/support/conversations/{conversationId}/refunds': { roles: ['support'] },
};

const definitions = [walletService, paymentOrchestrationService, historyProjectionService, adSignalAggregationService, supportService] as ServiceDefinition[];

interface Answer {
  status: number;
  body: { code?: string; message?: string } | undefined;
}

const roleRefusal = (answer: Answer): boolean =>
  answer.status === 403 && answer.body?.code === 'FORBIDDEN' && /route is (open to|not open|the person's own)|needs the scope/.test(answer.body.message ?? '');

/** A person's token the identity provider issued instagram's backend by token exchange (RFC 8693). */
const delegation = { app: 'instagram', act: { sub: 'instagram-backend' } };

describe('the authorization matrix of the five services', () => {
  let idp: TestIssuer;
  /** payment-orchestration's own signing key: the same issuer and audience, its own kid, bounded by its grant. */
  let orchestrationKey: TestIssuer;
  const running = new Map<string, { service: RunningService; schema: string; document: { paths: Record<string, Record<string, unknown>> } }>();
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    idp = await createTestIssuer();
    orchestrationKey = await createTestIssuer({ issuer: idp.issuer, audience: idp.audience });
    for (const role of ROLES) {
      const claims: Record<string, unknown> = role === 'advertiser' ? { merchants: ['m-matrix'], org: 'org-matrix' } : {};
      tokens.set(role, await idp.signTestToken({ sub: `matrix-${role}`, role, ...claims }));
    }
    const allScopes = [...new Set(Object.values(RULES).flatMap((rule) => rule.scopes ?? []))];
    tokens.set('service+scopes', await idp.signTestToken({ sub: 'matrix-service', role: 'service', scope: allScopes.join(' ') }));
    tokens.set('orchestration+scopes', await idp.signTestToken({ sub: 'payment-orchestration', role: 'service', scope: allScopes.join(' ') }));
    tokens.set(
      'app backend',
      await idp.signTestToken({ sub: 'instagram-backend', role: 'service', app: 'instagram', merchants: ['m-matrix'], scope: APP_BACKEND_SCOPES.join(' ') }),
    );
    // The person the routes name (`someone-else`), and another, through instagram's backend.
    tokens.set('delegated', await idp.signTestToken({ sub: 'someone-else', role: 'person', ...delegation }));
    tokens.set('delegated for another', await idp.signTestToken({ sub: 'matrix-person-2', role: 'person', ...delegation }));
    tokens.set('support service', await idp.signTestToken({ sub: 'support', role: 'service', scope: 'payments:refund' }));
    for (const definition of definitions) {
      const schema = uniqueName(`it_matrix_${definition.schema}`);
      const service = await createService(definition, {
        DATABASE_URL: testDatabaseUrl(),
        ...testKafkaEnv(definition.name),
        DB_SCHEMA: schema,
        PORT: '0',
        LOG_LEVEL: 'silent',
        OUTBOX_RELAY_NAME: 'matrix',
        AUTH_JWKS: JSON.stringify({ keys: [...idp.jwks.keys, ...orchestrationKey.jwks.keys] }),
        AUTH_KEY_GRANTS: orchestrationKeyGrants(orchestrationKey.jwks.keys[0].kid!),
        AUTH_ISSUER: idp.issuer,
        AUTH_AUDIENCE: idp.audience,
        ...testConsumerGroupsEnv(schema),
      });
      const document = (await (await fetch(`${service.url}/docs/json`)).json()) as { paths: Record<string, Record<string, unknown>> };
      running.set(definition.name, { service, schema, document });
    }
  });

  afterAll(async () => {
    for (const { service, schema } of running.values()) {
      await service.app.close();
      await dropSchema(testDatabaseUrl(), schema);
    }
  });

  const routesOf = (name: string): string[] =>
    Object.entries(running.get(name)!.document.paths).flatMap(([path, operations]) =>
      Object.keys(operations)
        .filter((method) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .map((method) => `${name} ${method.toUpperCase()} ${path}`),
    );

  async function call(route: string, token: string | undefined, businessId = 'matrix-id'): Promise<Answer> {
    const [name, method, path] = route.split(' ');
    // Another person's id, and ids that exist nowhere: only the guard's answer is of interest.
    const url = `${running.get(name)!.service.url}${path
      .replace('{personId}', 'someone-else')
      .replace('{id}', businessId)
      .replace(/\{[^}]+\}/g, 'matrix-id')}`;
    const response = await fetch(url, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(['POST', 'PUT', 'PATCH'].includes(method) ? { body: '{}' } : {}),
    });
    const text = await response.text();
    let body: Answer['body'];
    try {
      body = JSON.parse(text) as Answer['body'];
    } catch {
      body = undefined;
    }
    return { status: response.status, body };
  }

  it('has a rule for every route the services serve, and no rule for a route that is gone', () => {
    const served = definitions.flatMap((definition) => routesOf(definition.name)).sort();
    const unruled = served.filter((route) => !(route in RULES));
    expect(unruled).toEqual([]);
    expect(Object.keys(RULES).filter((route) => !served.includes(route))).toEqual([]);
  });

  it('refuses every role a route does not name before any handler, and never refuses one it names', async () => {
    const wrong: string[] = [];
    for (const definition of definitions) {
      for (const route of routesOf(definition.name).filter((candidate) => candidate in RULES)) {
        const rule = RULES[route];
        const anonymous = await call(route, undefined);
        if (rule.roles === 'public') {
          if (anonymous.status === 401 || anonymous.status === 403) wrong.push(`${route}: public, but ${anonymous.status} without a token`);
          continue;
        }
        if (anonymous.status !== 401) wrong.push(`${route}: ${anonymous.status} without a token, not 401`);
        for (const role of ROLES) {
          const answer = await call(route, tokens.get(role));
          // An agent's token names the support service's audience alone: every other service refuses it as a token (401), whatever its routes.
          if (role === 'support' && definition.name !== 'support') {
            if (answer.status !== 401) wrong.push(`${route}: an agent's token got ${answer.status} ${answer.body?.code ?? ''}, not 401`);
            continue;
          }
          const needsScope = role === 'service' && (rule.scopes ?? []).length > 0;
          const allowed = rule.roles.includes(role) && !needsScope;
          if (!allowed && !roleRefusal(answer)) wrong.push(`${route}: ${role} got ${answer.status} ${answer.body?.code ?? ''}, not the 403 of a refused role`);
          if (allowed && roleRefusal(answer)) wrong.push(`${route}: ${role} is refused, but the rule lets it in`);
          if (allowed && role === 'person' && route.includes('{personId}') && (answer.status !== 404 || answer.body?.code !== 'NOT_FOUND')) {
            wrong.push(`${route}: a person naming someone else got ${answer.status}, not 404`);
          }
        }
        if ((rule.scopes ?? []).length > 0 && rule.roles.includes('service')) {
          const scoped = await call(route, tokens.get('service+scopes'));
          if (rule.serviceSubjects !== undefined) {
            // The scopes alone do not do (an identity provider's key signs them for anyone): another subject is refused.
            if (!roleRefusal(scoped)) wrong.push(`${route}: a service other than ${rule.serviceSubjects.join(', ')} with the scopes got ${scoped.status}`);
            const named = await call(route, tokens.get('orchestration+scopes'));
            if (roleRefusal(named)) wrong.push(`${route}: ${rule.serviceSubjects.join(', ')} with the scopes is refused`);
          } else if (roleRefusal(scoped)) wrong.push(`${route}: a service with the scopes ${rule.scopes!.join(', ')} is refused`);
          // A business's or payment's read by a service acting for no merchant: the 404 of an unknown id, never data.
          if (route.includes(' GET ') && /\{(id|paymentId)\}/.test(route) && scoped.status !== 404) {
            wrong.push(`${route}: a service acting for no merchant got ${scoped.status}, not 404`);
          }
        }
        if (route.includes('{personId}')) {
          // An app's backend's own token, every scope it is registered with: no person's route.
          const backend = await call(route, tokens.get('app backend'));
          if (!roleRefusal(backend)) wrong.push(`${route}: an app's backend's own token got ${backend.status} ${backend.body?.code ?? ''}, not 403`);
        }
        if (rule.roles.includes('person')) {
          // The person's token held by instagram's backend: where the route allows it, as the person; else 403.
          const delegated = await call(route, tokens.get('delegated'));
          if (rule.delegated && roleRefusal(delegated)) wrong.push(`${route}: a person's token held by an app's backend is refused`);
          if (!rule.delegated && !roleRefusal(delegated)) wrong.push(`${route}: a person's token held by an app's backend got ${delegated.status}, not 403`);
          if (rule.delegated && route.includes('{personId}')) {
            const another = await call(route, tokens.get('delegated for another'));
            if (another.status !== 404 || another.body?.code !== 'NOT_FOUND')
              wrong.push(`${route}: a backend with another person's token got ${another.status}, not 404`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it("keeps an app's backend to its own merchants' and non-profits' reads: another's is the 404 of nobody, never data", async () => {
    const wrong: string[] = [];
    const businessReads = Object.keys(RULES).filter((route) => / GET .*\{(id|paymentId)\}/.test(route) && RULES[route].scopes !== undefined);
    expect(businessReads.length).toBeGreaterThan(6);
    for (const route of businessReads) {
      // The backend acts for m-matrix; matrix-id is another business (or a payment of nobody's).
      const another = await call(route, tokens.get('app backend'));
      if (another.status !== 404 || !['NOT_FOUND', 'PAYMENT_NOT_FOUND'].includes(another.body?.code ?? ''))
        wrong.push(`${route}: another business's got ${another.status} ${another.body?.code ?? ''}, not 404`);
      if (route.includes('{id}')) {
        const own = await call(route, tokens.get('app backend'), 'm-matrix');
        if (own.status !== 200) wrong.push(`${route}: its own merchant's got ${own.status} ${own.body?.code ?? ''}, not 200`);
        // The same 404 body as a business that exists nowhere: ids cannot be probed.
        if (JSON.stringify(another.body) !== JSON.stringify((await call(route, tokens.get('app backend'), 'nobody-at-all')).body))
          wrong.push(`${route}: another business's 404 differs from nobody's`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("refuses at every service, on every route, a token payment-orchestration's key signs for another subject, role or scope (401)", async () => {
    // What code running in orchestration's pod could mint with its key, each refused as a token.
    const forgeries: Record<string, Record<string, unknown>> = {
      'an operator': { sub: 'sre-1', role: 'operator' },
      'itself as an operator': { sub: 'payment-orchestration', role: 'operator' },
      'a person (the victim)': { sub: 'victim', role: 'person' },
      'the victim through a backend': { sub: 'victim', role: 'person', ...delegation },
      'an advertiser': { sub: 'adv-1', role: 'advertiser', merchants: ['m-matrix'], org: 'org-matrix' },
      'an analyst': { sub: 'analyst-1', role: 'analyst' },
      "an app's backend": { sub: 'instagram-backend', role: 'service', app: 'instagram', merchants: ['m-matrix'], scope: 'payments:initiate payments:refund' },
      'itself with the ledger': { sub: 'payment-orchestration', role: 'service', scope: 'instruments:read ledger:write' },
      'itself with refunds': { sub: 'payment-orchestration', role: 'service', scope: 'payments:refund' },
      'support (a case)': { sub: 'support', role: 'service', scope: 'payments:refund' },
    };
    const forged = await Promise.all(
      Object.entries(forgeries).map(async ([what, claims]) => [what, await orchestrationKey.signTestToken(claims as { sub: string; role: string })] as const),
    );
    const own = await orchestrationKey.signTestToken({ sub: 'payment-orchestration', role: 'service', scope: 'instruments:read' });
    const wrong: string[] = [];
    let calls = 0;
    for (const definition of definitions) {
      for (const route of routesOf(definition.name).filter((candidate) => RULES[candidate]?.roles !== 'public')) {
        for (const [what, token] of forged) {
          const answer = await call(route, token);
          calls += 1;
          if (answer.status !== 401 || answer.body?.code !== 'UNAUTHENTICATED')
            wrong.push(`${route}: ${what} signed by orchestration's key got ${answer.status} ${answer.body?.code ?? ''}`);
        }
        // The control: what its grant allows is taken as a token everywhere (the routes then decide).
        const genuine = await call(route, own);
        if (genuine.status === 401) wrong.push(`${route}: orchestration's own token is refused as a token`);
      }
    }
    expect(calls).toBeGreaterThan(definitions.length * Object.keys(forgeries).length);
    expect(wrong).toEqual([]);
    // And it opens what it is for: the instrument route's guard lets it through (the wallet then answers for the payment).
    const instruments = await call('wallet GET /v1/wallets/{personId}/payment-instruments/{methodId}', own);
    expect(roleRefusal(instruments)).toBe(false);
  });

  it("refuses the support service's own token without a case reference wherever a rule asks for one, before any handler", async () => {
    const wrong: string[] = [];
    const withCase = Object.entries(RULES).filter(([, rule]) => rule.supportCase);
    expect(withCase.length).toBeGreaterThan(0);
    for (const [route] of withCase) {
      const answer = await call(route, tokens.get('support service'));
      if (answer.status !== 403 || answer.body?.code !== 'SUPPORT_CASE_REFUSED')
        wrong.push(`${route}: support without a case got ${answer.status} ${answer.body?.code ?? ''}`);
      // The same scope on another service's token is not asked for a case (it gets the payment's own answer).
      const scoped = await call(route, tokens.get('service+scopes'));
      if (scoped.body?.code === 'SUPPORT_CASE_REFUSED') wrong.push(`${route}: a service that is not support was asked for a case`);
    }
    expect(wrong).toEqual([]);
  });
});
