/** A partition's next offset to read, as Kafka's OffsetCommit takes it. */
export interface PartitionOffset {
  topic: string;
  partition: number;
  /** The offset after the last applied message. */
  offset: string;
}

/**
 * Offsets of applied messages, sent to the group coordinator at most once per interval: one
 * OffsetCommit carries every partition's offset, and a trailing commit follows the last batch.
 * The inbox makes this safe: a message applied but not yet committed is delivered again after a
 * crash or rebalance and skipped there as a duplicate by the chunk's one inbox statement. What
 * must not wait (a dead letter, a stop, a batch cut short) is committed at once with `now`.
 */
export class OffsetCommits {
  private readonly pending = new Map<string, PartitionOffset>();
  private lastCommitAt = 0;
  private timer?: NodeJS.Timeout;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    /** 0: every offer is committed at once. */
    private readonly intervalMs: number,
    private readonly send: (offsets: PartitionOffset[]) => Promise<void>,
    /** A trailing commit failed: its offsets are kept for the next one. */
    private readonly onTrailingFailure: (error: unknown) => void,
  ) {}

  /** Offsets waiting for the next commit (tests and stats). */
  get waiting(): number {
    return this.pending.size;
  }

  /** Records `offset` for its partition; commits now when asked or when the interval has passed, else schedules it. */
  offer(offset: PartitionOffset, now = false, send: (offsets: PartitionOffset[]) => Promise<void> = this.send): Promise<void> {
    this.pending.set(`${offset.topic}\u0000${offset.partition}`, offset);
    if (now || this.intervalMs === 0 || Date.now() - this.lastCommitAt >= this.intervalMs) return this.flush(send);
    this.timer ??= setTimeout(
      () => {
        this.timer = undefined;
        this.flush().catch(this.onTrailingFailure);
      },
      Math.max(0, this.lastCommitAt + this.intervalMs - Date.now()),
    ).unref();
    return Promise.resolve();
  }

  /** Commits every waiting offset now (in the order asked: a later flush waits for an earlier one). */
  flush(send: (offsets: PartitionOffset[]) => Promise<void> = this.send): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const run = this.inFlight
      .catch(() => undefined)
      .then(async () => {
        if (this.pending.size === 0) return;
        const offsets = [...this.pending.values()];
        this.pending.clear();
        this.lastCommitAt = Date.now();
        try {
          await send(offsets);
        } catch (error) {
          // Kept unless a later offer has superseded them.
          for (const offset of offsets) {
            const key = `${offset.topic}\u0000${offset.partition}`;
            if (!this.pending.has(key)) this.pending.set(key, offset);
          }
          throw error;
        }
      });
    this.inFlight = run;
    return run;
  }

  /** Forgets what waits (the consumer is gone; whatever was not committed is delivered again and deduplicated). */
  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}
