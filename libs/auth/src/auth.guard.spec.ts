import type { ExecutionContext } from '@nestjs/common';
import { ForbiddenException, HttpException, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AccessTokenVerifier } from './access-token-verifier';
import { AUTH_KEYS_RETRY_AFTER_SECONDS, KeySetUnavailableError } from './auth-errors';
import { AuthGuard } from './auth.guard';
import { ActsForPerson, AllowDelegated, Public, RequireScopes, RequireServiceSubject, Roles } from './decorators';
import type { TestIssuer } from './testing';
import { createTestIssuer } from './testing';

class Routes {
  @Public() health(): void {}
  @Roles('person', 'service') @ActsForPerson() @AllowDelegated() wallet(): void {}
  @Roles('person') @ActsForPerson() pin(): void {}
  @Roles('operator') reload(): void {}
  @Roles('service') @RequireScopes('instruments:read') @RequireServiceSubject('payment-orchestration') @ActsForPerson() instruments(): void {}
  @Roles('service') @RequireScopes('instruments:read') @RequireServiceSubject('payment-orchestration') releases(): void {}
  @Roles('service', 'operator') @RequireScopes('payments:refund') refund(): void {}
  undeclared(): void {}
}

function contextFor(handler: keyof Routes, request: Record<string, unknown>, response = { setHeader: jest.fn() }): ExecutionContext {
  return {
    getType: () => 'http',
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => response }),
  } as unknown as ExecutionContext;
}

describe('AuthGuard', () => {
  let idp: TestIssuer;
  let guard: AuthGuard;
  const request = async (
    sub: string,
    role: string,
    params: Record<string, string> = {},
    claims: Record<string, unknown> = {},
  ): Promise<Record<string, unknown>> => ({
    headers: { authorization: `Bearer ${await idp.signTestToken({ ...claims, sub, role })}` },
    params,
  });

  beforeAll(async () => {
    idp = await createTestIssuer();
    guard = new AuthGuard(new Reflector(), new AccessTokenVerifier({ jwks: idp.jwks, issuer: idp.issuer, audience: idp.audience }), {
      publicRoutePrefixes: ['/health'],
    });
  });

  it('lets a service through a scoped route only with every scope the route needs', async () => {
    await expect(
      guard.canActivate(contextFor('instruments', await request('payment-orchestration', 'service', { personId: 'p1' }, { scope: 'instruments:read' }))),
    ).resolves.toBe(true);
    for (const claims of [{}, { scope: 'payments:initiate' }, { scope: 'instruments:write' }]) {
      await expect(
        guard.canActivate(contextFor('instruments', await request('payment-orchestration', 'service', { personId: 'p1' }, claims))),
      ).rejects.toBeInstanceOf(ForbiddenException);
    }
    // A scope never widens the roles: a person with the scope is still not a service.
    await expect(
      guard.canActivate(contextFor('instruments', await request('p1', 'person', { personId: 'p1' }, { scope: 'instruments:read' }))),
    ).rejects.toBeInstanceOf(ForbiddenException);
  });

  it('refuses the instrument routes to any service but payment-orchestration, whatever scope the identity provider signed it', async () => {
    for (const sub of ['support', 'instagram-backend', 'payment-orchestration-2', 'matrix-service']) {
      for (const route of ['instruments', 'releases'] as const) {
        const refused = guard.canActivate(
          contextFor(route, await request(sub, 'service', { personId: 'p1' }, { scope: 'instruments:read', app: 'instagram' })),
        );
        await expect(refused).rejects.toBeInstanceOf(ForbiddenException);
        await expect(refused).rejects.toMatchObject({ response: { message: expect.stringMatching(/open to the service payment-orchestration alone/) } });
      }
    }
    await expect(guard.canActivate(contextFor('releases', await request('payment-orchestration', 'service', {}, { scope: 'instruments:read' })))).resolves.toBe(
      true,
    );
  });

  it("asks the route's scopes of services only: an operator on a route it is named for needs none", async () => {
    await expect(guard.canActivate(contextFor('refund', await request('sre-1', 'operator')))).resolves.toBe(true);
    await expect(guard.canActivate(contextFor('refund', await request('shop', 'service')))).rejects.toBeInstanceOf(ForbiddenException);
    await expect(guard.canActivate(contextFor('refund', await request('shop', 'service', {}, { scope: 'payments:refund' })))).resolves.toBe(true);
    // …and a role the route does not name gets nothing from a scope.
    await expect(guard.canActivate(contextFor('refund', await request('a-1', 'analyst', {}, { scope: 'payments:refund' })))).rejects.toBeInstanceOf(
      ForbiddenException,
    );
  });

  it('lets public routes through without a token', async () => {
    await expect(guard.canActivate(contextFor('health', { headers: {} }))).resolves.toBe(true);
    await expect(guard.canActivate(contextFor('undeclared', { headers: {}, route: { path: '/health/ready' } }))).resolves.toBe(true);
    await expect(guard.canActivate(contextFor('undeclared', { headers: {}, route: { path: '/healthcheck-not-really' } }))).rejects.toBeInstanceOf(
      UnauthorizedException,
    );
  });

  it('authenticates, then authorises by role, and denies a route that declares no role', async () => {
    await expect(guard.canActivate(contextFor('reload', { headers: {} }))).rejects.toBeInstanceOf(UnauthorizedException);
    await expect(guard.canActivate(contextFor('reload', await request('ops', 'operator')))).resolves.toBe(true);
    await expect(guard.canActivate(contextFor('reload', await request('p1', 'person')))).rejects.toBeInstanceOf(ForbiddenException);
    await expect(guard.canActivate(contextFor('undeclared', await request('ops', 'operator')))).rejects.toBeInstanceOf(ForbiddenException);
  });

  it("keeps a person to their own id with a 404, also when an app's backend holds the token for them", async () => {
    const own = await request('p1', 'person', { personId: 'p1' });
    await expect(guard.canActivate(contextFor('wallet', own))).resolves.toBe(true);
    expect(own.principal).toEqual({ subject: 'p1', role: 'person', tokenId: expect.any(String), scopes: [] });
    await expect(guard.canActivate(contextFor('wallet', await request('p1', 'person', { personId: 'p2' })))).rejects.toBeInstanceOf(NotFoundException);
    // RFC 8693 delegation: the person's token the identity provider issued instagram's backend.
    const delegation = { app: 'instagram', act: { sub: 'instagram-backend' } };
    const delegated = await request('p1', 'person', { personId: 'p1' }, delegation);
    await expect(guard.canActivate(contextFor('wallet', delegated))).resolves.toBe(true);
    expect(delegated.principal).toMatchObject({ subject: 'p1', role: 'person', app: 'instagram', actedBy: 'instagram-backend' });
    await expect(guard.canActivate(contextFor('wallet', await request('p1', 'person', { personId: 'p2' }, delegation)))).rejects.toBeInstanceOf(
      NotFoundException,
    );
  });

  it("refuses an app's backend's own token a person's resources, whoever it names", async () => {
    for (const claims of [{ app: 'instagram' }, { app: 'instagram', scope: 'payments:initiate payments:read payments:refund history:read' }]) {
      const refused = guard.canActivate(contextFor('wallet', await request('instagram-backend', 'service', { personId: 'p2' }, claims)));
      await expect(refused).rejects.toBeInstanceOf(ForbiddenException);
      await expect(refused).rejects.toMatchObject({ response: { message: expect.stringMatching(/never a service's own/) } });
    }
  });

  it("refuses a person's own routes (PIN, passkeys, consent: no @AllowDelegated) to their token held by an app's backend", async () => {
    await expect(guard.canActivate(contextFor('pin', await request('p1', 'person', { personId: 'p1' })))).resolves.toBe(true);
    await expect(guard.canActivate(contextFor('pin', await request('p1', 'person', { personId: 'p1' }, { app: 'instagram' })))).resolves.toBe(true);
    const refused = guard.canActivate(
      contextFor('pin', await request('p1', 'person', { personId: 'p1' }, { app: 'instagram', act: { sub: 'instagram-backend' } })),
    );
    await expect(refused).rejects.toBeInstanceOf(ForbiddenException);
    await expect(refused).rejects.toMatchObject({ response: { message: expect.stringMatching(/the person's own/) } });
  });

  it("refuses a platform service's own token (no app) a person's resources, unless the route names that service", async () => {
    for (const [sub, scope] of [
      ['support', 'payments:refund'],
      ['payment-orchestration', 'instruments:read'],
      ['ad-signal-aggregation', undefined],
    ] as const) {
      const refused = guard.canActivate(contextFor('wallet', await request(sub, 'service', { personId: 'p2' }, scope ? { scope } : {})));
      await expect(refused).rejects.toBeInstanceOf(ForbiddenException);
      await expect(refused).rejects.toMatchObject({ response: { message: expect.stringMatching(/never a service's own/) } });
    }
    // The instruments route names orchestration: its own token (no app) passes there.
    await expect(
      guard.canActivate(contextFor('instruments', await request('payment-orchestration', 'service', { personId: 'p2' }, { scope: 'instruments:read' }))),
    ).resolves.toBe(true);
  });
});

describe('AuthGuard when the token key set cannot be had', () => {
  it('answers 503 AUTH_KEYS_UNAVAILABLE with Retry-After, not 401 and no WWW-Authenticate', async () => {
    const idp = await createTestIssuer();
    const verifier = new AccessTokenVerifier({ jwks: idp.jwks, issuer: idp.issuer, audience: idp.audience });
    jest.spyOn(verifier, 'verify').mockRejectedValue(new KeySetUnavailableError('the token key set could not be fetched; try again shortly'));
    const guard = new AuthGuard(new Reflector(), verifier, {});
    const response = { setHeader: jest.fn() };
    const request = { headers: { authorization: `Bearer ${await idp.signTestToken({ sub: 'ops', role: 'operator' })}` } };

    const error = await guard.canActivate(contextFor('reload', request, response)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HttpException);
    expect((error as HttpException).getStatus()).toBe(503);
    expect((error as HttpException).getResponse()).toEqual({
      code: 'AUTH_KEYS_UNAVAILABLE',
      message: 'the token key set could not be fetched; try again shortly',
    });
    expect(response.setHeader).toHaveBeenCalledWith('Retry-After', String(AUTH_KEYS_RETRY_AFTER_SECONDS));
    expect(response.setHeader).not.toHaveBeenCalledWith('WWW-Authenticate', expect.anything());
    expect(AUTH_KEYS_RETRY_AFTER_SECONDS).toBeGreaterThan(0);
  });

  it('still answers 401 without Retry-After for a token it could check', async () => {
    const idp = await createTestIssuer();
    const guard = new AuthGuard(new Reflector(), new AccessTokenVerifier({ jwks: idp.jwks, issuer: idp.issuer, audience: idp.audience }), {});
    const response = { setHeader: jest.fn() };
    const expired = { headers: { authorization: `Bearer ${await idp.signTestToken({ sub: 'ops', role: 'operator' }, { expiresIn: -3_600 })}` } };
    await expect(guard.canActivate(contextFor('reload', expired, response))).rejects.toBeInstanceOf(UnauthorizedException);
    expect(response.setHeader).toHaveBeenCalledWith('WWW-Authenticate', 'Bearer error="invalid_token"');
    expect(response.setHeader).not.toHaveBeenCalledWith('Retry-After', expect.anything());
  });
});
