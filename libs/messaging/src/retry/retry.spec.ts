import type { RetryClock } from './retry';
import { retrying } from './retry';

class Transient extends Error {}

function recordingClock(): RetryClock & { slept: number[] } {
  const slept: number[] = [];
  return { slept, sleep: async (ms) => void slept.push(ms), random: () => 0 };
}

const failing = (failures: number, error: () => Error = () => new Transient('busy')) => {
  const attempts: number[] = [];
  return {
    attempts,
    work: async (attempt: number): Promise<string> => {
      attempts.push(attempt);
      if (attempts.length <= failures) throw error();
      return 'done';
    },
  };
};

describe('retrying', () => {
  const isTransient = (error: unknown): boolean => error instanceof Transient;

  it('returns the first success, numbering the attempts from 1, at once when the policy has no backoff', async () => {
    const clock = recordingClock();
    const op = failing(2);
    await expect(retrying({ maxAttempts: 3, retryOn: isTransient }, op.work, clock)).resolves.toBe('done');
    expect(op.attempts).toEqual([1, 2, 3]);
    expect(clock.slept).toEqual([]);
  });

  it('throws the last error unchanged after maxAttempts', async () => {
    const op = failing(5);
    await expect(retrying({ maxAttempts: 3, retryOn: isTransient }, op.work, recordingClock())).rejects.toThrow(Transient);
    expect(op.attempts).toEqual([1, 2, 3]);
  });

  it('throws an error the policy does not retry at the first attempt', async () => {
    const op = failing(1, () => new TypeError('bug'));
    await expect(retrying({ maxAttempts: 5, retryOn: isTransient }, op.work, recordingClock())).rejects.toThrow(TypeError);
    expect(op.attempts).toEqual([1]);
  });

  it('waits the capped, doubling, jittered backoff between attempts', async () => {
    const clock = recordingClock();
    const op = failing(4);
    await retrying({ maxAttempts: 5, retryOn: isTransient, backoff: { baseMs: 200, maxMs: 1_000 } }, op.work, clock);
    // random() = 0: the lower end of each jittered ceiling (200, 400, 800, then capped at 1000).
    expect(clock.slept).toEqual([100, 200, 400, 500]);
  });
});
