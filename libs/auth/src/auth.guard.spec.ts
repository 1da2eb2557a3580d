import type { ExecutionContext } from '@nestjs/common';
import { ForbiddenException, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AccessTokenVerifier } from './access-token-verifier';
import { AuthGuard } from './auth.guard';
import { ActsForPerson, Public, Roles } from './decorators';
import type { TestIssuer } from './testing';
import { createTestIssuer } from './testing';

class Routes {
  @Public() health(): void {}
  @Roles('person', 'service') @ActsForPerson() wallet(): void {}
  @Roles('operator') reload(): void {}
  undeclared(): void {}
}

function contextFor(handler: keyof Routes, request: Record<string, unknown>): ExecutionContext {
  const response = { setHeader: jest.fn() };
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
  const request = async (sub: string, role: string, params: Record<string, string> = {}): Promise<Record<string, unknown>> => ({
    headers: { authorization: `Bearer ${await idp.signTestToken({ sub, role })}` },
    params,
  });

  beforeAll(async () => {
    idp = await createTestIssuer();
    guard = new AuthGuard(new Reflector(), new AccessTokenVerifier({ jwks: idp.jwks, issuer: idp.issuer, audience: idp.audience }), {
      publicRoutePrefixes: ['/health'],
    });
  });

  it('lets public routes through without a token', async () => {
    await expect(guard.canActivate(contextFor('health', { headers: {} }))).resolves.toBe(true);
    await expect(guard.canActivate(contextFor('undeclared', { headers: {}, route: { path: '/health/ready' } }))).resolves.toBe(true);
    await expect(guard.canActivate(contextFor('undeclared', { headers: {}, route: { path: '/healthcheck-not-really' } }))).rejects.toBeInstanceOf(UnauthorizedException);
  });

  it('authenticates, then authorises by role, and denies a route that declares no role', async () => {
    await expect(guard.canActivate(contextFor('reload', { headers: {} }))).rejects.toBeInstanceOf(UnauthorizedException);
    await expect(guard.canActivate(contextFor('reload', await request('ops', 'operator')))).resolves.toBe(true);
    await expect(guard.canActivate(contextFor('reload', await request('p1', 'person')))).rejects.toBeInstanceOf(ForbiddenException);
    await expect(guard.canActivate(contextFor('undeclared', await request('ops', 'operator')))).rejects.toBeInstanceOf(ForbiddenException);
  });

  it('keeps a person to their own id with a 404, and lets a service act for the person it names', async () => {
    const own = await request('p1', 'person', { personId: 'p1' });
    await expect(guard.canActivate(contextFor('wallet', own))).resolves.toBe(true);
    expect(own.principal).toEqual({ subject: 'p1', role: 'person', tokenId: expect.any(String) });
    await expect(guard.canActivate(contextFor('wallet', await request('p1', 'person', { personId: 'p2' })))).rejects.toBeInstanceOf(NotFoundException);
    await expect(guard.canActivate(contextFor('wallet', await request('shop', 'service', { personId: 'p2' })))).resolves.toBe(true);
  });
});
