/**
 * Something the handler needs is out of reach (a service, a key set, the database): an outage,
 * not a bad message. The InboxConsumer does not count it toward `maxAttempts` and never
 * dead-letters for it; it retries the same message, with capped backoff, until the dependency
 * answers (or the consumer stops). Throw it, or wrap the library's own error in it (`cause`).
 */
export class DependencyUnavailableError extends Error {
  override name = 'DependencyUnavailableError';

  constructor(
    /** A short, stable name for logs and the metric's `dependency` label, e.g. `wallet-step-up-keys`. */
    readonly dependency: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface Unavailability {
  dependency: string;
  reason: string;
}

/** Socket errors of a connection that could not be made or was lost (Node's `code`). */
const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * SQLSTATEs of a server that is gone or not accepting us right now: class 08 (connection
 * exception), 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 53300
 * too_many_connections. Not constraint violations, not serialization failures or deadlocks
 * (those are about this transaction and are retried as ordinary failures).
 */
const isUnavailableSqlState = (code: string): boolean => /^08[0-9A-Z]{3}$/.test(code) || ['57P01', '57P02', '57P03', '53300'].includes(code);

/** What node-postgres and pg-pool say when the connection drops or cannot be had (no code). */
const PG_CONNECTION_MESSAGES = [
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /Client has encountered a connection error and is not queryable/,
];

/** The error, what it wraps (`cause`, TypeORM's `driverError`) and an AggregateError's members. */
function chainOf(error: unknown): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  const pending: unknown[] = [error];
  while (pending.length > 0 && found.length < 10) {
    const next = pending.shift();
    if (typeof next !== 'object' || next === null || found.includes(next as Record<string, unknown>)) continue;
    const candidate = next as Record<string, unknown>;
    found.push(candidate);
    pending.push(candidate.cause, candidate.driverError, ...(Array.isArray(candidate.errors) ? (candidate.errors as unknown[]) : []));
  }
  return found;
}

/**
 * Whether a failed attempt means "a dependency is unavailable, try again later": a
 * DependencyUnavailableError anywhere in the chain, or a connection-level failure (PostgreSQL
 * unreachable, the connection lost or shut down by the server). `undefined` for anything else,
 * which is retried `maxAttempts` times and then dead-lettered.
 */
export function unavailabilityOf(error: unknown): Unavailability | undefined {
  const chain = chainOf(error);
  const explicit = chain.find((e): e is Record<string, unknown> & DependencyUnavailableError => e instanceof DependencyUnavailableError);
  if (explicit) return { dependency: explicit.dependency, reason: explicit.message };
  for (const e of chain) {
    const code = typeof e.code === 'string' ? e.code : '';
    const message = typeof e.message === 'string' ? e.message : '';
    if (isUnavailableSqlState(code) || PG_CONNECTION_MESSAGES.some((pattern) => pattern.test(message))) {
      return { dependency: 'postgresql', reason: `${code ? `${code} ` : ''}${message}` };
    }
    if (CONNECTION_ERROR_CODES.has(code)) return { dependency: 'connection', reason: message || code };
  }
  return undefined;
}
