import Stripe from 'stripe';
import type { PspFailure } from '../psp.port';
import { toPspPayment } from './stripe-objects';

/** Connection errors that prove the request never left: retrying cannot duplicate anything. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function retryAfterMs(headers: Record<string, string> | undefined): number | undefined {
  const value = headers?.['retry-after'];
  return value && /^\d+$/.test(value) ? Number(value) * 1_000 : undefined;
}

/**
 * Turns what the Stripe SDK throws into what orchestration must do. A timeout is NEVER a
 * decline: the charge may have happened, so it is `unknown` until a retry with the same key or
 * a retrieve says. Errors that are not Stripe's (a bug of ours) are rethrown.
 */
export function toPspFailure(error: unknown): PspFailure {
  const errors = Stripe.errors;
  if (error instanceof errors.StripeCardError) {
    const intent = error.payment_intent;
    return {
      outcome: 'declined',
      code: error.code ?? 'card_declined',
      ...(error.decline_code ? { declineCode: error.decline_code } : {}),
      ...(error.advice_code ? { adviceCode: error.advice_code } : {}),
      ...(intent ? { payment: toPspPayment(intent) } : {}),
    };
  }
  if (error instanceof errors.StripeIdempotencyError) return { outcome: 'idempotency_conflict', reason: error.message };
  if (error instanceof errors.StripeRateLimitError) {
    const wait = retryAfterMs(error.headers);
    return { outcome: 'retryable', reason: error.message, statusCode: 429, ...(wait === undefined ? {} : { retryAfterMs: wait }) };
  }
  if (error instanceof errors.StripeConnectionError) {
    const code = (error.detail as { code?: string } | undefined)?.code;
    if (code && NEVER_SENT.has(code)) return { outcome: 'retryable', reason: `Stripe unreachable (${code})` };
    return { outcome: 'unknown', reason: error.message };
  }
  if (error instanceof errors.StripeAuthenticationError || error instanceof errors.StripePermissionError) {
    // Our credentials: an operator must fix them; retrying will not.
    return {
      outcome: 'rejected',
      code: error instanceof errors.StripeAuthenticationError ? 'authentication_failed' : 'permission_denied',
      reason: error.message,
      statusCode: error.statusCode ?? 401,
    };
  }
  if (error instanceof errors.StripeInvalidRequestError) {
    return {
      outcome: 'rejected',
      code: error.code ?? 'invalid_request',
      reason: error.message,
      ...(error.statusCode === undefined ? {} : { statusCode: error.statusCode }),
      ...(error.param ? { param: error.param } : {}),
    };
  }
  if (error instanceof errors.StripeAPIError) {
    const status = error.statusCode;
    // Stripe saved this answer for the key (stripe-should-retry: false): a retry would replay it. Only a read tells.
    if (error.headers?.['stripe-should-retry'] === 'false')
      return { outcome: 'unknown', reason: error.message, ...(status === undefined ? {} : { statusCode: status }) };
    if (status !== undefined && (status >= 500 || status === 409)) return { outcome: 'retryable', reason: error.message, statusCode: status };
    // An answer we could not read (not JSON, no status): it may have been processed.
    return { outcome: 'unknown', reason: error.message };
  }
  if (error instanceof errors.StripeError) return { outcome: 'unknown', reason: error.message };
  throw error;
}
