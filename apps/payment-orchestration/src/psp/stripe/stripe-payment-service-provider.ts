import { toMinorUnits } from '@pay/contracts';
import Stripe from 'stripe';
import type * as Psp from '../psp.port';
import { WebhookSignatureError } from '../psp.port';
import { AmountOutOfRangeError, toStripeAmount } from './stripe-amounts';
import { toPspFailure } from './stripe-error-mapping';
import { METADATA_PAYMENT_ID, METADATA_REFUND_ID, toPspPayment, toPspRefund, toWebhookSubject } from './stripe-objects';
import { STRIPE_PROVIDER } from './stripe-status';

const LIVE_KEY = /^(sk|rk)_live_/;

/** Stripe accepts idempotency keys of up to 255 characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export interface StripeWebhookSettings {
  /** The API key's mode (`sk_live_`/`rk_live_` or test) is the mode every webhook must be in. */
  readonly secretKey: string;
  readonly webhookSecret: string;
  readonly webhookToleranceSeconds: number;
}

const rejectedInput = (code: string, reason: string): Psp.PspFailure => ({ outcome: 'rejected', code, reason });

/**
 * How a saved card is named to Stripe: a PaymentMethod, card or source id as `payment_method`; a
 * token (`tok_…`, Stripe's test tokens included) only as the card of `payment_method_data`, from
 * which Stripe makes the PaymentMethod it charges (it answers `No such PaymentMethod` to a token
 * given as `payment_method`). The SDK's typings omit `payment_method_data[card][token]`.
 */
export function paymentMethodParams(paymentMethod: string | undefined): {
  payment_method?: string;
  payment_method_data?: Stripe.PaymentIntentCreateParams.PaymentMethodData;
} {
  if (paymentMethod === undefined) return {};
  if (!paymentMethod.startsWith('tok_')) return { payment_method: paymentMethod };
  return { payment_method_data: { type: 'card', card: { token: paymentMethod } } as Stripe.PaymentIntentCreateParams.PaymentMethodData };
}

/**
 * How a saved bank account is debited: a PaymentIntent that takes only that debit type
 * (`allowed_payment_method_types`: `sepa_debit` or `us_bank_account`), the account as `payment_method_data` (Stripe makes the
 * PaymentMethod), and the mandate the payer gave when saving it: `online` with when, the IP
 * address and user agent the wallet recorded (an off-session debit needs one; there is no debit
 * without it). Such a PaymentIntent is `processing` for days.
 */
export function bankDebitParams(
  account: Psp.BankAccountDebit,
): Pick<Stripe.PaymentIntentCreateParams, 'allowed_payment_method_types' | 'payment_method_data' | 'mandate_data'> {
  const billing_details = { name: account.holderName };
  const payment_method_data: Stripe.PaymentIntentCreateParams.PaymentMethodData =
    account.scheme === 'sepa_debit'
      ? { type: 'sepa_debit', sepa_debit: { iban: account.iban }, billing_details }
      : {
          type: 'us_bank_account',
          us_bank_account: {
            routing_number: account.routingNumber,
            account_number: account.accountNumber,
            account_type: account.accountType,
            account_holder_type: 'individual',
          },
          billing_details,
        };
  const customer_acceptance: Stripe.PaymentIntentCreateParams.MandateData.CustomerAcceptance = {
    type: 'online',
    accepted_at: Math.floor(account.mandate.acceptedAt.getTime() / 1000),
    online: { ip_address: account.mandate.ipAddress, user_agent: account.mandate.userAgent },
  };
  return { allowed_payment_method_types: [account.scheme], payment_method_data, mandate_data: { customer_acceptance } };
}

/**
 * The PSP port on Stripe's PaymentIntents and Refunds, through the official SDK. Every mutating
 * call sends the caller's idempotency key (`idempotencyKey` request option); the SDK reuses it for
 * its own retries, and Stripe answers a repeated key with the first answer.
 */
export class StripePaymentServiceProvider implements Psp.PaymentServiceProvider {
  readonly provider = STRIPE_PROVIDER;

  constructor(
    private readonly stripe: Stripe,
    private readonly webhooks: StripeWebhookSettings,
  ) {}

  createPayment(request: Psp.CreatePaymentRequest): Promise<Psp.PspResult<Psp.PspPayment>> {
    // A bank debit is not held and captured later: Stripe offers manual capture for cards only.
    if ((request.bankAccount || request.savedDebitScheme) && request.captureMethod === 'manual') {
      return Promise.resolve({
        outcome: 'rejected',
        code: 'capture_method_not_supported',
        reason: 'a bank debit (SEPA, ACH) is captured at once; manual capture is for cards and PayPal accounts',
      });
    }
    return this.mutate(request.idempotencyKey, async (options) => {
      const intent = await this.stripe.paymentIntents.create(
        {
          amount: toStripeAmount(toMinorUnits(request.amount)),
          currency: request.amount.currency.toLowerCase(),
          ...(request.bankAccount
            ? bankDebitParams(request.bankAccount)
            : request.savedDebitScheme
              ? // The PaymentMethod and its mandate were set up (and verified) on the customer: Stripe debits under that mandate.
                { payment_method: request.paymentMethod, allowed_payment_method_types: [request.savedDebitScheme] }
              : {
                  ...paymentMethodParams(request.paymentMethod),
                  // Saved cards authenticate in place (3-D Secure through the SDK), never by a redirect we could not follow.
                  automatic_payment_methods: { enabled: true, allow_redirects: 'never' as const },
                }),
          ...(request.customer ? { customer: request.customer } : {}),
          confirm: true,
          capture_method: request.captureMethod,
          ...(request.offSession ? { off_session: true } : {}),
          ...(request.description ? { description: request.description } : {}),
          metadata: { ...request.metadata, [METADATA_PAYMENT_ID]: request.paymentId },
        },
        options,
      );
      return toPspPayment(intent);
    });
  }

  confirmPayment(request: Psp.ConfirmPaymentRequest): Promise<Psp.PspResult<Psp.PspPayment>> {
    return this.mutate(request.idempotencyKey, async (options) =>
      toPspPayment(
        await this.stripe.paymentIntents.confirm(
          request.pspPaymentId,
          { ...paymentMethodParams(request.paymentMethod || undefined), ...(request.offSession ? { off_session: true } : {}) },
          options,
        ),
      ),
    );
  }

  capturePayment(request: Psp.CapturePaymentRequest): Promise<Psp.PspResult<Psp.PspPayment>> {
    return this.mutate(request.idempotencyKey, async (options) =>
      toPspPayment(
        await this.stripe.paymentIntents.capture(
          request.pspPaymentId,
          request.amount === undefined ? {} : { amount_to_capture: toStripeAmount(toMinorUnits(request.amount)) },
          options,
        ),
      ),
    );
  }

  cancelPayment(request: Psp.CancelPaymentRequest): Promise<Psp.PspResult<Psp.PspPayment>> {
    return this.mutate(request.idempotencyKey, async (options) =>
      toPspPayment(await this.stripe.paymentIntents.cancel(request.pspPaymentId, request.reason ? { cancellation_reason: request.reason } : {}, options)),
    );
  }

  async retrievePayment(pspPaymentId: string): Promise<Psp.PspResult<Psp.PspPayment>> {
    try {
      return { outcome: 'succeeded', value: toPspPayment(await this.stripe.paymentIntents.retrieve(pspPaymentId)) };
    } catch (error) {
      return toPspFailure(error);
    }
  }

  async retrieveRefund(pspRefundId: string): Promise<Psp.PspResult<Psp.PspRefund>> {
    try {
      return { outcome: 'succeeded', value: toPspRefund(await this.stripe.refunds.retrieve(pspRefundId)) };
    } catch (error) {
      return toPspFailure(error);
    }
  }

  refundPayment(request: Psp.RefundPaymentRequest): Promise<Psp.PspResult<Psp.PspRefund>> {
    return this.mutate(request.idempotencyKey, async (options) =>
      toPspRefund(
        await this.stripe.refunds.create(
          {
            payment_intent: request.pspPaymentId,
            ...(request.amount === undefined ? {} : { amount: toStripeAmount(toMinorUnits(request.amount)) }),
            ...(request.reason ? { reason: request.reason } : {}),
            metadata: { [METADATA_PAYMENT_ID]: request.paymentId, [METADATA_REFUND_ID]: request.refundId },
          },
          options,
        ),
      ),
    );
  }

  /** The port's webhook check: Stripe signs with the one `Stripe-Signature` header. */
  async verifyWebhook(rawBody: Buffer, headers: Psp.WebhookHeaders): Promise<Psp.PspWebhookEvent> {
    const signature = headers['stripe-signature'];
    return this.parseWebhook(rawBody, Array.isArray(signature) ? signature[0] : signature);
  }

  parseWebhook(rawBody: Buffer, signatureHeader: string | undefined): Psp.PspWebhookEvent {
    if (!signatureHeader) throw new WebhookSignatureError('no Stripe-Signature header');
    let event: Stripe.Event;
    try {
      // Verified over the exact bytes received: re-serialised JSON would not match the signature.
      event = this.stripe.webhooks.constructEvent(rawBody, signatureHeader, this.webhooks.webhookSecret, this.webhooks.webhookToleranceSeconds);
    } catch (error) {
      if (error instanceof Stripe.errors.StripeSignatureVerificationError) throw new WebhookSignatureError(error.message);
      // A malformed header or body makes the SDK throw plain errors; none of them is a valid webhook.
      throw new WebhookSignatureError(`unreadable webhook: ${(error as Error).message}`);
    }
    // A test-mode event never moves live money, nor a live event test state: whatever its signature.
    const live = LIVE_KEY.test(this.webhooks.secretKey);
    if (event.livemode !== live)
      throw new WebhookSignatureError(`a ${event.livemode ? 'live' : 'test'}-mode event at a ${live ? 'live' : 'test'}-mode endpoint`);
    return {
      provider: STRIPE_PROVIDER,
      id: event.id,
      type: event.type,
      createdAt: new Date(event.created * 1000),
      livemode: event.livemode,
      subject: toWebhookSubject(event.data.object),
      payload: event,
    };
  }

  /** Runs a mutating call with the caller's idempotency key, turning every SDK failure into a PSP outcome. */
  private async mutate<T>(idempotencyKey: string, call: (options: Stripe.RequestOptions) => Promise<T>): Promise<Psp.PspResult<T>> {
    if (!IDEMPOTENCY_KEY.test(idempotencyKey))
      return rejectedInput('invalid_idempotency_key', 'the idempotency key must be 1 to 255 printable ASCII characters');
    try {
      return { outcome: 'succeeded', value: await call({ idempotencyKey }) };
    } catch (error) {
      if (error instanceof AmountOutOfRangeError) return rejectedInput('amount_out_of_range', error.message);
      return toPspFailure(error);
    }
  }
}
