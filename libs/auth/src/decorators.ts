import { SetMetadata } from '@nestjs/common';
import type { Role } from './principal';

export const PUBLIC_ROUTE = 'auth:public';
export const ALLOWED_ROLES = 'auth:roles';
export const PERSON_PARAM = 'auth:person-param';
export const REQUIRED_SCOPES = 'auth:scopes';

/** The route needs no token (health, metrics, published keys). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);

/**
 * The roles that may call the route. A route without `@Roles` (and not `@Public`) is refused
 * to everyone: forgetting the decorator must close a route, not open it.
 */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator => SetMetadata(ALLOWED_ROLES, roles);

/**
 * Scopes a caller of the route must hold besides its role (`scope` claim): a `service` token
 * without them gets 403, whoever it acts for. Narrows `@Roles`, never widens it.
 */
export const RequireScopes = (...scopes: string[]): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_SCOPES, scopes);

/**
 * The route acts on the person named by this path parameter. A `person` may only name
 * themselves; naming anyone else gets the same 404 as a person that does not exist, so ids
 * cannot be probed (BOLA). A `service` acts for the person it names when it is an app's backend
 * (its token names its app) or the route requires a scope (which then decides); a platform
 * service's own token (no app) gets 403.
 */
export const ActsForPerson = (param = 'personId'): MethodDecorator & ClassDecorator => SetMetadata(PERSON_PARAM, param);
