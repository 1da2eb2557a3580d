import { createHash } from 'node:crypto';
import type { AppName, Money, PaymentCaptureMethod, PaymentKind } from '@pay/contracts';

/**
 * A request for money to move, whichever door it came through (Kafka's PurchaseRequested or
 * `POST /v1/payments`): both doors turn their input into this, and from here on behave alike.
 */
export interface PurchaseRequest {
  /** The caller's idempotency key (Kafka: `requestId`; HTTP: the `Idempotency-Key` header). */
  readonly requestId: string;
  readonly kind: PaymentKind;
  readonly payerId: string;
  readonly counterparty: { readonly type: 'merchant' | 'non-profit' | 'person'; readonly id: string };
  readonly app: AppName;
  readonly country: string;
  /** Minor units and currency, as the contract carries them (`toMinorUnits` for arithmetic). */
  readonly amount: Money;
  readonly paymentMethodId?: string;
  readonly stepUpProof?: string;
  readonly merchantCategory?: string;
  readonly description?: string;
  /** Absent: automatic. */
  readonly captureMethod?: PaymentCaptureMethod;
}

/**
 * The SHA-256 of what the request asks for, in a fixed field order. The step-up proof is left out:
 * it authenticates the payer, it is not part of the purchase, so the same purchase sent again
 * with a fresh proof (or none) is the same request and replays the first answer.
 */
export function requestHash(request: PurchaseRequest): string {
  const canonical = [
    request.kind,
    request.payerId,
    request.counterparty.type,
    request.counterparty.id,
    request.app,
    request.country,
    request.amount.amount,
    request.amount.currency,
    request.paymentMethodId ?? '',
    request.merchantCategory ?? '',
    request.description ?? '',
    // Only when asked for: the hash of every automatic request stays what it was.
    ...(request.captureMethod === 'manual' ? ['manual'] : []),
  ];
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}
