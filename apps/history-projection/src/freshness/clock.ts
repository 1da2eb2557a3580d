/** The projection lag's source of time (milliseconds since the epoch), a provider so tests can move it. */
export interface Clock {
  now(): number;
}

export const CLOCK = Symbol('Clock');
