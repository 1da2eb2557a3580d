import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { HttpException, Injectable } from '@nestjs/common';
import { platformMetrics } from '@pay/observability';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Observable } from 'rxjs';
import { tap } from 'rxjs';

/** Request rate and latency by route template (never the raw path: ids would explode cardinality). */
@Injectable()
export class HttpMetricsInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const started = performance.now();
    const http = context.switchToHttp();
    const request = http.getRequest<IncomingMessage & { route?: { path?: string } }>();
    const route = request.route?.path ?? 'unmatched';
    const record = (status: number): void =>
      platformMetrics().httpDuration.record((performance.now() - started) / 1000, { method: request.method ?? 'UNKNOWN', route, status_code: status });
    return next.handle().pipe(
      tap({
        next: () => record(http.getResponse<ServerResponse>().statusCode),
        error: (error: unknown) => record(error instanceof HttpException ? error.getStatus() : 500),
      }),
    );
  }
}
