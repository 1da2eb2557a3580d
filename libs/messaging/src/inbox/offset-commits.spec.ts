import type { PartitionOffset } from './offset-commits';
import { OffsetCommits } from './offset-commits';

describe('OffsetCommits', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  function committer(intervalMs: number): { commits: OffsetCommits; sent: PartitionOffset[][]; failures: unknown[] } {
    const sent: PartitionOffset[][] = [];
    const failures: unknown[] = [];
    const commits = new OffsetCommits(
      intervalMs,
      async (offsets) => void sent.push(offsets),
      (error) => failures.push(error),
    );
    return { commits, sent, failures };
  }

  const at = (partition: number, offset: number): PartitionOffset => ({ topic: 't', partition, offset: String(offset) });

  it('commits the first offer at once, then one commit per interval carrying the latest offset of every partition', async () => {
    const { commits, sent } = committer(1_000);
    await commits.offer(at(0, 1));
    expect(sent).toEqual([[at(0, 1)]]);

    await commits.offer(at(0, 2));
    await commits.offer(at(1, 7));
    await commits.offer(at(0, 3));
    expect(sent).toHaveLength(1);
    expect(commits.waiting).toBe(2);

    await jest.advanceTimersByTimeAsync(999);
    expect(sent).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(sent[1]).toEqual([at(0, 3), at(1, 7)]);
    expect(commits.waiting).toBe(0);
  });

  it('commits at once when asked (a dead letter, a batch cut short), with whatever else waits', async () => {
    const { commits, sent } = committer(1_000);
    await commits.offer(at(0, 1));
    await commits.offer(at(1, 4));
    await commits.offer(at(0, 2), true);
    expect(sent).toEqual([[at(0, 1)], [at(1, 4), at(0, 2)]]);
    await jest.advanceTimersByTimeAsync(5_000);
    expect(sent).toHaveLength(2);
  });

  it('with an interval of 0 commits every offer', async () => {
    const { commits, sent } = committer(0);
    await commits.offer(at(0, 1));
    await commits.offer(at(0, 2));
    expect(sent).toEqual([[at(0, 1)], [at(0, 2)]]);
  });

  it('keeps the offsets of a failed trailing commit for the next one, unless a later offset replaced them', async () => {
    const sent: PartitionOffset[][] = [];
    const failures: unknown[] = [];
    let fail = true;
    const commits = new OffsetCommits(
      1_000,
      async (offsets) => {
        if (fail) throw new Error('coordinator moved');
        sent.push(offsets);
      },
      (error) => failures.push(error),
    );
    fail = false;
    await commits.offer(at(0, 1));
    fail = true;
    await commits.offer(at(0, 2));
    await commits.offer(at(1, 5));
    await jest.advanceTimersByTimeAsync(1_000);
    expect(failures).toHaveLength(1);
    expect(commits.waiting).toBe(2);

    fail = false;
    await commits.offer(at(1, 6), true);
    expect(sent[1]).toEqual([at(0, 2), at(1, 6)]);
  });

  it('flush sends what waits through the given sender (a stopping consumer commits through its batch)', async () => {
    const { commits, sent } = committer(1_000);
    await commits.offer(at(0, 1));
    await commits.offer(at(0, 2));
    const viaBatch: PartitionOffset[][] = [];
    await commits.offer(at(1, 3), true, async (offsets) => void viaBatch.push(offsets));
    expect(sent).toEqual([[at(0, 1)]]);
    expect(viaBatch).toEqual([[at(0, 2), at(1, 3)]]);
  });
});
