import { Expose, Transform, Type } from 'class-transformer';
import { IsIn, IsISO31661Alpha2, IsOptional, IsString, IsUUID, Length, Matches, ValidateNested } from 'class-validator';
import { defineEvent } from '../envelope/event-registry';
import { IsOpaqueId } from '../envelope/ids';
import { IsMoney, Money } from '../envelope/money';
import { Topics } from '../topics';
import type { AppName } from '../apps';
import { APPS } from '../apps';

export { APPS };
export type { AppName };

export const PAYMENT_KINDS = ['purchase', 'donation', 'transfer'] as const;
export type PaymentKind = (typeof PAYMENT_KINDS)[number];

/** Automatic: captured with its authorisation. Manual: authorised now, captured (or voided) later by the merchant's backend, e.g. on shipment. */
export const PAYMENT_CAPTURE_METHODS = ['automatic', 'manual'] as const;
export type PaymentCaptureMethod = (typeof PAYMENT_CAPTURE_METHODS)[number];

export const COUNTERPARTY_TYPES = ['merchant', 'non-profit', 'person'] as const;

export class Counterparty {
  /** merchant (purchase), non-profit (donation) or person (transfer). */
  @IsIn(COUNTERPARTY_TYPES)
  type!: (typeof COUNTERPARTY_TYPES)[number];

  @IsOpaqueId()
  id!: string;
}

/**
 * Who pays whom, how much, from which app: what a purchase request asks and what the payment's
 * `initiated` event (payments.events.v1) repeats, one definition for both.
 */
export abstract class PurchaseTerms {
  /** The app's idempotency key: the same id is one payment, however often it is sent. */
  @IsUUID()
  requestId!: string;

  @IsIn(PAYMENT_KINDS)
  kind!: PaymentKind;

  /** The paying person: the same `payerId` on the request and on the payment's events. */
  @IsOpaqueId()
  payerId!: string;

  @ValidateNested()
  @Type(() => Counterparty)
  counterparty!: Counterparty;

  @IsIn(APPS)
  app!: AppName;

  /** Where the person is (ISO 3166-1 alpha-2): the rollout is per country. */
  @IsISO31661Alpha2()
  country!: string;

  @IsMoney()
  amount!: Money;

  /** A saved method of the person (the wallet's id, never card data); when absent from a request, their preferred one. */
  @IsOptional()
  @IsOpaqueId()
  paymentMethodId?: string;

  /** ISO 18245 merchant category code, four digits. */
  @IsOptional()
  @Matches(/^\d{4}$/, { message: 'merchantCategory must be a four-digit ISO 18245 code' })
  merchantCategory?: string;
}

/**
 * An app asks for money to move: a purchase (person to business), a donation (to a
 * registered non-profit) or a transfer (person to person). Published by the apps' services on
 * `payments.purchase-requests.v1` with the envelope's `subject` = `requestId`.
 */
export class PurchaseRequested extends PurchaseTerms {
  /** Read from the deprecated `personId` when absent (validated as PurchaseTerms says). */
  @Expose()
  @Transform(({ value, obj }: { value: unknown; obj: { personId?: unknown } }) => value ?? obj.personId)
  declare payerId: string;

  /**
   * Deprecated: this request's former name of `payerId`, read as `payerId` when that is absent so
   * that producers can move one at a time (docs/adr/0008). New producers send `payerId` only.
   */
  @IsOptional()
  @IsOpaqueId()
  personId?: string;

  /** The wallet's step-up proof (PIN or biometric), needed above the configured amount. */
  @IsOptional()
  @IsString()
  @Length(1, 4_000)
  stepUpProof?: string;

  @IsOptional()
  @IsString()
  @Length(1, 200)
  description?: string;

  /** Absent: automatic. Manual holds the money until `POST /v1/payments/{id}/capture` (or `/void`); not for transfers. */
  @IsOptional()
  @IsIn(PAYMENT_CAPTURE_METHODS)
  captureMethod?: PaymentCaptureMethod;
}

export const PurchaseRequestedV1 = defineEvent({
  type: 'payments.purchase.requested',
  version: 1,
  topic: Topics.purchaseRequests,
  dataClass: PurchaseRequested,
  description: 'An app asks for a purchase, donation or transfer; the platform answers on payments.events.v1.',
});
