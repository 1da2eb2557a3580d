import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Attributes, Context, Span } from '@opentelemetry/api';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { platformMetrics } from './metrics';
import { tracer } from './telemetry';

type RoutedRequest = IncomingMessage & { route?: { path?: string } };

/** The path without its query string (a query may carry personal data; spans never hold it). */
function pathOf(url: string | undefined): string {
  return (url ?? '/').split('?', 1)[0] || '/';
}

/**
 * Connect/Express middleware: one SERVER span per request, continuing the caller's W3C trace
 * (`traceparent` header) and active while the request is handled, so the events it writes and
 * the calls it makes belong to the caller's trace. The span is named by the route template once
 * the router matched it (`POST /v1/payments`), never by the raw path. The tracer is named after
 * the service, so its spans say which service served the request.
 *
 * It also records the request's latency by method, route template and status: every request,
 * including those refused before a handler runs (401/403/503 from the auth guard, 404, a 400 from
 * validation), which an interceptor would not see.
 */
export function observeHttpRequests(service: string): (request: IncomingMessage, response: ServerResponse, next: () => void) => void {
  const spans = tracer(service);
  return (request, response, next) => {
    const parent: Context = propagation.extract(context.active(), request.headers);
    const method = request.method ?? 'UNKNOWN';
    const started = performance.now();
    const span: Span = spans.startSpan(
      method,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': pathOf(request.url) } },
      parent,
    );
    response.once('close', () => {
      // Nest answers unknown paths from a catch-all route (`{/*splat}`): that is no route of ours.
      const matched = (request as RoutedRequest).route?.path;
      const route = matched && !matched.includes('*') ? matched : undefined;
      platformMetrics().httpDuration.record((performance.now() - started) / 1000, { method, route: route ?? 'unmatched', status_code: response.statusCode });
      const attributes: Attributes = { 'http.response.status_code': response.statusCode };
      if (route) {
        attributes['http.route'] = route;
        span.updateName(`${method} ${route}`);
      }
      span.setAttributes(attributes);
      if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    const active = trace.setSpan(parent, span);
    // Body parsers continue from the request stream's events, which run in the socket's context:
    // bind the request and response emitters so their listeners run in this request's context.
    context.bind(active, request);
    context.bind(active, response);
    context.with(active, next);
  };
}

/**
 * `fetch` as a CLIENT span of the active trace, with the W3C context in the request's headers so
 * the service called continues the trace. The URL's query string is not recorded.
 */
export async function tracedFetch(service: string, url: string, init: RequestInit = {}): Promise<Response> {
  const method = init.method ?? 'GET';
  const target = new URL(url);
  const span = tracer(service).startSpan(method, {
    kind: SpanKind.CLIENT,
    attributes: { 'http.request.method': method, 'server.address': target.hostname, 'server.port': Number(target.port) || 80, 'url.path': target.pathname },
  });
  const active = trace.setSpan(context.active(), span);
  const headers = new Headers(init.headers);
  propagation.inject(active, headers, { set: (carrier, key, value) => carrier.set(key, value) });
  try {
    const response = await context.with(active, () => fetch(url, { ...init, headers }));
    span.setAttribute('http.response.status_code', response.status);
    if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    return response;
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).name });
    throw error;
  } finally {
    span.end();
  }
}
