import { SetMetadata } from '@nestjs/common';
import type { Role } from './principal';

export const PUBLIC_ROUTE = 'auth:public';
export const ALLOWED_ROLES = 'auth:roles';
export const PERSON_PARAM = 'auth:person-param';
export const REQUIRED_SCOPES = 'auth:scopes';
export const SERVICE_SUBJECTS = 'auth:service-subjects';
export const DELEGATION_ALLOWED = 'auth:delegation-allowed';

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
 * The services (token subjects) that may call the route, besides holding its scopes: a `service`
 * token of another subject gets 403, whatever scopes it claims (an identity provider's key may sign
 * any scope; `instruments:read` is payment-orchestration's alone). Narrows `@Roles`, never widens it.
 */
export const RequireServiceSubject = (...subjects: string[]): MethodDecorator & ClassDecorator => SetMetadata(SERVICE_SUBJECTS, subjects);

/**
 * A person's token that an app's backend holds for them (`act` claim, RFC 8693 token exchange)
 * opens this route too. Without it such a token gets 403: routes are the person's own unless they
 * say so (setting or changing the PIN, passkeys, consent, support conversations stay so: a backend
 * that set a first PIN could confirm its own payments with it). Forgetting it closes a route.
 */
export const AllowDelegated = (): MethodDecorator & ClassDecorator => SetMetadata(DELEGATION_ALLOWED, true);

/**
 * The route acts on the person named by this path parameter. A `person` may only name
 * themselves; naming anyone else gets the same 404 as a person that does not exist, so ids
 * cannot be probed (BOLA). An app's backend acts for a person with the person's token (issued to
 * it by the identity provider: `act`), never its own. A `service` token opens a person's route only
 * where the route names the services it is for (`@RequireServiceSubject`: payment-orchestration on
 * the instrument routes); any other service token gets 403.
 */
export const ActsForPerson = (param = 'personId'): MethodDecorator & ClassDecorator => SetMetadata(PERSON_PARAM, param);
