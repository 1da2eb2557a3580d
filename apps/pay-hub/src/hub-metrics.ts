import type { IncomingMessage } from 'node:http';
import type { Counter, Histogram } from '@opentelemetry/api';
import { meter, SECONDS_BUCKETS } from '@pay/observability';

let instruments: { upstreamDuration: Histogram; signIns: Counter } | undefined;

/** The hub's own instruments (beside the platform's http.server.request.duration), created once per process. */
export function hubMetrics(): NonNullable<typeof instruments> {
  instruments ??= {
    upstreamDuration: meter('pay-hub').createHistogram('pay_hub.upstream.request.duration', {
      description: 'Time for a service to answer what the hub forwarded (until its headers), by service and status',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
    signIns: meter('pay-hub').createCounter('pay_hub.sign_ins', { description: 'Sessions begun, by sign-in mode and role' }),
  };
  return instruments;
}

/**
 * The route template a request is recorded under (metrics and span names): never the raw path,
 * which holds person ids and payment ids. observeHttpRequests reads it from `request.route.path`,
 * where Express leaves it (and counts a template with `*` as unmatched: none has one).
 */
export function routeTemplate(method: string, path: string): string {
  if (path === '/health/live' || path === '/health/ready' || path === '/metrics') return path;
  const api = /^\/api\/(wallet|history|support)\//.exec(path);
  if (api) return `/api/${api[1]}/{route}`;
  if (path.startsWith('/bff/'))
    return ['/bff/session', '/bff/dev-sign-in', '/bff/sign-out', '/bff/login', '/bff/callback', '/bff/dev-shop/purchases'].includes(path)
      ? path
      : '/bff/{unknown}';
  if (path.startsWith('/assets/')) return '/assets/{file}';
  return method === 'GET' || method === 'HEAD' ? '/{page}' : '/{unknown}';
}

export function recordRoute(request: IncomingMessage, template: string): void {
  (request as IncomingMessage & { route?: { path: string } }).route = { path: template };
}
