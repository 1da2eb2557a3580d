import type { ELDHistogram } from 'node:perf_hooks';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { collectingReader, meter } from './metrics';

/**
 * The period of perf_hooks' sampling timer. Each sample is the time between two of its runs, so an
 * idle loop reads about this much and a stall reads its length to within this much; the timer's
 * 50 runs a second are native code (no JavaScript).
 */
const EVENT_LOOP_SAMPLING_MS = 20;

const NS_PER_MS = 1e6;

/** The event loop's delays over one interval, in milliseconds (perf_hooks' samples, the sampling period included). */
export interface EventLoopDelays {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Samples taken in the interval. */
  samples: number;
}

/**
 * The event loop's delay, interval by interval: how late perf_hooks' timer ran, i.e. how long the
 * process waited for the CPU or for synchronous work to end. `take()` returns the delays since the
 * previous `take()` and starts the next interval.
 */
export class EventLoopDelayIntervals {
  private readonly histogram: ELDHistogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_SAMPLING_MS });
  private intervalStart = performance.now();

  constructor() {
    this.histogram.enable();
  }

  /** The delays since the previous call (or the start); undefined when there is nothing to tell (no sample, no stall). */
  take(): EventLoopDelays | undefined {
    const delays = this.sofar();
    this.histogram.reset();
    this.intervalStart = performance.now();
    return delays;
  }

  /** The worst delay (ms) of the interval so far, without ending it; 0 before anything is known. */
  peekMaxMs(): number {
    return this.sofar()?.maxMs ?? 0;
  }

  stop(): void {
    this.histogram.disable();
  }

  private sofar(): EventLoopDelays | undefined {
    const histogram = this.histogram;
    const samples = histogram.count;
    // perf_hooks drops the first sample after a reset, the one spanning the read, so a stall across
    // a read would vanish; and a stall just ended has no sample yet. The time no sample covers tells
    // of both: beyond that dropped sample and the one under way (two periods at most while the loop
    // is free) and the histogram's rounding (0.1%), it is a stall, counted as one more sample (a stall
    // read before its sample then shows in this interval and the next).
    const elapsedMs = performance.now() - this.intervalStart;
    const uncoveredMs = elapsedMs - (samples === 0 ? 0 : (histogram.mean * samples) / NS_PER_MS);
    const stallMs = uncoveredMs > 2 * EVENT_LOOP_SAMPLING_MS + elapsedMs / 1_000 ? uncoveredMs : 0;
    if (samples === 0) return stallMs > 0 ? { p50Ms: stallMs, p99Ms: stallMs, maxMs: stallMs, samples: 1 } : undefined;
    return {
      p50Ms: histogram.percentile(50) / NS_PER_MS,
      p99Ms: histogram.percentile(99) / NS_PER_MS,
      maxMs: Math.max(histogram.max / NS_PER_MS, stallMs),
      samples: stallMs > 0 ? samples + 1 : samples,
    };
  }
}

export interface EventLoopDelayRecordOptions {
  /** The record's granularity: `worstSince(t)` may include up to this much before t (default 5 s). */
  sliceMs?: number;
  /** How far back the record goes (default 10 min). */
  keepMs?: number;
}

/**
 * The worst event-loop delay of each slice (5 s) of the last minutes, so code in the process can ask
 * how starved it was since a moment of its own (the outbox relay: since its last finished pass).
 * It samples on a timer of its own, apart from the metric's, whose intervals are the scrapes'.
 */
export class EventLoopDelayRecord {
  private readonly intervals = new EventLoopDelayIntervals();
  /** Closed slices, oldest first. */
  private readonly slices: { endedAt: number; maxMs: number }[] = [];
  private readonly keepMs: number;
  private readonly timer: NodeJS.Timeout;

  constructor(options: EventLoopDelayRecordOptions = {}) {
    this.keepMs = options.keepMs ?? 10 * 60_000;
    this.timer = setInterval(() => this.closeSlice(), options.sliceMs ?? 5_000);
    this.timer.unref();
  }

  /** The worst delay (ms) in the slices that end after `since` (epoch ms) and in the current one; 0 before any sample. */
  worstSince(since: number): number {
    let worst = this.intervals.peekMaxMs();
    for (let i = this.slices.length - 1; i >= 0 && this.slices[i].endedAt > since; i -= 1) worst = Math.max(worst, this.slices[i].maxMs);
    return worst;
  }

  stop(): void {
    clearInterval(this.timer);
    this.intervals.stop();
  }

  private closeSlice(): void {
    const now = Date.now();
    this.slices.push({ endedAt: now, maxMs: this.intervals.take()?.maxMs ?? 0 });
    while (this.slices.length > 0 && this.slices[0].endedAt < now - this.keepMs) this.slices.shift();
  }
}

let record: EventLoopDelayRecord | undefined;

/** The process's record of event-loop delays, started by the first caller. */
export function eventLoopDelayRecord(): EventLoopDelayRecord {
  return (record ??= new EventLoopDelayRecord());
}

let observed = false;

/**
 * Exports the event loop's delay as OpenTelemetry's Node.js runtime metrics (semantic conventions,
 * in seconds): `nodejs.eventloop.delay.p50`, `.p99` and `.max` over the interval since the previous
 * read, taken when the metrics are collected (nothing runs in between but perf_hooks' native timer).
 * Each metric reader has intervals of its own (collectingReader): Prometheus' scrapes and the OTLP
 * pushes both cover all the time, not each the part since the other's read; a reader other than
 * Prometheus starts its first interval at its first read. An idle loop reads the sampling period
 * (20 ms); a p99 far above it means the process waits for the CPU or runs long synchronous work
 * (docs/operations.md). Once per process; later calls do nothing.
 */
export function observeEventLoopDelay(): void {
  if (observed) return;
  observed = true;
  const byReader = new Map<string, EventLoopDelayIntervals>([['prometheus', new EventLoopDelayIntervals()]]);
  const p50 = meter().createObservableGauge('nodejs.eventloop.delay.p50', {
    description: 'Event loop 50 percentile delay since the previous read',
    unit: 's',
  });
  const p99 = meter().createObservableGauge('nodejs.eventloop.delay.p99', {
    description: 'Event loop 99 percentile delay since the previous read',
    unit: 's',
  });
  const max = meter().createObservableGauge('nodejs.eventloop.delay.max', { description: 'Event loop maximum delay since the previous read', unit: 's' });
  meter().addBatchObservableCallback(
    (result) => {
      const reader = collectingReader() ?? 'unnamed';
      const intervals = byReader.get(reader);
      if (!intervals) {
        byReader.set(reader, new EventLoopDelayIntervals());
        return;
      }
      const delays = intervals.take();
      if (!delays) return;
      result.observe(p50, delays.p50Ms / 1_000);
      result.observe(p99, delays.p99Ms / 1_000);
      result.observe(max, delays.maxMs / 1_000);
    },
    [p50, p99, max],
  );
}
