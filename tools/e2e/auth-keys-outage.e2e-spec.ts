/**
 * A whole service (the wallet, as `createService` boots it) configured with AUTH_JWKS_URL, while
 * the identity provider's key endpoint fails in every way it can: requests with a valid token
 * get 503 AUTH_KEYS_UNAVAILABLE with Retry-After, never 401 (a client told 401 drops a good
 * token); probes stay up; once the keys come back the same token works; an expired or forged
 * token is 401 throughout once the keys are known.
 */
import type { TestIssuer, TestKeyEndpoint } from '@pay/auth/testing';
import { createTestIssuer, startTestKeyEndpoint, TEST_KEY_ENDPOINT_OUTAGES } from '@pay/auth/testing';
import type { RunningService } from '@pay/platform';
import { createService } from '@pay/platform';
import { dropSchema, testDatabaseUrl, testKafkaEnv, uniqueName } from '@pay/testing';
import { walletService } from '@pay/wallet/tools';

/** A route every role may read, with nothing to set up: the guard alone decides. */
const ROUTE = '/v1/rollout';

/** The wallet, as `createService` boots it, reading its access-token keys from `jwksUrl`. */
async function startWallet(schema: string, jwksUrl: string, issuer: TestIssuer): Promise<RunningService> {
  return createService(walletService, {
    DATABASE_URL: testDatabaseUrl(),
    ...testKafkaEnv('wallet'),
    DB_SCHEMA: schema,
    PORT: '0',
    LOG_LEVEL: 'silent',
    OUTBOX_RELAY_NAME: 'it',
    // Own consumer groups: a service under test must never take over the real groups' partitions.
    PAYMENTS_LEDGER_CONSUMER_GROUP: `wallet.${schema}.payments-ledger`,
    FUNDS_COMMANDS_CONSUMER_GROUP: `wallet.${schema}.funds-commands`,
    AUTH_JWKS_URL: jwksUrl,
    AUTH_ISSUER: issuer.issuer,
    AUTH_AUDIENCE: issuer.audience,
  });
}

async function get(service: RunningService, token?: string, path = ROUTE): Promise<{ status: number; body: unknown; retryAfter: string | null }> {
  const response = await fetch(`${service.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, body: await response.json(), retryAfter: response.headers.get('retry-after') };
}

const unavailable = {
  status: 503,
  body: { code: 'AUTH_KEYS_UNAVAILABLE', message: expect.stringMatching(/try again/) },
  retryAfter: expect.stringMatching(/^[1-9][0-9]?$/),
};

describe("a service whose identity provider's key endpoint is down", () => {
  let idp: TestIssuer;
  let endpoint: TestKeyEndpoint;
  let service: RunningService | undefined;
  const schema = uniqueName('it_wallet_auth_keys');

  beforeAll(async () => {
    idp = await createTestIssuer();
    endpoint = await startTestKeyEndpoint(() => idp.jwks);
  });

  afterAll(async () => {
    await service?.app.close();
    await endpoint?.close();
    await dropSchema(testDatabaseUrl(), schema);
  });

  it('answers a valid token 503 with Retry-After through every kind of outage, then lets it in; bad tokens stay 401', async () => {
    service = await startWallet(schema, endpoint.url, idp);
    const token = await idp.signTestToken({ sub: 'ops-1', role: 'operator' });

    // Nothing fetched yet, and the endpoint fails in each way in turn (`hang` waits out the 3 s timeout).
    // Connection refused: libs/auth/src/access-token-keys.int-spec.ts.
    for (const mode of TEST_KEY_ENDPOINT_OUTAGES) {
      endpoint.mode = mode;
      expect({ mode, ...(await get(service, token)) }).toEqual({ mode, ...unavailable });
    }
    expect(await get(service, undefined, '/health/live')).toMatchObject({ status: 200 });

    endpoint.mode = 'keys';
    expect(await get(service, token)).toMatchObject({ status: 200, retryAfter: null });

    const expired = await idp.signTestToken({ sub: 'ops-1', role: 'operator' }, { expiresIn: -3_600 });
    const [header, payload, signature] = token.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'ops-2' })).toString('base64url')}.${signature}`;
    for (const mode of ['keys', 'status-503'] as const) {
      endpoint.mode = mode;
      expect(await get(service, expired)).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' }, retryAfter: null });
      expect(await get(service, forged)).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' }, retryAfter: null });
      expect(await get(service, token)).toMatchObject({ status: 200 });
    }
  });
});
