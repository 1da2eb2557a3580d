import type { Sql } from '../database/sql';
import { idempotencyKeys } from './idempotency-keys';

/** Why a request on an existing payment (a refund, a capture, a void) was refused; `status` is the HTTP status. */
export class PaymentRequestRefusal {
  constructor(
    readonly status: 404 | 409 | 422,
    readonly code: string,
    readonly message: string,
  ) {}
}

/** What any refusal tells the caller: an HTTP status, a code and a message safe to show. */
export interface Refusal {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/** What a request sent with an Idempotency-Key comes to: accepted (the first answer again when `replayed`), or refused. */
export type RequestOutcome<Body, Why extends Refusal = PaymentRequestRefusal> =
  | { readonly outcome: 'accepted'; readonly status: number; readonly body: Body; readonly replayed: boolean }
  | { readonly outcome: 'refused'; readonly refusal: Why };

export const refusedRequest = (
  status: 404 | 409 | 422,
  code: string,
  message: string,
): { readonly outcome: 'refused'; readonly refusal: PaymentRequestRefusal } => ({
  outcome: 'refused',
  refusal: new PaymentRequestRefusal(status, code, message),
});

/**
 * Takes the key's lock (to the end of the transaction), then answers as the first request with
 * this key did when the request is the same (`requestHash`), refuses when the key served another
 * request (`what` it was), and gives undefined for a new key: the caller decides, then saves it.
 */
export async function answeredBefore<Body>(
  sql: Sql,
  key: { readonly scope: string; readonly key: string; readonly requestHash: string },
  what: string,
): Promise<RequestOutcome<Body> | undefined> {
  await idempotencyKeys.lock(sql, key.scope, key.key);
  const earlier = await idempotencyKeys.find(sql, key.scope, key.key);
  if (!earlier) return undefined;
  if (earlier.requestHash === key.requestHash)
    return { outcome: 'accepted', status: earlier.responseStatus, body: earlier.responseBody as unknown as Body, replayed: true };
  return refusedRequest(422, 'IDEMPOTENCY_KEY_REUSED', `this Idempotency-Key was used for another ${what}; use a new key for a new request`);
}
