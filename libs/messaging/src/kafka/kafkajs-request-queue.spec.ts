import { installRequestQueueTimerFix } from './kafkajs-request-queue';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const RequestQueue = require('kafkajs/src/network/requestQueue') as { prototype: { scheduleCheckPendingRequests(this: unknown): void } };

/** A request queue's state as kafkajs keeps it: nothing pending, never throttled. */
const idleQueue = (pending: unknown[] = []) => ({
  throttledUntil: -1,
  throttleCheckTimeoutId: null as NodeJS.Timeout | null,
  pending,
  checkPendingRequests: jest.fn(),
});

describe('the kafkajs request queue timer', () => {
  it('arms no timer while nothing is pending (kafkajs arms a negative one, which Node 24 warns about)', () => {
    const delays: number[] = [];
    const setTimer = jest.spyOn(global, 'setTimeout').mockImplementation(((_: () => void, ms: number) => (delays.push(ms), 0)) as unknown as typeof setTimeout);
    try {
      // The marker: kafkajs's own method, on the same state, arms a timer with a negative delay.
      RequestQueue.prototype.scheduleCheckPendingRequests.call(idleQueue());
      expect(delays).toHaveLength(1);
      expect(delays[0]).toBeLessThan(0);

      delays.length = 0;
      installRequestQueueTimerFix();
      const after = idleQueue();
      RequestQueue.prototype.scheduleCheckPendingRequests.call(after);
      expect(delays).toEqual([]);
      expect(after.throttleCheckTimeoutId).toBeNull();
    } finally {
      setTimer.mockRestore();
    }
  });

  it('still checks a pending request soon, and a throttled queue when the throttle ends', () => {
    installRequestQueueTimerFix();
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const pending = idleQueue([{}]);
      RequestQueue.prototype.scheduleCheckPendingRequests.call(pending);
      jest.advanceTimersByTime(9);
      expect(pending.checkPendingRequests).not.toHaveBeenCalled();
      jest.advanceTimersByTime(1);
      expect(pending.checkPendingRequests).toHaveBeenCalledTimes(1);

      const throttled = { ...idleQueue(), throttledUntil: Date.now() + 500 };
      RequestQueue.prototype.scheduleCheckPendingRequests.call(throttled);
      jest.advanceTimersByTime(499);
      expect(throttled.checkPendingRequests).not.toHaveBeenCalled();
      jest.advanceTimersByTime(1);
      expect(throttled.checkPendingRequests).toHaveBeenCalledTimes(1);
    } finally {
      jest.useRealTimers();
    }
  });
});
