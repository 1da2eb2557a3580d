import type { DynamicModule, InjectionToken, OnApplicationShutdown, OptionalFactoryDependency } from '@nestjs/common';
import { Global, Inject, Injectable, Module } from '@nestjs/common';
import type { RolloutSourceOptions } from './rollout-source';
import { RolloutSource } from './rollout-source';

/** Injection token of the live RolloutSource. */
export const ROLLOUT = Symbol('Rollout');

export interface RolloutModuleAsyncOptions {
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useFactory: (...args: never[]) => RolloutSourceOptions;
}

@Injectable()
class RolloutLifecycle implements OnApplicationShutdown {
  constructor(@Inject(ROLLOUT) private readonly source: RolloutSource) {}

  onApplicationShutdown(): void {
    this.source.close();
  }
}

/** Provides the live rollout (ROLLOUT) to a service, loaded before the service listens. */
@Global()
@Module({})
export class RolloutModule {
  static forRootAsync(options: RolloutModuleAsyncOptions): DynamicModule {
    return {
      module: RolloutModule,
      providers: [
        { provide: ROLLOUT, inject: options.inject ?? [], useFactory: (...args: never[]) => RolloutSource.open(options.useFactory(...args)) },
        RolloutLifecycle,
      ],
      exports: [ROLLOUT],
    };
  }
}
