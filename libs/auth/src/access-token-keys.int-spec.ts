/**
 * The global guard of a real Nest HTTP service against a real JWKS endpoint on loopback (a
 * stand-in for the identity provider's `AUTH_JWKS_URL`): while the keys cannot be had (503, 404,
 * not JSON, not a key set, no answer, connection refused) a valid token gets 503
 * AUTH_KEYS_UNAVAILABLE with Retry-After, never 401; once the keys come back the same token is
 * let in; an expired or forged token is 401 whenever the keys are known.
 */
import type { INestApplication } from '@nestjs/common';
import { Controller, Get, Module, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { AUTH_KEYS_RETRY_AFTER_SECONDS } from './auth-errors';
import { AuthModule } from './auth.module';
import { Public, Roles } from './decorators';
import type { AuthenticatedRequest } from './principal';
import type { TestIssuer, TestKeyEndpoint, TestKeyEndpointMode } from './testing';
import { closedLoopbackPort, createTestIssuer, startTestKeyEndpoint, TEST_KEY_ENDPOINT_OUTAGES } from './testing';

@Controller()
class ProbeController {
  @Get('open')
  @Public()
  open(): { ok: true } {
    return { ok: true };
  }

  @Get('mine')
  @Roles('person')
  mine(@Req() request: AuthenticatedRequest): { subject: string } {
    return { subject: request.principal!.subject };
  }
}

interface Answer {
  status: number;
  body: unknown;
  retryAfter: string | null;
  wwwAuthenticate: string | null;
}

/** A Nest service guarded by AuthModule, reading its access-token keys from `jwksUrl`. */
async function startService(idp: TestIssuer, jwksUrl: string): Promise<{ app: INestApplication; get(path: string, token?: string): Promise<Answer> }> {
  @Module({
    imports: [AuthModule.forRoot({ jwksUrl, jwksTimeoutMs: 500, issuer: idp.issuer, audience: idp.audience })],
    controllers: [ProbeController],
  })
  class ProbeModule {}

  const app = await NestFactory.create(ProbeModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${((app.getHttpServer() as Server).address() as AddressInfo).port}`;
  return {
    app,
    get: async (path, token) => {
      const response = await fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      return {
        status: response.status,
        body: await response.json(),
        retryAfter: response.headers.get('retry-after'),
        wwwAuthenticate: response.headers.get('www-authenticate'),
      };
    },
  };
}

const unavailable = {
  status: 503,
  body: { code: 'AUTH_KEYS_UNAVAILABLE', message: expect.stringMatching(/could not be fetched.*try again/) },
  retryAfter: String(AUTH_KEYS_RETRY_AFTER_SECONDS),
  wwwAuthenticate: null,
};
const refused = {
  status: 401,
  body: { code: 'UNAUTHENTICATED', message: expect.any(String) },
  retryAfter: null,
  wwwAuthenticate: 'Bearer error="invalid_token"',
};
const admitted = { status: 200, body: { subject: 'person-1' }, retryAfter: null, wwwAuthenticate: null };

describe('access tokens checked with keys from AUTH_JWKS_URL, through a Nest service', () => {
  let idp: TestIssuer;
  let endpoint: TestKeyEndpoint;
  let service: Awaited<ReturnType<typeof startService>> | undefined;

  beforeAll(async () => {
    idp = await createTestIssuer();
    endpoint = await startTestKeyEndpoint(() => idp.jwks);
  });

  afterEach(async () => {
    await service?.app.close();
    service = undefined;
  });

  afterAll(async () => {
    await endpoint?.close();
  });

  beforeEach(() => {
    endpoint.mode = 'keys';
    endpoint.requests = 0;
  });

  const valid = (): Promise<string> => idp.signTestToken({ sub: 'person-1', role: 'person' });

  it.each<TestKeyEndpointMode>(TEST_KEY_ENDPOINT_OUTAGES)(
    'a valid token gets 503 AUTH_KEYS_UNAVAILABLE with Retry-After while the key endpoint answers %s, and is let in once the keys come back',
    async (mode) => {
      service = await startService(idp, endpoint.url);
      const token = await valid();
      endpoint.mode = mode;
      expect(await service.get('/mine', token)).toEqual(unavailable);
      expect(await service.get('/mine', token)).toEqual(unavailable);
      expect(endpoint.requests).toBe(2); // a failed fetch is not remembered: each request asks again
      expect(await service.get('/open')).toMatchObject({ status: 200, body: { ok: true } });

      endpoint.mode = 'keys';
      expect(await service.get('/mine', token)).toEqual(admitted);
    },
  );

  it('a valid token gets 503, not 401, when nothing listens at the key URL (connection refused)', async () => {
    service = await startService(idp, `http://127.0.0.1:${await closedLoopbackPort()}/.well-known/jwks.json`);
    expect(await service.get('/mine', await valid())).toEqual(unavailable);
  });

  it('with the keys fetched, an expired, a forged and a foreign token are 401 — also once the key endpoint is down — and a valid one stays in', async () => {
    service = await startService(idp, endpoint.url);
    expect(await service.get('/mine', await valid())).toEqual(admitted);

    const expired = await idp.signTestToken({ sub: 'person-1', role: 'person' }, { expiresIn: -3_600 });
    const [header, payload, signature] = (await valid()).split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'person-2' })).toString('base64url')}.${signature}`;
    const foreign = await (await createTestIssuer()).signTestToken({ sub: 'person-1', role: 'person' });

    for (const mode of ['keys', 'status-503', 'hang'] as const) {
      endpoint.mode = mode;
      expect(await service.get('/mine', expired)).toEqual(refused);
      expect(await service.get('/mine', forged)).toEqual(refused);
      expect(await service.get('/mine', foreign)).toEqual(refused);
      expect(await service.get('/mine', await valid())).toEqual(admitted);
    }
    // The fetched keys served every check: a kid unknown right after a fetch is no reason to ask again.
    expect(endpoint.requests).toBe(1);
  });

  it('refuses what is not a signed JWT, or is signed with HMAC, without asking for keys, even during an outage', async () => {
    service = await startService(idp, endpoint.url);
    endpoint.mode = 'status-503';
    expect(await service.get('/mine', 'not.a.jwt')).toEqual(refused);
    const hmac = await new SignJWT({ sub: 'person-1', role: 'person' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(idp.issuer)
      .setAudience(idp.audience)
      .setExpirationTime('5m')
      .sign(new Uint8Array(32));
    expect(await service.get('/mine', hmac)).toEqual(refused);
    expect(await service.get('/mine')).toMatchObject({ status: 401, wwwAuthenticate: 'Bearer' });
    expect(endpoint.requests).toBe(0);
  });
});
