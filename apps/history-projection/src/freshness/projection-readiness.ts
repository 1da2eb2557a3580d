import type { CallHandler, ExecutionContext, NestInterceptor, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { HttpException, Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import type { HealthCheckResult } from '@nestjs/terminus';
import { SERVICE_CONFIG } from '@pay/platform';
import type { Observable } from 'rxjs';
import { catchError, from, map, switchMap } from 'rxjs';
import type { HistoryProjectionConfig } from '../config';
import type { LagSnapshot } from './projection-lag';
import { ProjectionLag } from './projection-lag';

export const PROJECTION_LAG = Symbol('ProjectionLag');

export interface ProjectionHealth {
  status: 'up' | 'down';
  eventsBehind: number;
  secondsBehind: number;
  measuredAt: string;
  topics: Array<{ topic: string; eventsBehind: number; secondsBehind: number }>;
  maxLagSeconds?: number;
  message?: string;
}

export function projectionHealth(snapshot: LagSnapshot, maxLagSeconds: number | undefined): ProjectionHealth {
  const tooFarBehind = maxLagSeconds !== undefined && snapshot.secondsBehind > maxLagSeconds;
  const health: ProjectionHealth = {
    status: tooFarBehind ? 'down' : 'up',
    eventsBehind: snapshot.eventsBehind,
    secondsBehind: snapshot.secondsBehind,
    measuredAt: snapshot.measuredAt,
    topics: snapshot.topics.map((t) => ({ topic: t.topic, eventsBehind: t.eventsBehind, secondsBehind: t.secondsBehind })),
  };
  if (maxLagSeconds !== undefined) health.maxLagSeconds = maxLagSeconds;
  if (tooFarBehind) health.message = `the projection is ${snapshot.secondsBehind} s behind (HISTORY_READY_MAX_LAG_SECONDS=${maxLagSeconds})`;
  else if (snapshot.error) health.message = `lag not measured: ${snapshot.error}`;
  return health;
}

function withProjection(result: HealthCheckResult, health: ProjectionHealth): HealthCheckResult {
  const section = { projection: health } as unknown as HealthCheckResult['details'];
  return {
    ...result,
    ...(health.status === 'up' ? { info: { ...result.info, ...section } } : { error: { ...result.error, ...section } }),
    details: { ...result.details, ...section },
  };
}

/**
 * Adds the projection's freshness to the platform's `/health/ready` (events and seconds behind
 * per topic). Lag alone keeps the service ready (stale history beats no history) unless
 * HISTORY_READY_MAX_LAG_SECONDS is set.
 */
@Injectable()
export class ProjectionReadiness implements NestInterceptor {
  constructor(
    @Inject(PROJECTION_LAG) private readonly lag: ProjectionLag,
    @Inject(SERVICE_CONFIG) private readonly config: HistoryProjectionConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<{ route?: { path?: string } }>();
    if (request.route?.path !== '/health/ready') return next.handle();
    return from(this.lag.current(1_000)).pipe(
      map((snapshot) => projectionHealth(snapshot, this.config.HISTORY_READY_MAX_LAG_SECONDS)),
      switchMap((health) =>
        next.handle().pipe(
          map((result) => {
            const augmented = withProjection(result as HealthCheckResult, health);
            if (health.status === 'down') throw new ServiceUnavailableException({ ...augmented, status: 'error' });
            return augmented;
          }),
          catchError((error: unknown) => {
            if (
              error instanceof HttpException &&
              typeof error.getResponse() === 'object' &&
              !(error.getResponse() as { details?: { projection?: unknown } }).details?.projection
            ) {
              throw new ServiceUnavailableException(withProjection(error.getResponse() as HealthCheckResult, health));
            }
            throw error;
          }),
        ),
      ),
    );
  }
}

/** Measures the lag every HISTORY_LAG_INTERVAL_MS, so the metric is current between probes. */
@Injectable()
export class LagSampler implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(PROJECTION_LAG) private readonly lag: ProjectionLag,
    @Inject(SERVICE_CONFIG) private readonly config: HistoryProjectionConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.lag.measure(), this.config.HISTORY_LAG_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
