import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, IsUUID, Length, Matches, ValidateNested } from 'class-validator';
import type { EventDefinition } from '../envelope/event-registry';
import { defineEvent } from '../envelope/event-registry';
import { IsOpaqueId } from '../envelope/ids';
import { IsMoney, Money } from '../envelope/money';
import { Topics } from '../topics';
import { APPS, Counterparty, PAYMENT_CAPTURE_METHODS, PAYMENT_KINDS, PurchaseTerms } from './purchase-requested';
import type { AppName, PaymentKind } from './purchase-requested';

/**
 * `payments.events.v1`: every state change of a payment aggregate, in its stream order (the
 * envelope's `subject` is the payment id, `sequence` its position). Amounts are minor units as
 * strings in the payment's currency. Codes and ids only: no provider free text, no card data.
 *
 * Events after which money moves in the ledger (captured, refunded, dispute lost) carry who pays
 * whom, so the wallet can post them without keeping a copy of the payment.
 */

const CODE = /^[a-z][a-z0-9_]{0,63}$/;
const CODE_MESSAGE = (field: string) => ({ message: `${field} must be a code of lower-case letters, digits and "_", e.g. card_declined` });

export const PAYMENT_CANCELLATION_REASONS = ['requested', 'authorization_expired', 'abandoned', 'duplicate', 'fraudulent', 'failed_checks', 'psp'] as const;
export const PAYMENT_REFUND_REASONS = ['requested_by_customer', 'duplicate', 'fraudulent', 'psp'] as const;

abstract class PaymentEventData {
  @IsOpaqueId()
  paymentId!: string;
}

/** Who pays whom: carried by the events after which money moves. */
abstract class MoneyMovementData extends PaymentEventData {
  @IsIn(PAYMENT_KINDS)
  kind!: PaymentKind;

  @IsOpaqueId()
  payerId!: string;

  @ValidateNested()
  @Type(() => Counterparty)
  counterparty!: Counterparty;

  /** The provider holding the money (`stripe`, `paypal`, `wallet`) and its reference (PaymentIntent, PayPal order, reservation). */
  @Matches(CODE, CODE_MESSAGE('provider'))
  provider!: string;

  @IsOpaqueId()
  reference!: string;

  @IsMoney()
  amount!: Money;
}

/** A payment was accepted: the request's terms (PurchaseTerms), its payment id and how it is captured. */
export class PaymentInitiatedData extends PurchaseTerms {
  @IsOpaqueId()
  paymentId!: string;

  @IsIn(PAYMENT_CAPTURE_METHODS)
  captureMethod!: (typeof PAYMENT_CAPTURE_METHODS)[number];
}

export class PaymentActionRequiredData extends PaymentEventData {
  @Matches(CODE, CODE_MESSAGE('provider'))
  provider!: string;

  @IsOpaqueId()
  reference!: string;
}

export class PaymentAuthorizedData extends PaymentEventData {
  @IsMoney()
  amount!: Money;

  @Matches(CODE, CODE_MESSAGE('provider'))
  provider!: string;

  @IsOpaqueId()
  reference!: string;
}

/**
 * A bank debit (SEPA Direct Debit, ACH) was sent to the payer's bank: the money is owed, not
 * received. The ledger posts it to the pending layer; `captured` settles it, `failed` reverses it.
 */
export class PaymentProcessingData extends MoneyMovementData {}

/** Money moved from the payer: the ledger posts it (PSP clearing, counterparty payable, fee). */
export class PaymentCapturedData extends MoneyMovementData {
  /** What was held; when more than `amount`, the rest was released to the payer. */
  @IsMoney()
  authorizedAmount!: Money;
}

export class PaymentFailedData extends PaymentEventData {
  /** Why, as a code (payment-failure-codes.ts lists those history shows by name); never provider free text. */
  @Matches(CODE, CODE_MESSAGE('code'))
  code!: string;

  @IsOptional()
  @Matches(CODE, CODE_MESSAGE('declineCode'))
  declineCode?: string;
}

export class PaymentCanceledData extends PaymentEventData {
  @IsIn(PAYMENT_CANCELLATION_REASONS)
  reason!: (typeof PAYMENT_CANCELLATION_REASONS)[number];
}

export class PaymentRefundRequestedData extends PaymentEventData {
  @IsOpaqueId()
  refundId!: string;

  @IsMoney()
  amount!: Money;

  @IsIn(PAYMENT_REFUND_REASONS)
  reason!: (typeof PAYMENT_REFUND_REASONS)[number];
}

/** A refund settled: the ledger reverses `amount` of the capture. */
export class PaymentRefundedData extends MoneyMovementData {
  @IsOpaqueId()
  refundId!: string;

  /** All refunds of the payment so far, this one included. */
  @IsMoney()
  refundedTotal!: Money;

  /** Whether the payment is now refunded in full. */
  @IsBoolean()
  full!: boolean;
}

export class PaymentRefundFailedData extends PaymentEventData {
  @IsOpaqueId()
  refundId!: string;

  @Matches(CODE, CODE_MESSAGE('reason'))
  reason!: string;
}

export class PaymentDisputeOpenedData extends PaymentEventData {
  @IsOpaqueId()
  disputeId!: string;

  @IsMoney()
  amount!: Money;

  @Matches(CODE, CODE_MESSAGE('reason'))
  reason!: string;
}

export class PaymentDisputeWonData extends PaymentEventData {
  @IsOpaqueId()
  disputeId!: string;

  @IsMoney()
  amount!: Money;
}

/** A chargeback is final: the ledger reverses the disputed amount. */
export class PaymentDisputeLostData extends MoneyMovementData {
  @IsOpaqueId()
  disputeId!: string;
}

/**
 * Why a purchase request was refused before any money moved (`payments.payment.rejected`, and the
 * `code` of the HTTP door's 4xx answer). Stable: apps branch on them.
 */
export const PAYMENT_REJECTION_CODES = [
  'IDEMPOTENCY_KEY_REUSED',
  'COUNTERPARTY_NOT_ALLOWED',
  'SELF_TRANSFER',
  'PAY_NOT_AVAILABLE_IN_COUNTRY',
  'PAY_NOT_AVAILABLE_IN_APP',
  'CURRENCY_NOT_SUPPORTED',
  'AMOUNT_BELOW_MINIMUM',
  'AMOUNT_ABOVE_MAXIMUM',
  'WALLET_NOT_FOUND',
  'PAY_NOT_ACTIVE_IN_APP',
  'NON_PROFIT_NOT_REGISTERED',
  'RECIPIENT_NOT_FOUND',
  'PAYMENT_METHOD_NOT_ACCEPTED',
  'NO_PREFERRED_METHOD',
  'PAYMENT_METHOD_NOT_FOUND',
  'PAYMENT_METHOD_REMOVED',
  'STEP_UP_REQUIRED',
  'STEP_UP_PROOF_INVALID',
  'STEP_UP_PROOF_EXPIRED',
  'STEP_UP_PROOF_ALREADY_USED',
  'STEP_UP_AMOUNT_ABOVE_CEILING',
  'RATE_LIMITED',
  'CAPTURE_METHOD_NOT_SUPPORTED',
] as const;
export type PaymentRejectionCode = (typeof PAYMENT_REJECTION_CODES)[number];

/**
 * A purchase request was refused by the checks before a payment existed: nothing was charged,
 * reserved or posted. The envelope's `subject` is the request id (there is no payment), its
 * causationId the request's envelope id when it came from Kafka.
 */
export class PaymentRejectedData {
  @IsUUID()
  requestId!: string;

  @IsIn(PAYMENT_REJECTION_CODES)
  code!: PaymentRejectionCode;

  /** For people: what was wrong and what is accepted. Never personal data. */
  @IsString()
  @Length(1, 300)
  message!: string;

  @IsIn(PAYMENT_KINDS)
  kind!: PaymentKind;

  @IsOpaqueId()
  payerId!: string;

  @IsIn(APPS)
  app!: AppName;

  @IsMoney()
  amount!: Money;
}

const payments = <T extends object>(type: string, dataClass: new () => T, description: string): EventDefinition<T> =>
  defineEvent({ type: `payments.payment.${type}`, version: 1, topic: Topics.paymentEvents, dataClass, description });

export const PaymentInitiatedV1 = payments(
  'initiated',
  PaymentInitiatedData,
  'A payment was accepted for processing: who pays whom, how much, from which app.',
);
export const PaymentActionRequiredV1 = payments(
  'action-required',
  PaymentActionRequiredData,
  'The provider needs the payer (3-D Secure) before it can authorise.',
);
export const PaymentAuthorizedV1 = payments('authorized', PaymentAuthorizedData, 'Funds are held for the payment (card authorisation or wallet reservation).');
export const PaymentProcessingV1 = payments(
  'processing',
  PaymentProcessingData,
  "A bank debit is on its way to the payer's bank (days); the ledger posts it as pending until it settles (captured) or fails late (failed).",
);
export const PaymentCapturedV1 = payments('captured', PaymentCapturedData, 'Money moved from the payer; the ledger posts it.');
export const PaymentFailedV1 = payments(
  'failed',
  PaymentFailedData,
  "The provider refused the payment (decline, failed authentication), the wallet refused its method, or a bank debit failed late: then `code` is the payer's bank's answer (BANK_DEBIT_FAILURE_CODES: account_closed, no_account, debit_not_authorized… mark the account unusable; insufficient_funds does not).",
);
export const PaymentCanceledV1 = payments('canceled', PaymentCanceledData, 'The payment stopped before money moved; an authorisation was released.');
export const PaymentRefundRequestedV1 = payments('refund-requested', PaymentRefundRequestedData, 'A full or partial refund was asked of the provider.');
export const PaymentRefundedV1 = payments('refunded', PaymentRefundedData, 'A refund settled; the ledger reverses its amount.');
export const PaymentRefundFailedV1 = payments('refund-failed', PaymentRefundFailedData, 'A requested refund did not happen; its amount is refundable again.');
export const PaymentDisputeOpenedV1 = payments(
  'dispute-opened',
  PaymentDisputeOpenedData,
  "The payer's bank disputes the charge; the disputed amount is withheld.",
);
export const PaymentDisputeWonV1 = payments('dispute-won', PaymentDisputeWonData, 'The dispute was decided for the merchant; the withheld amount returns.');
export const PaymentDisputeLostV1 = payments('dispute-lost', PaymentDisputeLostData, 'The chargeback is final; the ledger reverses the disputed amount.');
export const PaymentRejectedV1 = payments(
  'rejected',
  PaymentRejectedData,
  'A purchase request was refused by the checks before any money moved; subject = request id.',
);

/** Every payments.events.v1 definition, for consumers that subscribe to all of them. */
export const PAYMENT_EVENTS: readonly EventDefinition[] = [
  PaymentInitiatedV1,
  PaymentActionRequiredV1,
  PaymentAuthorizedV1,
  PaymentProcessingV1,
  PaymentCapturedV1,
  PaymentFailedV1,
  PaymentCanceledV1,
  PaymentRefundRequestedV1,
  PaymentRefundedV1,
  PaymentRefundFailedV1,
  PaymentDisputeOpenedV1,
  PaymentDisputeWonV1,
  PaymentDisputeLostV1,
  PaymentRejectedV1,
];
