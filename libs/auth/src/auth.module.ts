import type { DynamicModule, InjectionToken, OptionalFactoryDependency } from '@nestjs/common';
import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { AccessTokenOptions } from './access-token-verifier';
import { AccessTokenVerifier } from './access-token-verifier';
import type { AuthGuardOptions } from './auth.guard';
import { AuthGuard } from './auth.guard';
import { ACCESS_TOKEN_VERIFIER, AUTH_OPTIONS } from './auth.tokens';

export type AuthModuleOptions = AccessTokenOptions & AuthGuardOptions;

export interface AuthModuleAsyncOptions {
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useFactory: (...args: never[]) => AuthModuleOptions;
}

/**
 * Authentication and authorisation for every HTTP route of a service: registers the global
 * guard (deny by default; `@Public()`, `@Roles()`, `@ActsForPerson()` open routes) and the
 * access-token verifier.
 */
@Global()
@Module({})
export class AuthModule {
  static forRoot(options: AuthModuleOptions): DynamicModule {
    return AuthModule.forRootAsync({ useFactory: () => options });
  }

  static forRootAsync(options: AuthModuleAsyncOptions): DynamicModule {
    return {
      module: AuthModule,
      providers: [
        { provide: AUTH_OPTIONS, inject: options.inject ?? [], useFactory: options.useFactory },
        { provide: ACCESS_TOKEN_VERIFIER, inject: [AUTH_OPTIONS], useFactory: (resolved: AuthModuleOptions) => new AccessTokenVerifier(resolved) },
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
      exports: [ACCESS_TOKEN_VERIFIER, AUTH_OPTIONS],
    };
  }
}
