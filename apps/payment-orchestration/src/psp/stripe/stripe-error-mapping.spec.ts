import Stripe from 'stripe';
import { toPspFailure } from './stripe-error-mapping';

const { errors } = Stripe;

describe('Stripe errors -> PSP outcomes', () => {
  it('a card error is a decline with its codes', () => {
    const error = new errors.StripeCardError({
      message: 'Your card was declined.',
      code: 'card_declined',
      decline_code: 'lost_card',
      advice_code: 'do_not_try_again',
      statusCode: 402,
    });
    expect(toPspFailure(error)).toEqual({ outcome: 'declined', code: 'card_declined', declineCode: 'lost_card', adviceCode: 'do_not_try_again' });
  });

  it('a timeout is `unknown`, never a decline; a refused connection never left and is retryable', () => {
    const timeout = new errors.StripeConnectionError({ message: 'Request aborted due to timeout being reached (1000ms)', detail: { code: 'ETIMEDOUT' } });
    expect(toPspFailure(timeout)).toEqual({ outcome: 'unknown', reason: 'Request aborted due to timeout being reached (1000ms)' });
    const reset = new errors.StripeConnectionError({ message: 'An error occurred with our connection to Stripe.', detail: { code: 'ECONNRESET' } });
    expect(toPspFailure(reset).outcome).toBe('unknown');
    const refused = new errors.StripeConnectionError({ message: 'An error occurred with our connection to Stripe.', detail: { code: 'ECONNREFUSED' } });
    expect(toPspFailure(refused)).toEqual({ outcome: 'retryable', reason: 'Stripe unreachable (ECONNREFUSED)' });
  });

  it('5xx and 409 are retryable with the same key, unless Stripe says the answer is final', () => {
    expect(toPspFailure(new errors.StripeAPIError({ message: 'boom', statusCode: 500 }))).toEqual({ outcome: 'retryable', reason: 'boom', statusCode: 500 });
    expect(toPspFailure(new errors.StripeAPIError({ message: 'in use', statusCode: 409 }))).toMatchObject({ outcome: 'retryable', statusCode: 409 });
    const saved = new errors.StripeAPIError({ message: 'boom', statusCode: 500, headers: { 'stripe-should-retry': 'false' } });
    expect(toPspFailure(saved)).toEqual({ outcome: 'unknown', reason: 'boom', statusCode: 500 });
    expect(toPspFailure(new errors.StripeAPIError({ message: 'Invalid JSON received from the Stripe API' })).outcome).toBe('unknown');
  });

  it('rate limits are retryable after the time Stripe asks for', () => {
    const error = new errors.StripeRateLimitError({ message: 'Too many requests', statusCode: 429, headers: { 'retry-after': '2' } });
    expect(toPspFailure(error)).toEqual({ outcome: 'retryable', reason: 'Too many requests', statusCode: 429, retryAfterMs: 2_000 });
  });

  it('bad requests, credentials and reused keys are not retried', () => {
    expect(
      toPspFailure(new errors.StripeInvalidRequestError({ message: 'No such payment_intent', code: 'resource_missing', param: 'intent', statusCode: 404 })),
    ).toEqual({
      outcome: 'rejected',
      code: 'resource_missing',
      reason: 'No such payment_intent',
      statusCode: 404,
      param: 'intent',
    });
    expect(toPspFailure(new errors.StripeAuthenticationError({ message: 'Invalid API Key', statusCode: 401 }))).toMatchObject({
      outcome: 'rejected',
      code: 'authentication_failed',
    });
    expect(toPspFailure(new errors.StripePermissionError({ message: 'nope', statusCode: 403 }))).toMatchObject({
      outcome: 'rejected',
      code: 'permission_denied',
    });
    expect(toPspFailure(new errors.StripeIdempotencyError({ message: 'Keys for idempotent requests...', statusCode: 400 }))).toMatchObject({
      outcome: 'idempotency_conflict',
    });
  });

  it('rethrows what is not a Stripe error: a bug of ours is not a PSP outcome', () => {
    expect(() => toPspFailure(new TypeError('undefined is not a function'))).toThrow(TypeError);
  });
});
