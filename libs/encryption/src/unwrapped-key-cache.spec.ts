import { randomBytes } from 'node:crypto';
import { DecryptionError } from './aead';
import type { KeyWrapper, WrappedDataKey } from './master-key-ring';
import { MasterKeyRing } from './master-key-ring';
import { CachingKeyWrapper } from './unwrapped-key-cache';

/** A real key ring that counts its unwraps. */
function countingRing(): KeyWrapper & { unwraps: number } {
  const ring = MasterKeyRing.parse(`k1:${randomBytes(32).toString('base64')}`, 'k1');
  const counting = {
    unwraps: 0,
    activeKeyId: ring.activeKeyId,
    wrap: (id: string, key: Buffer) => ring.wrap(id, key),
    unwrap: (id: string, wrapped: WrappedDataKey) => {
      counting.unwraps += 1;
      return ring.unwrap(id, wrapped);
    },
  };
  return counting;
}

describe('CachingKeyWrapper', () => {
  let clock = 0;
  const now = (): number => clock;
  beforeEach(() => (clock = 1_000_000));

  it('unwraps a data key once while it is fresh, and again after its time', async () => {
    const ring = countingRing();
    const cache = new CachingKeyWrapper(ring, { ttlMs: 5_000, maxKeys: 10, now });
    const dataKey = randomBytes(32);
    const wrapped = await cache.wrap('dk-1', dataKey);
    for (let i = 0; i < 3; i += 1) expect((await cache.unwrap('dk-1', wrapped)).equals(dataKey)).toBe(true);
    expect(ring.unwraps).toBe(1);
    clock += 5_000;
    expect((await cache.unwrap('dk-1', wrapped)).equals(dataKey)).toBe(true);
    expect(ring.unwraps).toBe(2);
  });

  it('never answers a wrapped key it has not unwrapped itself: another id, another wrapping, a flipped bit', async () => {
    const ring = countingRing();
    const cache = new CachingKeyWrapper(ring, { ttlMs: 60_000, maxKeys: 10, now });
    const wrapped = await cache.wrap('dk-1', randomBytes(32));
    await cache.unwrap('dk-1', wrapped);
    // The same bytes under another data key id are checked by the ring (and refused), not served from the cache.
    await expect(cache.unwrap('dk-2', wrapped)).rejects.toThrow(DecryptionError);
    const flipped = { ...wrapped, wrapped: Buffer.from(wrapped.wrapped) };
    flipped.wrapped[20] ^= 1;
    await expect(cache.unwrap('dk-1', flipped)).rejects.toThrow(DecryptionError);
    // Re-wrapped (rotation): a new wrapping is unwrapped anew.
    const rewrapped = await cache.wrap('dk-1', await cache.unwrap('dk-1', wrapped));
    await cache.unwrap('dk-1', rewrapped);
    expect(ring.unwraps).toBe(4);
  });

  it('keeps at most maxKeys, dropping the least recently used, and what a caller holds stays its own', async () => {
    const ring = countingRing();
    const cache = new CachingKeyWrapper(ring, { ttlMs: 60_000, maxKeys: 2, now });
    const keys = await Promise.all(['a', 'b', 'c'].map(async (id) => ({ id, wrapped: await cache.wrap(id, randomBytes(32)) })));
    const [a, b, c] = keys;
    const held = await cache.unwrap(a.id, a.wrapped);
    await cache.unwrap(b.id, b.wrapped);
    await cache.unwrap(a.id, a.wrapped); // a used again: b is now the oldest
    await cache.unwrap(c.id, c.wrapped);
    expect(cache.size).toBe(2);
    expect(ring.unwraps).toBe(3);
    await cache.unwrap(a.id, a.wrapped);
    expect(ring.unwraps).toBe(3);
    await cache.unwrap(b.id, b.wrapped);
    expect(ring.unwraps).toBe(4);
    // What a caller holds is its own copy: clearing the cache does not zero it.
    cache.clear();
    expect(cache.size).toBe(0);
    expect(held.some((byte) => byte !== 0)).toBe(true);
  });

  it('with ttlMs 0 keeps nothing', async () => {
    const ring = countingRing();
    const cache = new CachingKeyWrapper(ring, { ttlMs: 0, maxKeys: 10, now });
    const wrapped = await cache.wrap('dk-1', randomBytes(32));
    await cache.unwrap('dk-1', wrapped);
    await cache.unwrap('dk-1', wrapped);
    expect(ring.unwraps).toBe(2);
    expect(cache.size).toBe(0);
  });

  it('refuses a negative time or an empty size', () => {
    expect(() => new CachingKeyWrapper(countingRing(), { ttlMs: -1, maxKeys: 1 })).toThrow('ttlMs');
    expect(() => new CachingKeyWrapper(countingRing(), { ttlMs: 1, maxKeys: 0 })).toThrow('maxKeys');
  });
});
