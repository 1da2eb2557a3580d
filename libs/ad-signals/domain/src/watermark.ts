/**
 * The watermark says up to when the input is complete: the latest event time seen minus a grace
 * period for stragglers. A window closes once the watermark passes its end; an event that
 * arrives for a closed window is late and goes to a correction record.
 *
 * An event time too far in the future (a producer's wrong clock) would close windows early and
 * make every later event late, so it moves the watermark no further than `now + maxClockSkew`.
 */
export function watermarkEventTime(eventTime: number, now: number, maxClockSkewMs: number): number {
  return Math.min(eventTime, now + maxClockSkewMs);
}

export function watermarkFrom(latestEventTime: number | undefined, graceMs: number): number | undefined {
  return latestEventTime === undefined ? undefined : latestEventTime - graceMs;
}

export function isWindowDue(windowEnd: number, watermark: number | undefined): boolean {
  return watermark !== undefined && windowEnd <= watermark;
}
