export interface GroupCommitOptions {
  /** At most this many requests go into one database transaction. */
  readonly maxBatchSize: number;
  /**
   * How long an idle committer waits for company before it starts a batch. 0 still gathers
   * everything submitted in the same turn of the event loop. While a batch is in flight,
   * newcomers queue anyway and form the next batch, so batches grow with load by themselves.
   */
  readonly maxWaitMs: number;
  /** Batches in flight at once (each needs its own connection). */
  readonly maxConcurrentBatches: number;
}

export const DEFAULT_GROUP_COMMIT: GroupCommitOptions = { maxBatchSize: 256, maxWaitMs: 0, maxConcurrentBatches: 1 };

/** Runs a batch and settles each request on its own: one failure must not fail the others. */
export type BatchRunner<Request, Result> = (requests: readonly Request[]) => Promise<Array<PromiseSettledResult<Result>>>;

interface Waiting<Request, Result> {
  readonly request: Request;
  readonly resolve: (result: Result) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit: concurrent requests are collected and handed to `run` together, so that many
 * of them share one database transaction (one lock of the chain head, one fsync at COMMIT).
 */
export class GroupCommit<Request, Result> {
  private queue: Array<Waiting<Request, Result>> = [];
  private inFlight = 0;
  private scheduled = false;
  private closed = false;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(
    private readonly run: BatchRunner<Request, Result>,
    private readonly options: GroupCommitOptions = DEFAULT_GROUP_COMMIT,
  ) {
    if (options.maxBatchSize < 1 || options.maxConcurrentBatches < 1 || options.maxWaitMs < 0) {
      throw new RangeError('group commit needs maxBatchSize >= 1, maxConcurrentBatches >= 1 and maxWaitMs >= 0');
    }
  }

  submit(request: Request): Promise<Result> {
    if (this.closed) return Promise.reject(new Error('closing: the request was not taken'));
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.schedule();
    });
  }

  /** Stops taking requests and resolves when every queued and running batch has finished. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.queue.length > 0) this.schedule();
    if (this.queue.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((done) => this.idleWaiters.push(done));
  }

  get pending(): number {
    return this.queue.length;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxConcurrentBatches || this.queue.length === 0) return;
    this.scheduled = true;
    const start = (): void => {
      this.scheduled = false;
      this.flush();
    };
    if (this.queue.length >= this.options.maxBatchSize) queueMicrotask(start);
    else if (this.options.maxWaitMs === 0) setImmediate(start);
    else setTimeout(start, this.options.maxWaitMs);
  }

  private flush(): void {
    while (this.inFlight < this.options.maxConcurrentBatches && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatchSize);
      this.inFlight += 1;
      void this.runBatch(batch);
    }
  }

  private async runBatch(batch: Array<Waiting<Request, Result>>): Promise<void> {
    try {
      const results = await this.run(batch.map((w) => w.request));
      batch.forEach((waiting, i) => {
        const result = results[i];
        if (result === undefined) waiting.reject(new Error('the batch returned no result for this request'));
        else if (result.status === 'fulfilled') waiting.resolve(result.value);
        else waiting.reject(result.reason);
      });
    } catch (error) {
      batch.forEach((waiting) => waiting.reject(error));
    } finally {
      this.inFlight -= 1;
      // Whatever queued while this batch ran is the next batch: start it right away.
      if (this.queue.length > 0) this.flush();
      else if (this.inFlight === 0) this.idleWaiters.splice(0).forEach((done) => done());
    }
  }
}
