/** Time, injected so rules that depend on it (lockouts, expiry) can be tested at any moment. */
export interface Clock {
  now(): Date;
}

export const CLOCK = Symbol('Clock');

export const systemClock: Clock = { now: () => new Date() };
