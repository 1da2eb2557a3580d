export interface WaitOptions {
  /** What is awaited, for the error: `the capture to be posted`. */
  what?: string;
  /** Default 60 s: generous on a busy two-core machine; a passing test returns as soon as `done` holds. */
  timeoutMs?: number;
  /** Pause between two probes; default 100 ms. */
  intervalMs?: number;
}

const asJson = (value: unknown): string => {
  try {
    return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item)) ?? String(value);
  } catch {
    return String(value);
  }
};

/**
 * Probes until `done` accepts what the probe returned, and returns that value. Past the timeout
 * it throws, naming what was awaited and the last value seen.
 */
export async function waitFor<T>(probe: () => T | Promise<T>, done: (value: T) => boolean, options: WaitOptions = {}): Promise<T> {
  const { what = 'condition', timeoutMs = 60_000, intervalMs = 100 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; last seen ${asJson(value)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** For probes that answer yes or no: `waitFor(() => ran.length > 0, isTrue, { what })`. */
export const isTrue = (value: boolean): boolean => value;
