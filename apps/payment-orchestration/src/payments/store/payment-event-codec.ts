import type { PaymentEvent, PaymentEventType } from '@pay/payments-domain';
import { PAYMENT_EVENT_TYPES } from '@pay/payments-domain';

/**
 * How a domain event is kept in `payment_events`: its type, and its fields as JSON with every
 * amount as a decimal string (JSON has no bigint; a float would lose cents). This is the store's
 * own format, independent of the published contract, so either can evolve on its own.
 */
export interface StoredPaymentEvent {
  readonly type: PaymentEventType;
  readonly data: Record<string, unknown>;
}

/** A row that cannot be read back as an event: the stream is damaged, nothing is guessed. */
export class CorruptPaymentEventError extends Error {
  constructor(paymentId: string, sequence: number, reason: string) {
    super(`payment ${paymentId} event ${sequence} cannot be read: ${reason}`);
    this.name = 'CorruptPaymentEventError';
  }
}

/** In every event type, the money fields are exactly those named `amount`. */
const AMOUNT_FIELD = 'amount';

export function encodePaymentEvent(event: PaymentEvent): StoredPaymentEvent {
  const { type, ...fields } = event;
  const data: Record<string, unknown> = { ...fields };
  const amount = data[AMOUNT_FIELD];
  if (typeof amount === 'bigint') data[AMOUNT_FIELD] = amount.toString();
  return { type, data };
}

export function decodePaymentEvent(paymentId: string, sequence: number, type: string, data: unknown): PaymentEvent {
  if (!(PAYMENT_EVENT_TYPES as readonly string[]).includes(type)) throw new CorruptPaymentEventError(paymentId, sequence, `unknown type ${type}`);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new CorruptPaymentEventError(paymentId, sequence, 'data is not an object');
  const fields: Record<string, unknown> = { ...(data as Record<string, unknown>) };
  if (AMOUNT_FIELD in fields) {
    const amount = fields[AMOUNT_FIELD];
    if (typeof amount !== 'string' || !/^(0|[1-9][0-9]*)$/.test(amount))
      throw new CorruptPaymentEventError(paymentId, sequence, 'amount is not a whole number');
    fields[AMOUNT_FIELD] = BigInt(amount);
  }
  // The aggregate validates every field again as it rehydrates.
  return { ...fields, type } as PaymentEvent;
}
