import { GroupCommit } from './group-commit';

const tick = (): Promise<void> => new Promise((done) => setImmediate(done));

/** A batch runner that records the batches it saw and finishes when told to. */
function recorder() {
  const batches: number[][] = [];
  const gates: Array<() => void> = [];
  const run = async (requests: readonly number[]): Promise<Array<PromiseSettledResult<number>>> => {
    batches.push([...requests]);
    await new Promise<void>((open) => gates.push(open));
    return requests.map((r) => (r < 0 ? { status: 'rejected', reason: new Error(`refused ${r}`) } : { status: 'fulfilled', value: r * 10 }));
  };
  const release = async (): Promise<void> => {
    while (gates.length === 0) await tick();
    gates.shift()?.();
    await tick();
  };
  return { batches, run, release };
}

describe('GroupCommit', () => {
  it('gathers requests submitted together into one batch and settles each on its own', async () => {
    const { batches, run, release } = recorder();
    const commit = new GroupCommit(run, { maxBatchSize: 10, maxWaitMs: 0, maxConcurrentBatches: 1 });
    const results = [1, -2, 3].map((n) =>
      commit.submit(n).then(
        (v) => `ok ${v}`,
        (e: Error) => e.message,
      ),
    );
    await release();
    expect(batches).toEqual([[1, -2, 3]]);
    expect(await Promise.all(results)).toEqual(['ok 10', 'refused -2', 'ok 30']);
  });

  it('queues what arrives during a batch and sends it as the next batch, up to the maximum size', async () => {
    const { batches, run, release } = recorder();
    const commit = new GroupCommit(run, { maxBatchSize: 3, maxWaitMs: 0, maxConcurrentBatches: 1 });
    const first = commit.submit(1);
    await tick();
    const later = [2, 3, 4, 5, 6, 7].map((n) => commit.submit(n));
    await release();
    await release();
    await release();
    await Promise.all([first, ...later]);
    expect(batches).toEqual([[1], [2, 3, 4], [5, 6, 7]]);
  });

  it('runs up to maxConcurrentBatches at once', async () => {
    const { batches, run, release } = recorder();
    const commit = new GroupCommit(run, { maxBatchSize: 2, maxWaitMs: 0, maxConcurrentBatches: 2 });
    const all = [1, 2, 3, 4, 5].map((n) => commit.submit(n));
    await tick();
    expect(batches).toEqual([
      [1, 2],
      [3, 4],
    ]);
    await release();
    await release();
    await release();
    await Promise.all(all);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('fails every request of a batch whose runner throws', async () => {
    const commit = new GroupCommit<number, number>(async () => Promise.reject(new Error('connection lost')), {
      maxBatchSize: 5,
      maxWaitMs: 0,
      maxConcurrentBatches: 1,
    });
    await expect(Promise.all([commit.submit(1), commit.submit(2)])).rejects.toThrow('connection lost');
  });

  it('drains on close and refuses new requests afterwards', async () => {
    const { run, release } = recorder();
    const commit = new GroupCommit(run, { maxBatchSize: 5, maxWaitMs: 1, maxConcurrentBatches: 1 });
    const pending = commit.submit(4);
    const closed = commit.close();
    await expect(commit.submit(5)).rejects.toThrow(/closing/);
    await release();
    await closed;
    expect(await pending).toBe(40);
  });

  it('refuses a configuration that could never run', () => {
    expect(() => new GroupCommit(async () => [], { maxBatchSize: 0, maxWaitMs: 0, maxConcurrentBatches: 1 })).toThrow(RangeError);
  });
});
