import type { ExecutionContext } from '@nestjs/common';
import { ForbiddenException, HttpException, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AccessTokenVerifier } from './access-token-verifier';
import { AUTH_KEYS_RETRY_AFTER_SECONDS, KeySetUnavailableError } from './auth-errors';
import { AuthGuard } from './auth.guard';
import { ActsForPerson, Public, RequireScopes, Roles } from './decorators';
import type { TestIssuer } from './testing';
import { createTestIssuer } from './testing';

class Routes {
  @Public() health(): void {}
  @Roles('person', 'service') @ActsForPerson() wallet(): void {}
  @Roles('operator') reload(): void {}
  @Roles('service') @RequireScopes('instruments:read') @ActsForPerson() instruments(): void {}
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
    await expect(guard.canActivate(contextFor('instruments', await request('po', 'service', { personId: 'p1' }, { scope: 'instruments:read' })))).resolves.toBe(
      true,
    );
    for (const claims of [{}, { scope: 'payments:initiate' }, { scope: 'instruments:write' }]) {
      await expect(guard.canActivate(contextFor('instruments', await request('shop', 'service', { personId: 'p1' }, claims)))).rejects.toBeInstanceOf(
        ForbiddenException,
      );
    }
    // A scope never widens the roles: a person with the scope is still not a service.
    await expect(
      guard.canActivate(contextFor('instruments', await request('p1', 'person', { personId: 'p1' }, { scope: 'instruments:read' }))),
    ).rejects.toBeInstanceOf(ForbiddenException);
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

  it("keeps a person to their own id with a 404, and lets an app's backend act for the person it names", async () => {
    const own = await request('p1', 'person', { personId: 'p1' });
    await expect(guard.canActivate(contextFor('wallet', own))).resolves.toBe(true);
    expect(own.principal).toEqual({ subject: 'p1', role: 'person', tokenId: expect.any(String), scopes: [] });
    await expect(guard.canActivate(contextFor('wallet', await request('p1', 'person', { personId: 'p2' })))).rejects.toBeInstanceOf(NotFoundException);
    await expect(
      guard.canActivate(contextFor('wallet', await request('instagram-backend', 'service', { personId: 'p2' }, { app: 'instagram' }))),
    ).resolves.toBe(true);
  });

  it("refuses a platform service's own token (no app) a person's resources, unless the route's scope grants them", async () => {
    for (const [sub, scope] of [
      ['support', 'payments:refund'],
      ['payment-orchestration', 'instruments:read'],
      ['ad-signal-aggregation', undefined],
    ] as const) {
      const refused = guard.canActivate(contextFor('wallet', await request(sub, 'service', { personId: 'p2' }, scope ? { scope } : {})));
      await expect(refused).rejects.toBeInstanceOf(ForbiddenException);
      await expect(refused).rejects.toMatchObject({ response: { message: expect.stringMatching(/names no app/) } });
    }
    // The instruments route names its scope: orchestration's own token (no app) passes there.
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
