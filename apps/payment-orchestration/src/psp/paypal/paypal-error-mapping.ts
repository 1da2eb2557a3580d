import { ApiError } from '@paypal/paypal-server-sdk';
import type { PspFailure } from '../psp.port';
import { payPalCode } from './paypal-status';

/** Connection errors that prove the request never left: retrying cannot duplicate anything. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Issues that are the payer's instrument saying no: a decline, never retried with the same account. */
const DECLINES = new Set([
  'INSTRUMENT_DECLINED',
  'PAYER_ACTION_REQUIRED',
  'PAYER_CANNOT_PAY',
  'TRANSACTION_REFUSED',
  'PAYEE_BLOCKED_TRANSACTION',
  'COMPLIANCE_VIOLATION',
  'MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED',
]);

interface PayPalErrorBody {
  name?: string;
  message?: string;
  error?: string;
  details?: { issue?: string; description?: string }[];
}

function bodyOf(error: ApiError<unknown>): PayPalErrorBody {
  const result: unknown = error.result;
  if (result && typeof result === 'object') return result;
  try {
    return typeof error.body === 'string' ? (JSON.parse(error.body) as PayPalErrorBody) : {};
  } catch {
    return {};
  }
}

/** Something other than an HTTP answer went wrong in the SDK's client (axios underneath): a connection or a timeout. */
function connectionCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as { isAxiosError?: boolean; code?: unknown; name?: string };
  if (candidate.isAxiosError === true || candidate.name === 'AbortError') return typeof candidate.code === 'string' ? candidate.code : 'ABORTED';
  return undefined;
}

/**
 * Turns what the PayPal SDK throws into what orchestration must do. As for Stripe: a timeout is
 * never a decline (`unknown`: retry with the same PayPal-Request-Id or look the order up), and an
 * error that is not the SDK's (a bug of ours) is rethrown.
 */
export function toPayPalFailure(error: unknown): PspFailure {
  if (error instanceof ApiError) {
    const status = error.statusCode;
    const body = bodyOf(error);
    const issue = body.details?.[0]?.issue;
    const reason = `PayPal ${status} ${body.name ?? body.error ?? ''}${issue ? ` ${issue}` : ''}`.trim();
    // Our client id or secret (the token endpoint's 401), or a token refused twice: an operator must fix them; retrying will not.
    if (status === 401) return { outcome: 'rejected', code: 'authentication_failed', reason, statusCode: status };
    if (status === 403) return { outcome: 'rejected', code: 'permission_denied', reason, statusCode: status };
    if (status === 429) return { outcome: 'retryable', reason, statusCode: status };
    if (status >= 500) return { outcome: 'retryable', reason, statusCode: status };
    if (issue === 'PAYPAL_REQUEST_ID_PREVIOUSLY_USED') return { outcome: 'idempotency_conflict', reason };
    if (status === 422 && issue && DECLINES.has(issue)) return { outcome: 'declined', code: payPalCode(issue, 'instrument_declined') };
    return { outcome: 'rejected', code: payPalCode(issue ?? body.name, 'invalid_request'), reason, statusCode: status };
  }
  const code = connectionCode(error);
  if (code !== undefined) {
    if (NEVER_SENT.has(code)) return { outcome: 'retryable', reason: `PayPal unreachable (${code})` };
    return { outcome: 'unknown', reason: `no answer from PayPal (${code})` };
  }
  throw error;
}
