import { setTimeout as sleep } from 'node:timers/promises';
import { EventLoopDelayIntervals, EventLoopDelayRecord } from './event-loop-delay';

/** Holds the event loop for `ms` with synchronous work, as a CPU-starved or busy process would. */
function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: no timer can run
  }
}

describe('EventLoopDelayIntervals', () => {
  const intervals = new EventLoopDelayIntervals();
  afterAll(() => intervals.stop());

  it('reports a 200 ms stall in the interval that holds it, and the next interval without it', async () => {
    intervals.take();
    // Past the first sample after the reset (perf_hooks drops it), then the stall.
    await sleep(60);
    blockEventLoop(200);
    await sleep(60);
    const stalled = intervals.take();
    expect(stalled?.maxMs).toBeGreaterThanOrEqual(150);
    expect(stalled?.p99Ms).toBeGreaterThanOrEqual(150);

    await sleep(200);
    const after = intervals.take();
    expect(after?.samples).toBeGreaterThan(0);
    // An idle loop reads about the sampling period (20 ms); room for a busy test machine.
    expect(after?.maxMs).toBeLessThan(100);
  });

  it('reports a stall that spans a read (perf_hooks drops the sample after a reset) in the next interval', async () => {
    await sleep(60);
    intervals.take();
    blockEventLoop(200);
    await sleep(60);
    expect(intervals.take()?.maxMs).toBeGreaterThanOrEqual(150);
  });

  it('reports a stall that has no sample yet (read just after it)', async () => {
    await sleep(60);
    intervals.take();
    await sleep(60);
    blockEventLoop(200);
    expect(intervals.take()?.maxMs).toBeGreaterThanOrEqual(150);
  });

  it('reports nothing for an interval with no sample', () => {
    intervals.take();
    expect(intervals.take()).toBeUndefined();
  });
});

describe('EventLoopDelayRecord', () => {
  const record = new EventLoopDelayRecord({ sliceMs: 50 });
  afterAll(() => record.stop());

  it('answers the worst delay since a moment: the stall while it is in the window, not once the window begins after it', async () => {
    await sleep(60);
    const beforeStall = Date.now();
    blockEventLoop(200);
    await sleep(60);
    expect(record.worstSince(beforeStall)).toBeGreaterThanOrEqual(150);

    const afterStall = Date.now();
    await sleep(200);
    expect(record.worstSince(afterStall)).toBeLessThan(100);
    expect(record.worstSince(beforeStall)).toBeGreaterThanOrEqual(150);
  });
});
