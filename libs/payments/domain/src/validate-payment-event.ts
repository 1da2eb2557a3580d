import { assertCurrency, assertPositiveAmount, assertReference } from './money';
import { PaymentInputError } from './payment-errors';
import type { PaymentEvent } from './payment-events';
import { CANCELLATION_REASONS, CAPTURE_METHODS, COUNTERPARTY_TYPES, PAYMENT_EVENT_TYPES, PAYMENT_KINDS, REFUND_REASONS } from './payment-events';

/** PSP codes (`card_declined`, `insufficient_funds`) and short reasons: snake case, never free text. */
const CODE_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
const COUNTRY_PATTERN = /^[A-Z]{2}$/;
const APP_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new PaymentInputError(`${field} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function code(value: unknown, field: string): string {
  if (typeof value !== 'string' || !CODE_PATTERN.test(value)) {
    throw new PaymentInputError(`${field} must be a code of 1 to 64 lower-case letters, digits and "_", e.g. card_declined`);
  }
  return value;
}

function matching(value: unknown, pattern: RegExp, field: string, accepted: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw new PaymentInputError(`${field} must be ${accepted}`);
  return value;
}

/**
 * Checks the fields of an event whatever its origin (a command, the store, a replay), so a
 * malformed event can never reach the state. Throws PaymentInputError saying which field.
 */
export function validatePaymentEvent(event: PaymentEvent): void {
  if (typeof event !== 'object' || event === null) throw new PaymentInputError('an event must be an object');
  const type = (event as { type?: unknown }).type;
  oneOf(type, PAYMENT_EVENT_TYPES, 'type');
  switch (event.type) {
    case 'PaymentInitiated':
      assertReference(event.paymentId, 'paymentId');
      assertReference(event.requestId, 'requestId');
      oneOf(event.kind, PAYMENT_KINDS, 'kind');
      assertReference(event.payerId, 'payerId');
      oneOf(event.counterparty?.type, COUNTERPARTY_TYPES, 'counterparty.type');
      assertReference(event.counterparty?.id, 'counterparty.id');
      matching(event.app, APP_PATTERN, 'app', 'an app name in lower case, e.g. instagram');
      matching(event.country, COUNTRY_PATTERN, 'country', 'an ISO 3166-1 alpha-2 code, e.g. DE');
      assertPositiveAmount(event.amount, 'amount');
      assertCurrency(event.currency);
      oneOf(event.captureMethod, CAPTURE_METHODS, 'captureMethod');
      if (event.paymentMethodId !== undefined) assertReference(event.paymentMethodId, 'paymentMethodId');
      return;
    case 'ActionRequired':
      code(event.provider, 'provider');
      assertReference(event.reference, 'reference');
      return;
    case 'Authorized':
    case 'DebitSubmitted':
      assertPositiveAmount(event.amount, 'amount');
      code(event.provider, 'provider');
      assertReference(event.reference, 'reference');
      return;
    case 'Captured':
      assertPositiveAmount(event.amount, 'amount');
      return;
    case 'Failed':
      code(event.code, 'code');
      if (event.declineCode !== undefined) code(event.declineCode, 'declineCode');
      return;
    case 'Canceled':
      oneOf(event.reason, CANCELLATION_REASONS, 'reason');
      return;
    case 'RefundRequested':
      assertReference(event.refundId, 'refundId');
      assertPositiveAmount(event.amount, 'amount');
      oneOf(event.reason, REFUND_REASONS, 'reason');
      return;
    case 'Refunded':
      assertReference(event.refundId, 'refundId');
      assertPositiveAmount(event.amount, 'amount');
      return;
    case 'RefundFailed':
      assertReference(event.refundId, 'refundId');
      code(event.reason, 'reason');
      return;
    case 'DisputeOpened':
      assertReference(event.disputeId, 'disputeId');
      assertPositiveAmount(event.amount, 'amount');
      code(event.reason, 'reason');
      return;
    case 'DisputeWon':
    case 'DisputeLost':
      assertReference(event.disputeId, 'disputeId');
      return;
  }
}
