import type { PaymentStatus } from './payment-status';

/**
 * Every reason the payment aggregate refuses an event or a command. The code is stable
 * (callers branch on it, the HTTP layer maps it to a status); the message says what was wrong
 * and what is accepted.
 */
export const PAYMENT_REFUSAL_CODES = [
  'INVALID_INPUT',
  'NOT_INITIATED',
  'ALREADY_INITIATED',
  'TRANSITION_NOT_ALLOWED',
  'AMOUNT_MISMATCH',
  'CAPTURE_EXCEEDS_AUTHORIZED',
  'REFUND_EXCEEDS_CAPTURED',
  'REFUND_ALREADY_KNOWN',
  'REFUND_NOT_PENDING',
  'REFERENCE_MISMATCH',
  'DISPUTE_EXCEEDS_CAPTURED',
  'DISPUTE_NOT_OPEN',
] as const;

export type PaymentRefusalCode = (typeof PAYMENT_REFUSAL_CODES)[number];

export class PaymentDomainError extends Error {
  constructor(
    readonly code: PaymentRefusalCode,
    message: string,
  ) {
    super(message);
    this.name = 'PaymentDomainError';
  }
}

/** A field of an event or command is malformed (not a state problem). */
export class PaymentInputError extends PaymentDomainError {
  constructor(message: string) {
    super('INVALID_INPUT', message);
    this.name = 'PaymentInputError';
  }
}

/**
 * The event does not fit the payment as it is: it names the payment's status and the event, so
 * a log line or a dead letter says exactly which transition was refused.
 */
export class PaymentTransitionError extends PaymentDomainError {
  constructor(
    code: PaymentRefusalCode,
    readonly status: PaymentStatus | 'none',
    readonly eventType: string,
    reason: string,
  ) {
    super(code, `payment in status ${status} refuses ${eventType}: ${reason}`);
    this.name = 'PaymentTransitionError';
  }
}

export function isPaymentDomainError(error: unknown, code?: PaymentRefusalCode): error is PaymentDomainError {
  return error instanceof PaymentDomainError && (code === undefined || error.code === code);
}
