/** Time as the scheduler sees it; tests pass a fake one. */
export interface SchedulerClock {
  now(): number;
  setTimer(callback: () => void, ms: number): unknown;
  clearTimer(timer: unknown): void;
}

export const systemSchedulerClock: SchedulerClock = {
  now: () => Date.now(),
  setTimer: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

export interface DeadlineSchedulerOptions {
  /**
   * The work: claim or sweep what is due, then tell the scheduler (expectAt) when something next
   * comes due. A throw is the work's own business: it should catch, report and expectAt a retry.
   */
  readonly run: () => Promise<void>;
  /** The least time between the starts of two runs woken by a due time, so many close together cost one run. */
  readonly minIntervalMs: number;
  /** The longest time between two runs even with nothing known due (work other instances may have added). Unset: none. */
  readonly maxSleepMs?: number;
  readonly clock?: SchedulerClock;
}

/** setTimeout's ceiling (about 24.8 days): a later moment is slept towards in several steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs `run` at the earliest known due time and never polls: idle, it holds one timer (or none)
 * and runs nothing. Due times come from the run itself or from news (expectAt, e.g. a row this
 * process wrote), which re-arms the timer only when sooner than planned. Runs never overlap;
 * news during a run is kept for the timer armed after it.
 */
export class DeadlineScheduler {
  private readonly clock: SchedulerClock;
  private timer: unknown;
  private running: Promise<void> | undefined;
  private started = false;
  /** The earliest known due time (epoch ms); undefined: none known. */
  private nextAt: number | undefined;
  /** Due now regardless of minIntervalMs (runSoon). */
  private urgent = false;
  private lastRunAt = Number.NEGATIVE_INFINITY;
  /** Runs started, for tests: idle, this stays still. */
  runs = 0;

  constructor(private readonly options: DeadlineSchedulerOptions) {
    this.clock = options.clock ?? systemSchedulerClock;
  }

  /** Runs once now; resolves when that first run is done. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.tick();
    await this.running;
  }

  /** Disarms the timer and waits for a run in flight; nothing runs after. */
  async stop(): Promise<void> {
    this.started = false;
    this.disarm();
    await this.running;
  }

  /** Something comes due at `at` (epoch ms): run then, spaced by minIntervalMs, unless a sooner run is planned. */
  expectAt(at: number): void {
    if (this.nextAt !== undefined && this.nextAt <= at) return;
    this.nextAt = at;
    if (!this.running) this.arm();
  }

  /** Run as soon as the current run (if any) ends, not spaced by minIntervalMs: work is waiting now. */
  runSoon(): void {
    this.urgent = true;
    if (!this.running) this.arm();
  }

  /** Run as soon as possible, not spaced, if a known due time has already passed (e.g. work ended that held it back). */
  runIfDue(): void {
    if (this.nextAt !== undefined && this.nextAt <= this.clock.now()) this.runSoon();
  }

  private tick(): void {
    if (!this.started || this.running) return;
    this.lastRunAt = this.clock.now();
    this.nextAt = undefined;
    this.urgent = false;
    this.runs += 1;
    this.running = this.options
      .run()
      .catch(() => undefined)
      .finally(() => {
        this.running = undefined;
        this.arm();
      });
  }

  /** When the next run starts (epoch ms), or undefined: only when told. */
  private dueAt(): number | undefined {
    if (this.urgent) return this.clock.now();
    const { maxSleepMs, minIntervalMs } = this.options;
    const ceiling = maxSleepMs === undefined ? undefined : this.lastRunAt + maxSleepMs;
    const target = this.nextAt === undefined ? ceiling : ceiling === undefined ? this.nextAt : Math.min(this.nextAt, ceiling);
    return target === undefined ? undefined : Math.max(target, this.lastRunAt + minIntervalMs);
  }

  private arm(): void {
    this.disarm();
    if (!this.started) return;
    const at = this.dueAt();
    if (at === undefined) return;
    const delay = Math.min(Math.max(0, at - this.clock.now()), MAX_TIMER_MS);
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      if (this.clock.now() >= at) this.tick();
      else this.arm();
    }, delay);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }
}
