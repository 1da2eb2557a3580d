import type { SchedulerClock } from './deadline-scheduler';
import { DeadlineScheduler } from './deadline-scheduler';

/** A clock that moves only when told, firing the timers that come due on the way. */
class FakeClock implements SchedulerClock {
  private time = Date.parse('2026-12-05T12:00:00Z');
  private readonly timers = new Map<number, { at: number; callback: () => void }>();
  private ids = 0;

  now(): number {
    return this.time;
  }

  setTimer(callback: () => void, ms: number): unknown {
    this.ids += 1;
    this.timers.set(this.ids, { at: this.time + ms, callback });
    return this.ids;
  }

  clearTimer(timer: unknown): void {
    this.timers.delete(timer as number);
  }

  get armed(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing each due timer at its moment and letting the work it starts settle. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await settle();
      const [id, next] = [...this.timers.entries()].sort((a, b) => a[1].at - b[1].at)[0] ?? [];
      if (id === undefined || next === undefined || next.at > end) break;
      this.timers.delete(id);
      this.time = Math.max(this.time, next.at);
      next.callback();
    }
    this.time = end;
    await settle();
  }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
};

/** A run that reads the next due time from a script, as a sweep reads it from its table. */
function scheduler(clock: FakeClock, options: { minIntervalMs?: number; maxSleepMs?: number; nextDue?: Array<number | undefined> } = {}) {
  const runsAt: number[] = [];
  const nextDue = options.nextDue ?? [];
  const work: { scheduler?: DeadlineScheduler } = {};
  const instance = new DeadlineScheduler({
    clock,
    minIntervalMs: options.minIntervalMs ?? 1_000,
    maxSleepMs: options.maxSleepMs,
    run: async () => {
      runsAt.push(clock.now());
      const next = nextDue.shift();
      if (next !== undefined) work.scheduler?.expectAt(clock.now() + next);
    },
  });
  work.scheduler = instance;
  return { instance, runsAt };
}

describe('DeadlineScheduler', () => {
  it('runs once at start, then holds no timer and runs nothing while nothing is due', async () => {
    const clock = new FakeClock();
    const { instance, runsAt } = scheduler(clock);
    await instance.start();
    expect(runsAt).toHaveLength(1);
    expect(clock.armed).toBe(0);
    await clock.advance(7 * 24 * 3_600_000);
    expect(instance.runs).toBe(1);
    await instance.stop();
  });

  it('runs at the due time the run read, not before, and sleeps again after', async () => {
    const clock = new FakeClock();
    const { instance, runsAt } = scheduler(clock, { nextDue: [40_000] });
    await instance.start();
    await clock.advance(39_999);
    expect(runsAt).toHaveLength(1);
    await clock.advance(1);
    expect(runsAt).toHaveLength(2);
    expect(runsAt[1] - runsAt[0]).toBe(40_000);
    await clock.advance(3_600_000);
    expect(runsAt).toHaveLength(2);
    await instance.stop();
  });

  it('re-arms on news of a sooner due time, ignores later news, and spaces runs by minIntervalMs', async () => {
    const clock = new FakeClock();
    const { instance, runsAt } = scheduler(clock, { nextDue: [3_600_000] });
    await instance.start();
    const start = clock.now();
    instance.expectAt(start + 200); // sooner, but within minIntervalMs of the last run
    instance.expectAt(start + 5_000); // later than planned: changes nothing
    await clock.advance(999);
    expect(runsAt).toHaveLength(1);
    await clock.advance(1);
    expect(runsAt).toEqual([start, start + 1_000]);
    await instance.stop();
  });

  it('keeps news that arrives during a run for the timer armed after it', async () => {
    const clock = new FakeClock();
    let release: () => void = () => undefined;
    const runsAt: number[] = [];
    const instance = new DeadlineScheduler({
      clock,
      minIntervalMs: 100,
      run: async () => {
        runsAt.push(clock.now());
        if (runsAt.length === 1) await new Promise<void>((resolve) => (release = resolve));
      },
    });
    const started = instance.start();
    instance.expectAt(clock.now() + 500);
    release();
    await started;
    await clock.advance(500);
    expect(runsAt).toHaveLength(2);
    await instance.stop();
  });

  it('runSoon runs right after the last run, not spaced', async () => {
    const clock = new FakeClock();
    const { instance, runsAt } = scheduler(clock, { minIntervalMs: 60_000 });
    await instance.start();
    await clock.advance(10);
    instance.runSoon();
    await clock.advance(0);
    expect(runsAt).toHaveLength(2);
    await instance.stop();
  });

  it('runIfDue runs at once for a due time already passed, and changes nothing otherwise', async () => {
    const clock = new FakeClock();
    const { instance, runsAt } = scheduler(clock, { minIntervalMs: 60_000, nextDue: [10] });
    await instance.start();
    instance.runIfDue(); // due in 10 ms: not yet
    await clock.advance(0);
    expect(runsAt).toHaveLength(1);
    await clock.advance(20); // now overdue, but spaced to 60 s by minIntervalMs
    expect(runsAt).toHaveLength(1);
    instance.runIfDue();
    await clock.advance(0);
    expect(runsAt).toHaveLength(2);
    await instance.stop();
  });

  it('with maxSleepMs, looks again that often even when nothing is known due', async () => {
    const clock = new FakeClock();
    const { instance, runsAt } = scheduler(clock, { maxSleepMs: 30_000 });
    await instance.start();
    await clock.advance(90_000);
    expect(runsAt).toHaveLength(4);
    await instance.stop();
  });

  it('sleeps towards a due time beyond the timer ceiling in several steps', async () => {
    const clock = new FakeClock();
    const fortyDays = 40 * 24 * 3_600_000;
    const { instance, runsAt } = scheduler(clock, { nextDue: [fortyDays] });
    await instance.start();
    await clock.advance(fortyDays - 1);
    expect(runsAt).toHaveLength(1);
    await clock.advance(1);
    expect(runsAt).toHaveLength(2);
    await instance.stop();
  });

  it('after stop, disarms and runs nothing more, whatever news comes', async () => {
    const clock = new FakeClock();
    const { instance, runsAt } = scheduler(clock, { nextDue: [5_000] });
    await instance.start();
    await instance.stop();
    instance.expectAt(clock.now() + 10);
    instance.runSoon();
    await clock.advance(60_000);
    expect(runsAt).toHaveLength(1);
    expect(clock.armed).toBe(0);
  });
});
