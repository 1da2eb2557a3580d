import pino from 'pino';
import type { Logger, LoggerOptions } from 'pino';
import { scrubText, scrubValue } from './redaction';

export type { Logger } from 'pino';

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
      log: (object) => scrubValue(object) as Record<string, unknown>,
    },
    hooks: {
      // Messages are scrubbed too: `log.info('paid with %s', card)` must not leak.
      logMethod(args, method) {
        const scrubbed = args.map((arg) => (typeof arg === 'string' ? scrubText(arg) : arg)) as Parameters<typeof method>;
        method.apply(this, scrubbed);
      },
    },
    serializers: { err: (err: unknown) => scrubValue(err), error: (err: unknown) => scrubValue(err) },
  };
  return destination ? pino(options, destination) : pino(options);
}
