/**
 * The simulator's idea of "now" for what takes days at a real provider (a bank debit settles
 * or fails after 2–5 business days). It runs with the wall clock and a test moves it forward
 * (`advance`), so "3 days later" takes no time. Idempotency keys keep the wall clock: they
 * guard real retries, which happen in real time.
 */
export class SimulatorClock {
  private offsetMs = 0;

  constructor(private readonly wallClock: () => number = Date.now) {}

  now(): number {
    return this.wallClock() + this.offsetMs;
  }

  /** How far simulated time is ahead of the wall clock. */
  get aheadMs(): number {
    return this.offsetMs;
  }

  advance(ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError('the clock moves forward only, by a whole number of milliseconds');
    this.offsetMs += ms;
  }

  restore(aheadMs: number): void {
    this.offsetMs = aheadMs;
  }

  reset(): void {
    this.offsetMs = 0;
  }
}
