import type { SimulatorClock } from './persistence/simulator-clock';
import type { SimulatorState } from './simulator-state';

/** What an API or control handler may touch: the state, the webhook outbox, and the answer's fate. */
export interface ApiContext {
  readonly state: SimulatorState;
  /** The caller used a publishable key (`pk_test_...`: Stripe.js's card frame in a browser), not a secret one. */
  readonly publishableKey: boolean;
  /** Simulated time, for what takes days (bank debits). */
  readonly clock: SimulatorClock;
  /** How long a bank takes to answer a debit, in simulated milliseconds. */
  readonly debitDelayMs: number;
  /** Queues a webhook event carrying a snapshot of the object as it is now. */
  emit(type: string, object: object): void;
  /** Set by a handler whose payment method fails the first answer to a key after doing the work. */
  failFirstAnswer: boolean;
  /** Set by a handler whose payment method holds the first answer (the client times out; a retry with the key gets it). */
  hangAnswer: boolean;
}

export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

export const ok = (body: unknown): ApiAnswer => ({ status: 200, body });
