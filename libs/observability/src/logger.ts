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
      log: (object) => ({ ...(scrubValue(object) as Record<string, unknown>), ...activeTrace() }),
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
    serializers: { err: (err: unknown) => scrubValue(err), error: (err: unknown) => scrubValue(err) },
  };
  return destination ? pino(options, destination) : pino(options);
}
