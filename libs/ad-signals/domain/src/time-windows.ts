/**
 * Tumbling windows in UTC. A window is [start, end); an event belongs to the window that holds
 * its time. Times are epoch milliseconds inside the domain and ISO-8601 at its edges.
 */
export const GRANULARITIES = ['hour', 'day'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

export const WINDOW_MS: Readonly<Record<Granularity, number>> = { hour: 3_600_000, day: 86_400_000 };

export interface TimeWindow {
  granularity: Granularity;
  /** Epoch milliseconds, aligned to the granularity. */
  start: number;
  end: number;
}

export function windowOf(granularity: Granularity, at: number): TimeWindow {
  const size = WINDOW_MS[granularity];
  const start = Math.floor(at / size) * size;
  return { granularity, start, end: start + size };
}

export function windowStarting(granularity: Granularity, start: number): TimeWindow {
  if (start % WINDOW_MS[granularity] !== 0) throw new RangeError(`${new Date(start).toISOString()} is not the start of a ${granularity} window`);
  return { granularity, start, end: start + WINDOW_MS[granularity] };
}

/** The window's position since the epoch, 1-based: hour 1 is 1970-01-01T00:00Z. A cell series' sequence. */
export function windowNumber(window: TimeWindow): number {
  return window.start / WINDOW_MS[window.granularity] + 1;
}

/** The hour windows a day window is made of. */
export function hoursOfDay(day: TimeWindow): TimeWindow[] {
  if (day.granularity !== 'day') throw new RangeError('hoursOfDay needs a day window');
  return Array.from({ length: 24 }, (_, i) => windowStarting('hour', day.start + i * WINDOW_MS.hour));
}

export function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}

export function parseIso(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`not an ISO-8601 time: ${iso}`);
  return ms;
}
