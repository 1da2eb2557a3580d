import type { PaymentRejectionCode } from '@pay/contracts';

/**
 * The HTTP status of each refusal. 403: this person may not pay this way (rollout, activation,
 * step-up); 404: someone named does not exist for us; 422: the request is well-formed but not
 * acceptable as it is (key reused, currency, amount, method); 429: too many requests, send it
 * again later (the Kafka door's rate limits; the HTTP door answers 429 before deciding).
 */
export const REFUSAL_STATUS: Readonly<Record<PaymentRejectionCode, 403 | 404 | 422 | 429>> = {
  IDEMPOTENCY_KEY_REUSED: 422,
  COUNTERPARTY_NOT_ALLOWED: 422,
  SELF_TRANSFER: 422,
  PAY_NOT_AVAILABLE_IN_COUNTRY: 403,
  PAY_NOT_AVAILABLE_IN_APP: 403,
  CURRENCY_NOT_SUPPORTED: 422,
  AMOUNT_BELOW_MINIMUM: 422,
  AMOUNT_ABOVE_MAXIMUM: 422,
  WALLET_NOT_FOUND: 404,
  PAY_NOT_ACTIVE_IN_APP: 403,
  NON_PROFIT_NOT_REGISTERED: 422,
  RECIPIENT_NOT_FOUND: 404,
  PAYMENT_METHOD_NOT_ACCEPTED: 422,
  NO_PREFERRED_METHOD: 422,
  PAYMENT_METHOD_NOT_FOUND: 422,
  PAYMENT_METHOD_REMOVED: 422,
  STEP_UP_REQUIRED: 403,
  STEP_UP_PROOF_INVALID: 403,
  STEP_UP_PROOF_EXPIRED: 403,
  STEP_UP_PROOF_ALREADY_USED: 403,
  STEP_UP_AMOUNT_ABOVE_CEILING: 403,
  CAPTURE_METHOD_NOT_SUPPORTED: 422,
  RATE_LIMITED: 429,
};

/** A purchase request refused before any money moved; the message is safe to show and to log. */
export class PurchaseRefusal {
  constructor(
    readonly code: PaymentRejectionCode,
    readonly message: string,
  ) {}

  get status(): number {
    return REFUSAL_STATUS[this.code];
  }
}
