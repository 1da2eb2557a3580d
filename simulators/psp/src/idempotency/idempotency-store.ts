import type { ApiAnswer } from '../api-context';
import { StripeApiError } from '../http/stripe-error';

export interface SavedAnswer {
  readonly method: string;
  readonly path: string;
  readonly fingerprint: string;
  readonly answer: ApiAnswer;
  /** Epoch milliseconds when the first answer was saved; the key is forgotten 24 h later, as on Stripe. */
  readonly savedAt: number;
}

/** How long Stripe keeps an idempotency key. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

export type IdempotencyLookup =
  { readonly kind: 'new' } | { readonly kind: 'replay'; readonly answer: ApiAnswer } | { readonly kind: 'conflict'; readonly error: StripeApiError };

/**
 * Stripe's idempotency, per API key: the first answer to a key is saved and every later request
 * with that key and the same parameters gets it again (`Idempotent-Replayed: true`); the same key
 * with other parameters or on another endpoint is a 400 idempotency_error. As on Stripe, only
 * answers of requests that ran are saved (successes and card declines), not validation errors.
 */
export class IdempotencyStore {
  private readonly saved = new Map<string, SavedAnswer>();

  /** `onSave` hears of every saved answer (the journal writes it before the client gets it). */
  constructor(
    private readonly onSave: (compoundKey: string, entry: SavedAnswer) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  lookup(apiKey: string, key: string, method: string, path: string, fingerprint: string): IdempotencyLookup {
    const saved = this.saved.get(`${apiKey}\u0000${key}`);
    if (!saved || this.expired(saved)) return { kind: 'new' };
    if (saved.method !== method || saved.path !== path) {
      return {
        kind: 'conflict',
        error: new StripeApiError(
          400,
          'idempotency_error',
          `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${saved.method} ${saved.path}' vs '${method} ${path}'). Try using a key other than '${key}' if you meant to execute a different request.`,
        ),
      };
    }
    if (saved.fingerprint !== fingerprint) {
      return {
        kind: 'conflict',
        error: new StripeApiError(
          400,
          'idempotency_error',
          `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
        ),
      };
    }
    return { kind: 'replay', answer: saved.answer };
  }

  save(apiKey: string, key: string, entry: Omit<SavedAnswer, 'savedAt'>): void {
    if (entry.answer.status >= 400 && entry.answer.status !== 402) return;
    const compoundKey = `${apiKey}\u0000${key}`;
    const saved = { ...entry, savedAt: this.now() };
    this.saved.set(compoundKey, saved);
    this.onSave(compoundKey, saved);
  }

  /** Puts back a key read from the journal, unless it is older than 24 h. */
  restore(compoundKey: string, entry: SavedAnswer): void {
    if (this.expired(entry)) this.saved.delete(compoundKey);
    else this.saved.set(compoundKey, entry);
  }

  /** The keys still remembered, for compacting the journal. */
  entries(): [string, SavedAnswer][] {
    return [...this.saved].filter(([, entry]) => !this.expired(entry));
  }

  private expired(entry: SavedAnswer): boolean {
    return this.now() - entry.savedAt >= IDEMPOTENCY_KEY_TTL_MS;
  }

  clear(): void {
    this.saved.clear();
  }
}
