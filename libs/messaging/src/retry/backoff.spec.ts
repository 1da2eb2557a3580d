import { backoffDelayMs } from './backoff';

describe('backoffDelayMs', () => {
  const policy = { baseMs: 500, maxMs: 30_000 };

  it('doubles the ceiling with each attempt and jitters within its upper half', () => {
    expect([1, 2, 3, 4].map((attempt) => backoffDelayMs(attempt, policy, () => 0))).toEqual([250, 500, 1_000, 2_000]);
    for (const [attempt, ceiling] of [
      [1, 500],
      [2, 1_000],
      [3, 2_000],
      [4, 4_000],
    ])
      expect(backoffDelayMs(attempt, policy, () => 0.999_999)).toBeCloseTo(ceiling, -1);
  });

  it('never exceeds the cap, however many attempts failed', () => {
    for (const attempt of [7, 8, 50, 1_000, Number.MAX_SAFE_INTEGER]) {
      const delay = backoffDelayMs(attempt, policy, () => 0.999_999);
      expect(delay).toBeLessThanOrEqual(30_000);
      expect(delay).toBeGreaterThanOrEqual(15_000 - 1);
    }
  });

  it('treats an attempt below 1 as the first', () => {
    expect(backoffDelayMs(0, policy, () => 0)).toBe(250);
  });
});
