import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
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
 * Runs a request to another service as a CLIENT span of the active trace: `send` gets the span's
 * context (to put in the request's headers) and answers the status, recorded on the span. The
 * URL's query string is not recorded.
 */
async function asClientSpan<T extends { status: number }>(service: string, method: string, target: URL, send: (active: Context) => Promise<T>): Promise<T> {
  const span = tracer(service).startSpan(method, {
    kind: SpanKind.CLIENT,
    attributes: {
      'http.request.method': method,
      'server.address': target.hostname,
      'server.port': Number(target.port) || (target.protocol === 'https:' ? 443 : 80),
      'url.path': target.pathname,
    },
  });
  try {
    const answer = await send(trace.setSpan(context.active(), span));
    span.setAttribute('http.response.status_code', answer.status);
    if (answer.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    return answer;
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).name });
    throw error;
  } finally {
    span.end();
  }
}

/** `fetch` as a CLIENT span of the active trace, with the W3C context in the request's headers so the service called continues the trace. */
export async function tracedFetch(service: string, url: string, init: RequestInit = {}): Promise<Response> {
  return asClientSpan(service, init.method ?? 'GET', new URL(url), (active) => {
    const headers = new Headers(init.headers);
    propagation.inject(active, headers, { set: (carrier, key, value) => carrier.set(key, value) });
    return context.with(active, () => fetch(url, { ...init, headers }));
  });
}

/** An answer read whole by `tracedRequest`. */
export interface HttpAnswer {
  readonly status: number;
  /** 2xx. */
  readonly ok: boolean;
  /** The body as text ('' when empty). */
  readonly text: string;
  /** The body parsed as JSON; throws a SyntaxError when it is not JSON. */
  json(): unknown;
}

export interface HttpRequestInit {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Aborts the request (e.g. `AbortSignal.timeout(ms)`). */
  readonly signal?: AbortSignal;
  /** An answer longer than this is refused (default 1 MiB). */
  readonly maxBodyBytes?: number;
}

/** Connections kept open between requests (per origin), as `fetch` keeps them. */
const keepAlive = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

/**
 * A request between services on a hot path, as a CLIENT span like `tracedFetch`, over node's
 * http client with keep-alive connections: the same request costs about half the CPU of `fetch`
 * (measured: docs/benchmarks.md, Session 10). The answer is read whole (at most `maxBodyBytes`).
 */
export async function tracedRequest(service: string, url: string, init: HttpRequestInit = {}): Promise<HttpAnswer> {
  const method = init.method ?? 'GET';
  const target = new URL(url);
  const https = target.protocol === 'https:';
  const maxBodyBytes = init.maxBodyBytes ?? 1024 * 1024;
  return asClientSpan(service, method, target, (active) => {
    const headers: Record<string, string> = { ...init.headers };
    propagation.inject(active, headers);
    if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
    return new Promise<HttpAnswer>((resolve, reject) => {
      const request = (https ? httpsRequest : httpRequest)(
        target,
        { method, headers, agent: https ? keepAlive.https : keepAlive.http, ...(init.signal ? { signal: init.signal } : {}) },
        (response) => {
          const chunks: Buffer[] = [];
          let length = 0;
          response.on('data', (chunk: Buffer) => {
            length += chunk.length;
            if (length > maxBodyBytes) response.destroy(new Error(`the answer is longer than ${maxBodyBytes} bytes`));
            else chunks.push(chunk);
          });
          response.on('error', reject);
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status, ok: status >= 200 && status < 300, text, json: () => JSON.parse(text) as unknown });
          });
        },
      );
      request.on('error', reject);
      request.end(init.body);
    });
  });
}
