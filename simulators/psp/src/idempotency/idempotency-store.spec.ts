import { IDEMPOTENCY_KEY_TTL_MS, IdempotencyStore } from './idempotency-store';

const entry = { method: 'POST', path: '/v1/payment_intents', fingerprint: 'f', answer: { status: 200, body: { id: 'pi_1' } } };

describe('IdempotencyStore', () => {
  it('forgets a key 24 hours after its first answer, as Stripe does', () => {
    let now = 1_000_000;
    const saved: string[] = [];
    const store = new IdempotencyStore(
      (key) => saved.push(key),
      () => now,
    );
    store.save('sk_test_a', 'k-1', entry);
    expect(saved).toEqual(['sk_test_a\u0000k-1']);
    now += IDEMPOTENCY_KEY_TTL_MS - 1;
    expect(store.lookup('sk_test_a', 'k-1', 'POST', '/v1/payment_intents', 'f')).toEqual({ kind: 'replay', answer: entry.answer });
    now += 1;
    expect(store.lookup('sk_test_a', 'k-1', 'POST', '/v1/payment_intents', 'f')).toEqual({ kind: 'new' });
    expect(store.entries()).toEqual([]);
  });

  it('restores a remembered key unless it is older than 24 hours', () => {
    const now = 5 * IDEMPOTENCY_KEY_TTL_MS;
    const store = new IdempotencyStore(undefined, () => now);
    store.restore('sk_test_a\u0000fresh', { ...entry, savedAt: now - 1000 });
    store.restore('sk_test_a\u0000old', { ...entry, savedAt: now - IDEMPOTENCY_KEY_TTL_MS });
    expect(store.entries().map(([key]) => key)).toEqual(['sk_test_a\u0000fresh']);
    expect(store.lookup('sk_test_a', 'fresh', 'POST', '/v1/payment_intents', 'f').kind).toBe('replay');
    expect(store.lookup('sk_test_a', 'old', 'POST', '/v1/payment_intents', 'f').kind).toBe('new');
  });
});
