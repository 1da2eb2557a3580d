import { createHash } from 'node:crypto';
import type { Counterparty, PurchaseRequested } from '@pay/contracts';

/**
 * A request for money to move, whichever door it came through (Kafka's PurchaseRequested or
 * `POST /v1/payments`): both doors turn their input into this (`toPurchaseRequest`), and from here on
 * behave alike. Its fields are the contract's, less the deprecated `personId` (read as `payerId`):
 * one definition, in libs/contracts. `requestId` is the caller's idempotency key (Kafka: the event's
 * `requestId`; HTTP: the `Idempotency-Key` header); the amount stays the contract's Money
 * (`toMinorUnits` for arithmetic); an absent `captureMethod` is automatic.
 */
export type PurchaseRequest = Readonly<Omit<PurchaseRequested, 'personId' | 'counterparty'>> & { readonly counterparty: Readonly<Counterparty> };

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
