/**
 * An error the way Stripe's API answers it: an HTTP status and `{ "error": { type, code, ... } }`.
 * The SDK turns the status and type into its error classes (400 invalid_request_error ->
 * StripeInvalidRequestError, 402 card_error -> StripeCardError, 400 idempotency_error ->
 * StripeIdempotencyError, 5xx -> StripeAPIError), so both must be what Stripe sends.
 */
export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error' | 'authentication_error',
    message: string,
    readonly fields: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'StripeApiError';
  }

  body(): { error: Record<string, unknown> } {
    return { error: { type: this.type, message: this.message, ...this.fields } };
  }
}

export const invalidRequest = (message: string, fields: Record<string, unknown> = {}): StripeApiError =>
  new StripeApiError(400, 'invalid_request_error', message, fields);

export const missingParam = (param: string): StripeApiError => invalidRequest(`Missing required param: ${param}.`, { code: 'parameter_missing', param });

export const notFound = (kind: string, id: string, param = 'id'): StripeApiError =>
  new StripeApiError(404, 'invalid_request_error', `No such ${kind}: '${id}'`, { code: 'resource_missing', param });

export const unexpectedState = (message: string, fields: Record<string, unknown> = {}): StripeApiError =>
  invalidRequest(message, { code: 'payment_intent_unexpected_state', ...fields });
