import { prometheusValue, uniqueName } from '@pay/testing';
import { serviceLogs } from '@pay/testing/service-logs';
import { findSecrets } from './log-secrets';
import { PaymentsOnKafka } from './payments-on-kafka';
import type { Caller, WalletUnderTest } from './wallet-test-kit';
import { dropWalletSchema, instrumentReleaseAudit, MANDATE, startWallet, validCard } from './wallet-test-kit';

jest.mock('@pay/observability', () => jest.requireActual<typeof import('@pay/testing/service-logs')>('@pay/testing/service-logs').observabilityKeepingLogs());

interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** OpenAPI path template. */
  template: string;
  body?: unknown;
  query?: string;
}

const PIN = '730264';
const ceiling = { amount: '5000', currency: 'EUR' };
/** Shaped like what @simplewebauthn/browser sends (validation passes; no ceremony could verify it). */
const passkeyCredential = (response: Record<string, string>) => ({
  id: 'Y3JlZGVudGlhbC1pZA',
  rawId: 'Y3JlZGVudGlhbC1pZA',
  type: 'public-key',
  clientExtensionResults: {},
  response: { clientDataJSON: 'e30', ...response },
});

/** Every route that names a person or a method, with a body that passes validation. */
const ROUTES: Route[] = [
  { method: 'POST', template: '/v1/wallets/{personId}', body: { country: 'US' } },
  { method: 'GET', template: '/v1/wallets/{personId}' },
  { method: 'PUT', template: '/v1/wallets/{personId}/apps', body: { apps: [] } },
  { method: 'PUT', template: '/v1/wallets/{personId}/apps/{app}', body: { enabled: false } },
  { method: 'POST', template: '/v1/wallets/{personId}/payment-methods/cards', body: validCard() },
  { method: 'POST', template: '/v1/wallets/{personId}/payment-methods/paypal-accounts', body: { payerId: 'QYR5Z8XDVJNXQ', email: 'bola.test@example.com' } },
  {
    method: 'POST',
    template: '/v1/wallets/{personId}/payment-methods/bank-accounts',
    body: { iban: 'GB82WEST12345698765432', holderName: 'Bola Test', holderEmail: 'bola.test@example.com', mandate: MANDATE },
  },
  {
    method: 'POST',
    template: '/v1/wallets/{personId}/payment-methods/us-bank-accounts',
    body: { routingNumber: '110000000', accountNumber: '000123456789', accountType: 'checking', holderName: 'Bola Test', mandate: MANDATE },
  },
  { method: 'POST', template: '/v1/wallets/{personId}/payment-methods/stripe-customers', body: { customerId: 'cus_NffrFeUfNV2Hib' } },
  { method: 'POST', template: '/v1/wallets/{personId}/payment-methods/{methodId}/microdeposits', body: { descriptorCode: 'SM11AA' } },
  { method: 'GET', template: '/v1/wallets/{personId}/payment-methods' },
  { method: 'GET', template: '/v1/wallets/{personId}/payment-methods/{methodId}' },
  { method: 'PATCH', template: '/v1/wallets/{personId}/payment-methods/{methodId}', body: { label: 'mine now' } },
  { method: 'PUT', template: '/v1/wallets/{personId}/payment-methods/{methodId}/preferred' },
  { method: 'DELETE', template: '/v1/wallets/{personId}/payment-methods/{methodId}' },
  { method: 'GET', template: '/v1/wallets/{personId}/payment-instruments/preferred', query: '?app=facebook&paymentId=pay_probe' },
  { method: 'GET', template: '/v1/wallets/{personId}/payment-instruments/{methodId}', query: '?app=facebook&paymentId=pay_probe' },
  { method: 'POST', template: '/v1/wallets/{personId}/pin', body: { pin: '591837' } },
  { method: 'PUT', template: '/v1/wallets/{personId}/pin', body: { currentPin: '111119', newPin: '591837' } },
  { method: 'POST', template: '/v1/support/wallets/{personId}/pin/unblock', body: { caseReference: 'SUP-2026-000001' } },
  { method: 'POST', template: '/v1/wallets/{personId}/step-up/pin', body: { pin: '111119', ceiling } },
  { method: 'POST', template: '/v1/wallets/{personId}/step-up/biometric/options', body: { ceiling } },
  {
    method: 'POST',
    template: '/v1/wallets/{personId}/step-up/biometric',
    body: { ceiling, credential: passkeyCredential({ authenticatorData: 'AAAA', signature: 'AAAA' }) },
  },
  { method: 'POST', template: '/v1/wallets/{personId}/passkeys/registration-options' },
  { method: 'POST', template: '/v1/wallets/{personId}/passkeys', body: { deviceName: 'phone', credential: passkeyCredential({ attestationObject: 'AAAA' }) } },
  { method: 'GET', template: '/v1/wallets/{personId}/passkeys' },
  { method: 'DELETE', template: '/v1/wallets/{personId}/passkeys/{passkeyId}' },
  { method: 'PUT', template: '/v1/wallets/{personId}/consents/ad-measurement', body: { granted: false } },
  { method: 'PUT', template: '/v1/wallets/{personId}/contact', body: { email: 'bola.test@example.com' } },
];

/** Routes only internal services may call: persons get 403 whoever they name. */
const SERVICE_ONLY = new Set(['/v1/wallets/{personId}/payment-instruments/preferred', '/v1/wallets/{personId}/payment-instruments/{methodId}']);
/** Routes only operators may call: persons get 403 whoever they name. */
const OPERATOR_ONLY = new Set(['/v1/support/wallets/{personId}/pin/unblock']);

const path = (route: Route, personId: string, methodId: string): string =>
  route.template
    .replace('{personId}', personId)
    .replace('{methodId}', methodId)
    .replace('{passkeyId}', '0b7e3f4a-51a2-4c1e-9d0b-2f4b8e7c6a10')
    .replace('{app}', 'facebook') + (route.query ?? '');

describe('wallet: identity and access on every route', () => {
  let wallet: WalletUnderTest;
  let victim: Caller;
  let attacker: Caller;
  let victimMethodId: string;
  const victimId = uniqueName('victim');
  const attackerId = uniqueName('attacker');

  beforeAll(async () => {
    wallet = await startWallet();
    victim = await wallet.person(victimId);
    attacker = await wallet.person(attackerId);
    expect((await victim.post(`/v1/wallets/${victimId}`, { country: 'US' })).status).toBe(201);
    expect((await attacker.post(`/v1/wallets/${attackerId}`, { country: 'US' })).status).toBe(201);
    const added = await victim.post<{ id: string }>(`/v1/wallets/${victimId}/payment-methods/cards`, validCard({ label: 'Victim card' }));
    expect(added.status).toBe(201);
    victimMethodId = added.body.id;
    expect((await victim.put(`/v1/wallets/${victimId}/apps`, { apps: ['facebook'] })).status).toBe(200);
    expect((await attacker.put(`/v1/wallets/${attackerId}/apps`, { apps: ['facebook'] })).status).toBe(200);
    expect((await victim.post(`/v1/wallets/${victimId}/pin`, { pin: PIN })).status).toBe(204);
  });

  afterAll(async () => {
    await wallet?.stop();
    if (wallet) await dropWalletSchema(wallet.schema);
    expect(findSecrets(serviceLogs.join(''), { pins: [PIN, '591837', '111119'], emails: ['bola.test@example.com'], holderNames: ['Bola Test'] })).toEqual([]);
  });

  it('covers every route of the API that takes an id', async () => {
    const docs = await wallet.anonymous().get<{ paths: Record<string, Record<string, unknown>> }>('/docs/json');
    expect(docs.status).toBe(200);
    const documented = Object.entries(docs.body.paths).flatMap(([template, operations]) =>
      /\{(personId|methodId)\}/.test(template) ? Object.keys(operations).map((method) => `${method.toUpperCase()} ${template}`) : [],
    );
    expect(ROUTES.map((route) => `${route.method} ${route.template}`).sort()).toEqual(documented.sort());
  });

  it.each(ROUTES.map((route) => [`${route.method} ${route.template}`, route] as const))('a person naming another person gets 404: %s', async (_name, route) => {
    const response = await attacker.request(route.method, path(route, victimId, victimMethodId), route.body);
    if (SERVICE_ONLY.has(route.template) || OPERATOR_ONLY.has(route.template)) {
      expect(response).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    } else {
      expect(response).toEqual({ status: 404, body: { code: 'NOT_FOUND', message: 'nothing was found at this address' } });
    }
    // The same answer as for a person who does not exist: ids cannot be probed.
    const ghost = await attacker.request(route.method, path(route, 'nobody-at-all', victimMethodId), route.body);
    expect(ghost.status).toBe(response.status);
    expect(ghost.body).toEqual(response.body);
  });

  it.each(ROUTES.filter((route) => route.template.includes('{methodId}')).map((route) => [`${route.method} ${route.template}`, route] as const))(
    "a person naming themselves with another person's method gets 404: %s",
    async (_name, route) => {
      const caller = SERVICE_ONLY.has(route.template) ? await wallet.orchestration() : attacker;
      const response = await caller.request(route.method, path(route, attackerId, victimMethodId), route.body);
      expect(response).toMatchObject({ status: 404, body: { code: 'PAYMENT_METHOD_NOT_FOUND' } });
    },
  );

  it.each(ROUTES.map((route) => [`${route.method} ${route.template}`, route] as const))(
    "an app's backend's own token gets 403 and nothing of the person: %s",
    async (_name, route) => {
      for (const backend of [await wallet.appBackend(), await wallet.as('instagram-shop', 'service', { app: 'instagram' })]) {
        const response = await backend.request(route.method, path(route, victimId, victimMethodId), route.body);
        expect(response).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
        expect(JSON.stringify(response.body)).not.toMatch(new RegExp(`${victimMethodId}|Victim card|pm_`));
      }
    },
  );

  it.each(ROUTES.map((route) => [`${route.method} ${route.template}`, route] as const))(
    "a person's token held by an app's backend opens that person alone: another's gets 404 or 403: %s",
    async (_name, route) => {
      const response = await (await wallet.delegated(attackerId)).request(route.method, path(route, victimId, victimMethodId), route.body);
      expect([403, 404]).toContain(response.status);
      expect(JSON.stringify(response.body)).not.toMatch(new RegExp(`${victimMethodId}|Victim card|pm_`));
    },
  );

  it("left the victim's wallet untouched", async () => {
    const view = await victim.get<{
      apps: string[];
      paymentMethods: { id: string; label: string; preferred: boolean }[];
      pin: { set: boolean; lockedUntil?: string };
      consents: { adMeasurement: { source: string } };
      contact: object;
    }>(`/v1/wallets/${victimId}`);
    expect(view.status).toBe(200);
    expect(view.body.apps).toEqual(['facebook']);
    expect(view.body.paymentMethods).toEqual([expect.objectContaining({ id: victimMethodId, label: 'Victim card', preferred: true })]);
    expect(view.body.pin).toEqual({ set: true });
    expect(view.body.consents.adMeasurement.source).toBe('default');
    expect(view.body.contact).toEqual({});
  });

  it("lets an app's backend act for a person with the person's token it was issued — never setting or changing their PIN — and releases instruments to payment-orchestration alone", async () => {
    const shop = await wallet.delegated(victimId);
    const response = await shop.get<{ personId: string }>(`/v1/wallets/${victimId}`);
    expect(response).toMatchObject({ status: 200, body: { personId: victimId } });
    // A person's token gets no charge data, delegated or not.
    const refused = await shop.get(`/v1/wallets/${victimId}/payment-instruments/preferred?app=facebook&paymentId=pay_probe`);
    expect(refused).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    expect(JSON.stringify(refused.body)).not.toContain('pm_');
    // The PIN is the person's own secret: a backend that set or changed it could confirm its own payments with it.
    const noPin = uniqueName('no-pin');
    expect((await (await wallet.person(noPin)).post(`/v1/wallets/${noPin}`, { country: 'US' })).status).toBe(201);
    const noPinShop = await wallet.delegated(noPin);
    expect(await noPinShop.post(`/v1/wallets/${noPin}/pin`, { pin: '591837' })).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    expect(await shop.put(`/v1/wallets/${victimId}/pin`, { currentPin: PIN, newPin: '591837' })).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    expect(await noPinShop.post(`/v1/wallets/${noPin}/step-up/pin`, { pin: '591837', ceiling })).toMatchObject({ status: 409, body: { code: 'PIN_NOT_SET' } });
    // It still confirms with the PIN the person typed in its app, which is unchanged.
    expect((await shop.post(`/v1/wallets/${victimId}/step-up/pin`, { pin: PIN, ceiling })).status).toBe(201);
    const payments = new PaymentsOnKafka(wallet);
    const paymentId = await payments.initiated({ personId: victimId, methodId: victimMethodId }).finally(() => payments.disconnect());
    const instrument = await (await wallet.orchestration()).get(`/v1/wallets/${victimId}/payment-instruments/preferred?app=facebook&paymentId=${paymentId}`);
    expect(instrument).toMatchObject({
      status: 200,
      body: { methodId: victimMethodId, kind: 'card', credentials: { pspToken: expect.stringMatching(/^pm_/) } },
    });
    // Another subject holding the scope (an identity provider may sign any): 403, nothing released, nothing audited.
    const audited = async () => (await instrumentReleaseAudit(wallet.schema, [paymentId])).length;
    const before = await audited();
    expect(before).toBe(1);
    for (const subject of ['instagram-backend', 'support', 'payment-orchestration-shadow']) {
      const other = await wallet.as(subject, 'service', { scope: 'instruments:read' });
      const answer = await other.get(`/v1/wallets/${victimId}/payment-instruments/preferred?app=facebook&paymentId=${paymentId}`);
      expect(answer).toMatchObject({ status: 403, body: { code: 'FORBIDDEN', message: expect.stringContaining('payment-orchestration alone') } });
      expect(JSON.stringify(answer.body)).not.toContain('pm_');
    }
    expect(await audited()).toBe(before);
  });

  it("keeps analysts and operators out of a person's wallet, and persons out of operations", async () => {
    for (const role of ['analyst', 'operator']) {
      const response = await (await wallet.as(`${role}-1`, role)).get(`/v1/wallets/${victimId}`);
      expect(response).toMatchObject({ status: 403, body: { code: 'FORBIDDEN', message: expect.stringContaining(`the token's role is ${role}`) } });
    }
    expect((await victim.post('/v1/rollout/reload')).status).toBe(403);
    const reload = await (await wallet.as('sre-1', 'operator')).post<{ countries: unknown[] }>('/v1/rollout/reload');
    expect(reload.status).toBe(200);
    expect((await (await wallet.as('analyst-1', 'analyst')).get('/v1/rollout')).status).toBe(200);
  });

  it('refuses requests without a valid token with 401 and says why', async () => {
    const anonymous = await wallet.anonymous().get(`/v1/wallets/${victimId}`);
    expect(anonymous).toEqual({ status: 401, body: { code: 'UNAUTHENTICATED', message: 'send an access token: Authorization: Bearer <JWT>' } });

    const expired = await wallet.idp.signTestToken({ sub: victimId, role: 'person' }, { expiresIn: -120 });
    expect(await wallet.anonymous().request('GET', `/v1/wallets/${victimId}`, undefined, { authorization: `Bearer ${expired}` })).toMatchObject({
      status: 401,
      body: { message: 'the access token has expired' },
    });

    const token = await wallet.idp.signTestToken({ sub: attackerId, role: 'person' });
    const [header, payload, signature] = token.split('.');
    const claims = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: victimId };
    const tampered = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    expect((await wallet.anonymous().request('GET', `/v1/wallets/${victimId}`, undefined, { authorization: `Bearer ${tampered}` })).status).toBe(401);

    const wrongAudience = await wallet.idp.signTestToken({ sub: victimId, role: 'person' }, { audience: 'another-api' });
    expect((await wallet.anonymous().request('GET', `/v1/wallets/${victimId}`, undefined, { authorization: `Bearer ${wrongAudience}` })).status).toBe(401);

    const superuser = await wallet.idp.signTestToken({ sub: victimId, role: 'admin' });
    expect((await wallet.anonymous().request('GET', `/v1/wallets/${victimId}`, undefined, { authorization: `Bearer ${superuser}` })).status).toBe(401);
    expect((await wallet.anonymous().request('GET', `/v1/wallets/${victimId}`, undefined, { authorization: 'Basic dXNlcjpwYXNz' })).status).toBe(401);
  });

  it('keeps health, metrics, docs and the step-up keys public', async () => {
    const open = wallet.anonymous();
    expect((await open.get('/health/live')).status).toBe(200);
    expect((await open.get('/docs/json')).status).toBe(200);
    const keys = await open.get<{ keys: Record<string, unknown>[] }>('/.well-known/step-up-jwks.json');
    expect(keys.status).toBe(200);
    expect(keys.body.keys[0]).toMatchObject({ kty: 'EC', alg: 'ES256', use: 'sig' });
    expect(keys.body.keys[0]).not.toHaveProperty('d');
    const metrics = await fetch(`${wallet.url}/metrics`);
    expect(metrics.status).toBe(200);
    // Every service's /metrics carries the process's event-loop delay (createService registers it).
    expect(prometheusValue(await metrics.text(), 'nodejs_eventloop_delay_p99')).toBeGreaterThan(0);
  });
});
