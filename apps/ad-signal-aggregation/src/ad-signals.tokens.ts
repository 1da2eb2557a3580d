/** Injection tokens of the ad-signal aggregation's ports, declared beside the module. */
export const AD_SIGNAL_SETTINGS = Symbol('AdSignalSettings');
export const CLOCK = Symbol('Clock');
export const NOISE_SOURCE = Symbol('NoiseSource');

/** Wall-clock time, only to cap how far a future-dated event moves the watermark. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
