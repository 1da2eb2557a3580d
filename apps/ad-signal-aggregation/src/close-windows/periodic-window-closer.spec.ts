import type { Logger } from '@pay/observability';
import type { AdSignalSettings } from '../ad-signals.settings';
import { PeriodicWindowCloser } from './periodic-window-closer';
import type { WindowCloser } from './window-closer';

describe('PeriodicWindowCloser', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const logger = { error: jest.fn() } as unknown as Logger;
  const closerWith = (closeDueWindows: jest.Mock, closeIntervalMs = 1_000) =>
    new PeriodicWindowCloser({ closeDueWindows } as unknown as WindowCloser, { closeIntervalMs } as AdSignalSettings, logger);

  beforeEach(() => jest.mocked(logger.error).mockClear());

  it('closes once at start-up, then never while no event comes', async () => {
    const closeDueWindows = jest.fn().mockResolvedValue({});
    const periodic = closerWith(closeDueWindows);
    await periodic.onApplicationBootstrap();
    expect(closeDueWindows).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(24 * 3_600_000);
    expect(closeDueWindows).toHaveBeenCalledTimes(1);
    await periodic.beforeApplicationShutdown();
  });

  it('closes an interval after an event may have moved the watermark, at most once per interval however many come', async () => {
    const closeDueWindows = jest.fn().mockResolvedValue({});
    const periodic = closerWith(closeDueWindows);
    await periodic.onApplicationBootstrap();
    periodic.watermarkMayHaveMoved();
    await jest.advanceTimersByTimeAsync(500);
    for (let i = 0; i < 100; i += 1) periodic.watermarkMayHaveMoved();
    await jest.advanceTimersByTimeAsync(499);
    expect(closeDueWindows).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(closeDueWindows).toHaveBeenCalledTimes(2);
    // A steady stream of events: one run per interval.
    for (let ms = 0; ms < 10_000; ms += 100) {
      periodic.watermarkMayHaveMoved();
      await jest.advanceTimersByTimeAsync(100);
    }
    expect(closeDueWindows).toHaveBeenCalledTimes(12);
    // The stream stops: nothing runs after the run for its last events.
    await jest.advanceTimersByTimeAsync(60_000);
    expect(closeDueWindows).toHaveBeenCalledTimes(12);
    await periodic.beforeApplicationShutdown();
  });

  it('an event during a run is closed for after that run, an interval later', async () => {
    let finish!: () => void;
    const closeDueWindows = jest.fn().mockResolvedValue({});
    const periodic = closerWith(closeDueWindows);
    await periodic.onApplicationBootstrap();
    closeDueWindows.mockImplementationOnce(() => new Promise((resolve) => (finish = () => resolve({}))));
    periodic.watermarkMayHaveMoved();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(closeDueWindows).toHaveBeenCalledTimes(2);
    periodic.watermarkMayHaveMoved(); // while the run reads the watermark
    await jest.advanceTimersByTimeAsync(5_000);
    expect(closeDueWindows).toHaveBeenCalledTimes(2);
    finish();
    await jest.advanceTimersByTimeAsync(999);
    expect(closeDueWindows).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(closeDueWindows).toHaveBeenCalledTimes(3);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(closeDueWindows).toHaveBeenCalledTimes(3);
    await periodic.beforeApplicationShutdown();
  });

  it('tries a failed run again after the interval, until one succeeds', async () => {
    const closeDueWindows = jest
      .fn()
      .mockRejectedValueOnce(new Error('database restarting'))
      .mockRejectedValueOnce(new Error('database restarting'))
      .mockResolvedValue({});
    const periodic = closerWith(closeDueWindows);
    await periodic.onApplicationBootstrap();
    expect(logger.error).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(closeDueWindows).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(closeDueWindows).toHaveBeenCalledTimes(3);
    expect(logger.error).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(closeDueWindows).toHaveBeenCalledTimes(3);
    await periodic.beforeApplicationShutdown();
  });

  it('stops on shutdown: waits for the run in flight, and no later event runs it again', async () => {
    let finish!: () => void;
    const closeDueWindows = jest.fn().mockResolvedValue({});
    const periodic = closerWith(closeDueWindows);
    await periodic.onApplicationBootstrap();
    closeDueWindows.mockImplementationOnce(() => new Promise((resolve) => (finish = () => resolve({}))));
    periodic.watermarkMayHaveMoved();
    await jest.advanceTimersByTimeAsync(1_000);
    periodic.watermarkMayHaveMoved();
    let stopped = false;
    const stopping = periodic.beforeApplicationShutdown().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    finish();
    await stopping;
    periodic.watermarkMayHaveMoved();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(closeDueWindows).toHaveBeenCalledTimes(2);
  });

  it('does nothing when the interval is 0 (tests and one-off jobs close by hand)', async () => {
    const closeDueWindows = jest.fn();
    const periodic = closerWith(closeDueWindows, 0);
    await periodic.onApplicationBootstrap();
    periodic.watermarkMayHaveMoved();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(closeDueWindows).not.toHaveBeenCalled();
  });
});
