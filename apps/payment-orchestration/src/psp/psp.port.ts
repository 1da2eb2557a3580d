import type { Money } from '@pay/contracts';
import type { DisputeObservation, PspObservation, RefundObservation } from '@pay/payments-domain';

/**
 * The payment service provider port: what orchestration asks of a PSP (Stripe, PayPal) and what it
 * gets back, in our words. Every mutating call carries the caller's
 * idempotency key, derived from our own ids (e.g. `<paymentId>:authorize`), so that a retry —
 * by the SDK, by us after a timeout, or after a crash — can never charge twice.
 */
export interface PaymentServiceProvider {
  readonly provider: string;
  /** Creates and confirms a payment with a saved method in one call. */
  createPayment(request: CreatePaymentRequest): Promise<PspResult<PspPayment>>;
  /** Confirms a created payment (e.g. after the payer completed 3-D Secure, or with another method). */
  confirmPayment(request: ConfirmPaymentRequest): Promise<PspResult<PspPayment>>;
  /** Captures an authorised payment (manual capture), all or part of it. */
  capturePayment(request: CapturePaymentRequest): Promise<PspResult<PspPayment>>;
  /** Releases an authorisation or abandons a payment before money moved. */
  cancelPayment(request: CancelPaymentRequest): Promise<PspResult<PspPayment>>;
  /** The provider's current view of a payment: how an unknown outcome is resolved. */
  retrievePayment(pspPaymentId: string): Promise<PspResult<PspPayment>>;
  refundPayment(request: RefundPaymentRequest): Promise<PspResult<PspRefund>>;
  /** The provider's current view of a refund (reconciliation of refunds left pending). */
  retrieveRefund(pspRefundId: string): Promise<PspResult<PspRefund>>;
  /**
   * Verifies a webhook's signature over the raw bytes received (with the request's headers, lower
   * case) and reads it. Rejects with WebhookSignatureError for a body not signed by the provider
   * for our endpoint, or too old.
   */
  verifyWebhook(rawBody: Buffer, headers: WebhookHeaders): Promise<PspWebhookEvent>;
}

/** A webhook request's headers, names in lower case (as Node gives them). */
export type WebhookHeaders = Readonly<Record<string, string | string[] | undefined>>;

export interface CreatePaymentRequest {
  readonly idempotencyKey: string;
  /** Our payment id; travels in the provider's metadata so webhooks find the payment. */
  readonly paymentId: string;
  readonly amount: Money;
  /** The provider's token of the saved method (never card data); empty for a bank account given as `bankAccount`. */
  readonly paymentMethod: string;
  /** A saved bank account, debited under the payer's mandate (SEPA Direct Debit, ACH): the provider makes its payment method of it. */
  readonly bankAccount?: BankAccountDebit;
  /** The provider's customer the method is saved on. */
  readonly customer?: string;
  /**
   * The saved method is a bank account the provider holds (its PaymentMethod on `customer`, set up
   * and verified under the payer's mandate, e.g. a US account verified by micro-deposits): debited
   * by that scheme alone.
   */
  readonly savedDebitScheme?: 'sepa_debit' | 'us_bank_account';
  readonly captureMethod: 'automatic' | 'manual';
  /** The payer is not present (a saved method charged by us): no 3-D Secure challenge possible. */
  readonly offSession: boolean;
  readonly description?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** How the payer accepted the debit mandate online: handed to the provider with each debit. */
export interface MandateAcceptance {
  readonly acceptedAt: Date;
  readonly ipAddress: string;
  readonly userAgent: string;
}

/**
 * A bank account to debit: an IBAN by SEPA Direct Debit, a US account by ACH, under the mandate
 * the payer accepted (the wallet recorded it; without one no debit is made).
 */
export type BankAccountDebit = (
  | { readonly scheme: 'sepa_debit'; readonly iban: string; readonly holderName: string }
  | {
      readonly scheme: 'us_bank_account';
      readonly routingNumber: string;
      readonly accountNumber: string;
      readonly accountType: 'checking' | 'savings';
      readonly holderName: string;
    }
) & { readonly mandate: MandateAcceptance };

export interface ConfirmPaymentRequest {
  readonly idempotencyKey: string;
  readonly pspPaymentId: string;
  readonly paymentMethod?: string;
  readonly offSession?: boolean;
}

export interface CapturePaymentRequest {
  readonly idempotencyKey: string;
  readonly pspPaymentId: string;
  /** Less than the authorised amount releases the rest; absent captures it all. */
  readonly amount?: Money;
}

export interface CancelPaymentRequest {
  readonly idempotencyKey: string;
  readonly pspPaymentId: string;
  readonly reason?: 'requested_by_customer' | 'duplicate' | 'fraudulent' | 'abandoned';
}

export interface RefundPaymentRequest {
  readonly idempotencyKey: string;
  readonly pspPaymentId: string;
  /** Our refund id; travels in metadata so the refund's webhooks find it. */
  readonly refundId: string;
  readonly paymentId: string;
  /** Absent refunds whatever is left. */
  readonly amount?: Money;
  readonly reason?: 'requested_by_customer' | 'duplicate' | 'fraudulent';
}

/** A provider payment as we see it; `observation` is what it means for the payment aggregate. */
export interface PspPayment {
  readonly provider: string;
  readonly id: string;
  /** The provider's own status word, for logs and support; decisions use `observation`. */
  readonly providerStatus: string;
  readonly observation: PspObservation;
  /** Its currency ISO-4217, upper case. */
  readonly amount: Money;
  readonly captureMethod: 'automatic' | 'manual';
  /** Our payment id, when the payment was created by us. */
  readonly paymentId?: string;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface PspRefund {
  readonly provider: string;
  readonly id: string;
  readonly pspPaymentId?: string;
  readonly paymentId?: string;
  readonly providerStatus: string;
  readonly observation: RefundObservation;
  readonly currency: string;
}

/**
 * Why a call did not succeed, as orchestration must act on it:
 * - `declined`: a definitive no from the issuer or the provider (never retry the same method);
 * - `retryable`: nothing happened or the provider asks for a retry: retry with the SAME key;
 * - `unknown`: it may or may not have happened (timeout, connection lost after sending): never a
 *   decline; retry with the same key or let reconciliation `retrievePayment` to learn the truth;
 * - `rejected`: the provider refused the request itself (bad state, bad parameters, credentials):
 *   retrying it unchanged will not help;
 * - `idempotency_conflict`: the key was used for another request — a bug on our side.
 */
export type PspFailure =
  | { readonly outcome: 'declined'; readonly code: string; readonly declineCode?: string; readonly adviceCode?: string; readonly payment?: PspPayment }
  | { readonly outcome: 'retryable'; readonly reason: string; readonly statusCode?: number; readonly retryAfterMs?: number }
  /** `statusCode` when the provider did answer (an error it says is final for the key), absent when no answer came. */
  | { readonly outcome: 'unknown'; readonly reason: string; readonly statusCode?: number }
  | { readonly outcome: 'rejected'; readonly code: string; readonly reason: string; readonly statusCode?: number; readonly param?: string }
  | { readonly outcome: 'idempotency_conflict'; readonly reason: string };

export type PspResult<T> = { readonly outcome: 'succeeded'; readonly value: T } | PspFailure;

/** What a webhook is about. */
export type PspWebhookSubject =
  | { readonly kind: 'payment'; readonly payment: PspPayment }
  | { readonly kind: 'refund'; readonly refund: PspRefund }
  /** `paymentId`: our id, when the provider's dispute carries it (PayPal: the disputed transaction's custom id); else found by `pspPaymentId`. */
  | { readonly kind: 'dispute'; readonly pspPaymentId?: string; readonly paymentId?: string; readonly observation: DisputeObservation }
  | { readonly kind: 'other'; readonly objectType: string; readonly objectId?: string };

export interface PspWebhookEvent {
  readonly provider: string;
  /** The provider's event id: the deduplication key of webhook deliveries. */
  readonly id: string;
  readonly type: string;
  readonly createdAt: Date;
  readonly livemode: boolean;
  readonly subject: PspWebhookSubject;
  /** The event as received (parsed JSON), kept for audit and reconciliation. */
  readonly payload: unknown;
}

/** A webhook that is not provably from the provider: wrong or missing signature, another secret, too old. */
export class WebhookSignatureError extends Error {
  readonly code = 'WEBHOOK_SIGNATURE_INVALID';

  constructor(reason: string) {
    super(`webhook signature refused: ${reason}`);
    this.name = 'WebhookSignatureError';
  }
}
