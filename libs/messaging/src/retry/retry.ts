import { setTimeout as sleep } from 'node:timers/promises';
import type { BackoffPolicy } from './backoff';
import { backoffDelayMs } from './backoff';

/** When an operation is tried again. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** Whether this error is worth another attempt; any other is thrown at once. */
  readonly retryOn: (error: unknown) => boolean;
  /**
   * Wait before each retry (backoffDelayMs: capped, doubling, jittered). Omitted: retry at once,
   * for races a fresh read settles (a serialization failure, a version another writer took).
   */
  readonly backoff?: BackoffPolicy;
}

export interface RetryClock {
  readonly sleep: (ms: number) => Promise<unknown>;
  readonly random: () => number;
}

const REAL_CLOCK: RetryClock = { sleep: (ms) => sleep(ms), random: Math.random };

/**
 * Runs `work` until it succeeds, throws an error the policy does not retry, or has used
 * `maxAttempts`; then throws the last error unchanged. `work` gets the attempt number (from 1).
 */
export async function retrying<T>(policy: RetryPolicy, work: (attempt: number) => Promise<T>, clock: RetryClock = REAL_CLOCK): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work(attempt);
    } catch (error) {
      if (attempt >= policy.maxAttempts || !policy.retryOn(error)) throw error;
      if (policy.backoff) await clock.sleep(backoffDelayMs(attempt, policy.backoff, clock.random));
    }
  }
}
