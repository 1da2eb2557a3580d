import { createHash } from 'node:crypto';
import type { KeyWrapper, WrappedDataKey } from './master-key-ring';

export interface UnwrappedKeyCacheOptions {
  /** How long an unwrapped data key is kept after it was unwrapped (0: not kept). */
  readonly ttlMs: number;
  /** At most this many keys are kept; the least recently used goes first. */
  readonly maxKeys: number;
  readonly now?: () => number;
}

/**
 * Keeps data keys unwrapped for a few seconds, so a person's secrets opened again and again (a
 * saved card released for every purchase) do not cost an unwrap each time — with a KMS adapter an
 * unwrap is a network call. The cache only skips the unwrap, never the read: callers still read
 * the wrapped key from `data_keys` first, so a deleted key (crypto-shredding) stops every read at
 * once. Entries are found by the data key's id, its master key and the wrapped bytes (a digest):
 * a re-wrapped or replaced row never meets a stale entry. Wrapping passes through.
 */
export class CachingKeyWrapper implements KeyWrapper {
  private readonly entries = new Map<string, { key: Buffer; until: number }>();
  private readonly now: () => number;

  constructor(
    private readonly inner: KeyWrapper,
    private readonly options: UnwrappedKeyCacheOptions,
  ) {
    if (!Number.isInteger(options.ttlMs) || options.ttlMs < 0) throw new Error('ttlMs must be a whole number of milliseconds, 0 or more');
    if (!Number.isInteger(options.maxKeys) || options.maxKeys < 1) throw new Error('maxKeys must be a whole number, 1 or more');
    this.now = options.now ?? Date.now;
  }

  get activeKeyId(): string {
    return this.inner.activeKeyId;
  }

  wrap(dataKeyId: string, dataKey: Buffer): Promise<WrappedDataKey> {
    return this.inner.wrap(dataKeyId, dataKey);
  }

  async unwrap(dataKeyId: string, wrapped: WrappedDataKey): Promise<Buffer> {
    if (this.options.ttlMs === 0) return this.inner.unwrap(dataKeyId, wrapped);
    const id = `${dataKeyId}\n${wrapped.masterKeyId}\n${createHash('sha256').update(wrapped.wrapped).digest('base64')}`;
    const now = this.now();
    const hit = this.entries.get(id);
    if (hit && hit.until > now) {
      // Most recently used last: Map keeps insertion order.
      this.entries.delete(id);
      this.entries.set(id, hit);
      return Buffer.from(hit.key);
    }
    if (hit) this.forget(id);
    const key = await this.inner.unwrap(dataKeyId, wrapped);
    this.entries.set(id, { key: Buffer.from(key), until: now + this.options.ttlMs });
    while (this.entries.size > this.options.maxKeys) this.forget(this.entries.keys().next().value as string);
    return key;
  }

  /** How many keys are held now (expired ones included until they are met or pushed out). */
  get size(): number {
    return this.entries.size;
  }

  /** Drops every key held (e.g. on shutdown). */
  clear(): void {
    for (const id of [...this.entries.keys()]) this.forget(id);
  }

  private forget(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    // A key leaving the cache is overwritten, not left for the garbage collector to find.
    entry.key.fill(0);
    this.entries.delete(id);
  }
}
