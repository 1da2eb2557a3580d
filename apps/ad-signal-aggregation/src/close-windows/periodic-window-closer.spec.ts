import type { Logger } from '@pay/observability';
import type { AdSignalSettings } from '../ad-signals.settings';
import { PeriodicWindowCloser } from './periodic-window-closer';
import type { WindowCloser } from './window-closer';

describe('PeriodicWindowCloser', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const logger = { error: jest.fn() } as unknown as Logger;

  it('closes due windows every interval, goes on after a failure, and stops on shutdown', async () => {
    const closeDueWindows = jest.fn().mockRejectedValueOnce(new Error('database restarting')).mockResolvedValue({});
    const periodic = new PeriodicWindowCloser({ closeDueWindows } as unknown as WindowCloser, { closeIntervalMs: 1_000 } as AdSignalSettings, logger);
    periodic.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(3_500);
    expect(closeDueWindows).toHaveBeenCalledTimes(3);
    expect(logger.error).toHaveBeenCalledTimes(1);
    await periodic.beforeApplicationShutdown();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(closeDueWindows).toHaveBeenCalledTimes(3);
  });

  it('does nothing when the interval is 0 (tests and one-off jobs close by hand)', async () => {
    const closeDueWindows = jest.fn();
    new PeriodicWindowCloser({ closeDueWindows } as unknown as WindowCloser, { closeIntervalMs: 0 } as AdSignalSettings, logger).onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(closeDueWindows).not.toHaveBeenCalled();
  });
});
