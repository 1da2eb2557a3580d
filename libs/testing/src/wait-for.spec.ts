import { isTrue, waitFor } from './wait-for';

describe('waitFor', () => {
  it('returns the first value `done` accepts, probing until then', async () => {
    let calls = 0;
    const value = await waitFor(
      () => ++calls,
      (n) => n >= 3,
      { intervalMs: 1 },
    );
    expect(value).toBe(3);
    expect(calls).toBe(3);
  });

  it('awaits asynchronous probes', async () => {
    let calls = 0;
    await expect(waitFor(async () => ++calls > 1, isTrue, { intervalMs: 1 })).resolves.toBe(true);
  });

  it('names what it waited for and the last value seen (bigints too) when time runs out', async () => {
    await expect(
      waitFor(
        () => ({ posted: 1n }),
        () => false,
        { what: 'the capture to be posted', timeoutMs: 5, intervalMs: 1 },
      ),
    ).rejects.toThrow('the capture to be posted: not within 5 ms; last seen {"posted":"1"}');
  });
});
