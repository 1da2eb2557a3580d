/** Capped exponential backoff: the first delay, and the ceiling no delay exceeds. */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

/**
 * How long to wait before retry number `attempt` (1 for the first retry): the exponential
 * ceiling `baseMs * 2^(attempt-1)`, capped at `maxMs`, jittered into its upper half so that
 * replicas failing together do not retry together, yet never retry in a tight loop.
 * `random` returns a number in [0, 1) (Math.random by default; tests pass a fixed one).
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return ceiling / 2 + (random() * ceiling) / 2;
}
