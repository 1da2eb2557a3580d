import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { ForbiddenException, HttpException, HttpStatus, Inject, Injectable, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessTokenVerifier } from './access-token-verifier';
import { AUTH_KEYS_RETRY_AFTER_SECONDS, AuthenticationError, KeySetUnavailableError } from './auth-errors';
import { ACCESS_TOKEN_VERIFIER, AUTH_OPTIONS } from './auth.tokens';
import { ALLOWED_ROLES, DELEGATION_ALLOWED, PERSON_PARAM, PUBLIC_ROUTE, REQUIRED_SCOPES, SERVICE_SUBJECTS } from './decorators';
import type { AuthenticatedRequest, Principal, Role } from './principal';

export interface AuthGuardOptions {
  /**
   * Route patterns (as declared, e.g. `/health/live`) that need no token, for controllers that
   * cannot carry `@Public()` themselves. Matched on the route Express resolved, never the raw
   * URL, so `/health/../v1/...` tricks do not apply.
   */
  publicRoutePrefixes?: readonly string[];
}

type Request = IncomingMessage & AuthenticatedRequest & { route?: { path?: unknown }; params?: Record<string, string | undefined> };

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

/** The one 404 body for "not yours" and "does not exist": the two must be indistinguishable. */
export const NOT_FOUND_BODY = { code: 'NOT_FOUND', message: 'nothing was found at this address' } as const;

/**
 * The global guard of every HTTP route: authenticate (bearer JWT), authorise by role, and for
 * routes that act on a person, keep persons to their own data. Deny by default.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(ACCESS_TOKEN_VERIFIER) private readonly verifier: AccessTokenVerifier,
    @Inject(AUTH_OPTIONS) private readonly options: AuthGuardOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // Kafka handlers and other transports authenticate their own way (signed envelopes, ACLs).
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    const request = context.switchToHttp().getRequest<Request>();
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets) || this.isPublicRoute(request)) return true;

    const principal = await this.authenticate(request, context.switchToHttp().getResponse<ServerResponse>());
    request.principal = principal;

    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ALLOWED_ROLES, targets) ?? [];
    if (!roles.includes(principal.role)) {
      throw new ForbiddenException({
        code: 'FORBIDDEN',
        message: roles.length === 0 ? 'this route is not open to any role' : `this route is open to ${roles.join(', ')}; the token's role is ${principal.role}`,
      });
    }

    // Scopes narrow what a service may do; the other roles are narrow by themselves.
    const scopes = principal.role === 'service' ? (this.reflector.getAllAndOverride<string[] | undefined>(REQUIRED_SCOPES, targets) ?? []) : [];
    const missing = scopes.filter((scope) => !principal.scopes.includes(scope));
    if (missing.length > 0) {
      throw new ForbiddenException({ code: 'FORBIDDEN', message: `this route needs the scope ${missing.join(', ')}, which the token does not grant` });
    }

    // Which services: a scope an identity provider's key may sign for anyone does not say who calls.
    const subjects = this.reflector.getAllAndOverride<string[] | undefined>(SERVICE_SUBJECTS, targets);
    if (principal.role === 'service' && subjects !== undefined && !subjects.includes(principal.subject)) {
      throw new ForbiddenException({
        code: 'FORBIDDEN',
        message: `this route is open to the service ${subjects.join(', ')} alone; the token's subject is ${principal.subject}`,
      });
    }

    const personParam = this.reflector.getAllAndOverride<string | undefined>(PERSON_PARAM, targets);
    if (personParam !== undefined && principal.role === 'person' && request.params?.[personParam] !== principal.subject) {
      throw new NotFoundException(NOT_FOUND_BODY);
    }
    if (principal.actedBy !== undefined && !this.reflector.getAllAndOverride<boolean>(DELEGATION_ALLOWED, targets)) {
      throw new ForbiddenException({
        code: 'FORBIDDEN',
        message: `this route is the person's own: a token ${principal.actedBy} holds for them does not open it`,
      });
    }
    // A service's own token, an app's backend's included, opens no person's resources: the backend
    // acts for a person with the token the identity provider issued it for them (role person, `act`).
    // Only a route that names its services (the instrument routes: payment-orchestration) takes one.
    if (personParam !== undefined && principal.role === 'service' && subjects === undefined) {
      throw new ForbiddenException({
        code: 'FORBIDDEN',
        message:
          "this route is open to the person's token (an app's backend acting for them presents the one the identity provider issued it), never a service's own",
      });
    }
    return true;
  }

  private isPublicRoute(request: Request): boolean {
    const path = request.route?.path;
    return typeof path === 'string' && (this.options.publicRoutePrefixes ?? []).some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
  }

  private async authenticate(request: Request, response: ServerResponse): Promise<Principal> {
    const header = request.headers.authorization;
    try {
      if (!header) throw new AuthenticationError('missing', 'send an access token: Authorization: Bearer <JWT>');
      const match = BEARER.exec(header);
      if (!match) throw new AuthenticationError('malformed', 'the Authorization header must be "Bearer <JWT>"');
      return await this.verifier.verify(match[1]);
    } catch (error) {
      if (error instanceof KeySetUnavailableError) {
        // Not the caller's fault and not a refusal: the token was not checked; ask again shortly.
        response.setHeader('Retry-After', String(AUTH_KEYS_RETRY_AFTER_SECONDS));
        throw new HttpException({ code: 'AUTH_KEYS_UNAVAILABLE', message: error.message }, HttpStatus.SERVICE_UNAVAILABLE);
      }
      if (error instanceof AuthenticationError) {
        // RFC 6750: tell the client how to authenticate and, for a bad token, that it was bad.
        response.setHeader('WWW-Authenticate', error.reason === 'missing' ? 'Bearer' : 'Bearer error="invalid_token"');
        throw new UnauthorizedException({ code: 'UNAUTHENTICATED', message: error.message });
      }
      throw error;
    }
  }
}
