import { IncomingMessage, ServerResponse } from 'node:http';
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import pino from 'pino';
import type { Logger, LoggerOptions } from 'pino';
import { scrubText, scrubValue } from './redaction';

export type { Logger } from 'pino';

/** `trace_id` and `span_id` of the active span, so a log line leads to its trace (and back). */
function activeTrace(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  const spanContext = span?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : {};
}

/** Where secrets sit in the objects services log most: request headers and configuration. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'config.databaseUrl',
  'config.stripeSecretKey',
  'config.webhookSecret',
];

/**
 * What an HTTP request is logged as: its id, method and path (a query string can carry anything),
 * no headers (Authorization, cookies). Takes a request or pino-http's serialized copy of one.
 */
export function requestLogFields(request: { id?: unknown; method?: string; url?: string }): Record<string, unknown> {
  return { id: request.id, method: request.method, path: scrubText((request.url ?? '').split('?')[0] ?? '') };
}

/** What an HTTP answer is logged as: its status. */
export function responseLogFields(response: { statusCode?: number }): Record<string, unknown> {
  return { statusCode: response.statusCode };
}

/**
 * The merging object of a line, scrubbed, but for a request under `req` or an answer under `res`:
 * the serializers reduce those to requestLogFields and responseLogFields, which hold nothing to
 * scrub. Scrubbing them first deep-copied their object graphs (socket, server, parser, the other
 * of the pair…) on every access line, for fields the serializer then dropped: 0.6 ms of
 * orchestration's CPU per purchase at `info` (docs/benchmarks.md, session 21).
 */
function scrubMerging(object: Record<string, unknown>): Record<string, unknown> {
  const request = object.req instanceof IncomingMessage ? object.req : undefined;
  const response = object.res instanceof ServerResponse ? object.res : undefined;
  if (!request && !response) return scrubValue(object) as Record<string, unknown>;
  const rest = { ...object };
  if (request) delete rest.req;
  if (response) delete rest.res;
  return { ...(scrubValue(rest) as Record<string, unknown>), ...(request ? { req: request } : {}), ...(response ? { res: response } : {}) };
}

/**
 * Structured JSON logs on stdout with every object and message scrubbed (redaction.ts).
 * Services, scripts and tests all log through this, so nothing sensitive reaches a log.
 */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  const options: LoggerOptions = {
    name: service,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      // The active trace is added after scrubbing: hex ids are not card numbers, whatever digits they hold.
      log: (object) => ({ ...scrubMerging(object), ...activeTrace() }),
    },
    hooks: {
      // Messages and every format argument are scrubbed too: `log.info('paid with %s', card)` and
      // `log.info('%o', { pspToken })` must not leak. The merging object (first) is scrubbed by `log` above.
      logMethod(args, method) {
        const scrubbed = args.map((arg, index) => (typeof arg === 'string' ? scrubText(arg) : index === 0 ? arg : scrubValue(arg))) as Parameters<
          typeof method
        >;
        method.apply(this, scrubbed);
      },
    },
    // pino's own paths first (cheap, exact), the scrubber for everything else.
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    serializers: {
      err: (err: unknown) => scrubValue(err),
      error: (err: unknown) => scrubValue(err),
      // Anything else under these keys was scrubbed by `log` above and is logged as it is.
      req: (value: unknown) => (value instanceof IncomingMessage ? requestLogFields(value) : value),
      res: (value: unknown) => (value instanceof ServerResponse ? responseLogFields(value) : value),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
