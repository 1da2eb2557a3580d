import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { createParamDecorator, ForbiddenException, HttpException, HttpStatus, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { AuthenticationError, KeySetUnavailableError } from '@pay/auth';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ADVERTISER_TOKEN_VERIFIER } from '../ad-signals.tokens';
import type { AdvertiserPrincipal, AdvertiserTokenVerifier } from './advertiser-token.verifier';
import { NotAnAdvertiserError } from './advertiser-token.verifier';

type Request = IncomingMessage & { advertiser?: AdvertiserPrincipal };

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

/** Lets in advertisers only, with the merchants their token names; the same answers as libs/auth's guard. */
@Injectable()
export class AdvertiserGuard implements CanActivate {
  constructor(@Inject(ADVERTISER_TOKEN_VERIFIER) private readonly verifier: AdvertiserTokenVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    const response = context.switchToHttp().getResponse<ServerResponse>();
    try {
      const header = request.headers.authorization;
      if (!header) throw new AuthenticationError('missing', 'send an access token: Authorization: Bearer <JWT>');
      const match = BEARER.exec(header);
      if (!match) throw new AuthenticationError('malformed', 'the Authorization header must be "Bearer <JWT>"');
      request.advertiser = await this.verifier.verify(match[1]);
      return true;
    } catch (error) {
      if (error instanceof NotAnAdvertiserError) throw new ForbiddenException({ code: 'FORBIDDEN', message: error.message });
      if (error instanceof KeySetUnavailableError) throw new HttpException({ code: 'AUTH_KEYS_UNAVAILABLE', message: error.message }, HttpStatus.SERVICE_UNAVAILABLE);
      if (error instanceof AuthenticationError) {
        response.setHeader('WWW-Authenticate', error.reason === 'missing' ? 'Bearer' : 'Bearer error="invalid_token"');
        throw new UnauthorizedException({ code: 'UNAUTHENTICATED', message: error.message });
      }
      throw error;
    }
  }
}

/** The authenticated advertiser of the request. */
export const Advertiser = createParamDecorator((_data: unknown, context: ExecutionContext): AdvertiserPrincipal => {
  const advertiser = context.switchToHttp().getRequest<Request>().advertiser;
  if (!advertiser) throw new Error('@Advertiser() used on a route without AdvertiserGuard');
  return advertiser;
});
