import type { ApiResponse, Client } from '@paypal/paypal-server-sdk';
import {
  ApiError,
  CheckoutPaymentIntent,
  OrdersController,
  OrderStatus,
  PaymentInitiator,
  PaymentsController,
  StoredPaymentSourceUsageType,
  UsagePattern,
} from '@paypal/paypal-server-sdk';
import type * as Psp from '../psp.port';
import { WebhookSignatureError } from '../psp.port';
import { PayPalAmountError, toPayPalAmount } from './paypal-amounts';
import type { PayPalTokenCache } from './paypal-client';
import { toPayPalFailure } from './paypal-error-mapping';
import { orderToPspPayment, refundCustomId, refundToPspRefund, webhookSubjectOf } from './paypal-objects';
import { PAYPAL_PROVIDER } from './paypal-status';
import type { PayPalWebhookVerifier } from './paypal-webhook-verifier';

/** PayPal accepts PayPal-Request-Id values of up to 108 characters. */
const REQUEST_ID = /^[\x21-\x7e]{1,100}$/;
const REPRESENTATION = 'return=representation';

const rejectedInput = (code: string, reason: string): Psp.PspFailure => ({ outcome: 'rejected', code, reason });

function invalidToken(error: unknown): boolean {
  if (!(error instanceof ApiError) || error.statusCode !== 401) return false;
  const body = typeof error.body === 'string' ? error.body : '';
  return body.includes('invalid_token');
}

/**
 * The PSP port on PayPal's Orders v2 and Payments v2, through the official SDK
 * (`@paypal/paypal-server-sdk`). A payment is an order paid by the person's vaulted PayPal account
 * (`payment_source.paypal.vault_id`, merchant-initiated): PayPal captures it in the create call
 * (a single-step order), or, when the order comes back APPROVED, we capture it. Every POST sends
 * a PayPal-Request-Id derived from the caller's idempotency key (the create: the key itself; its
 * capture: `<key>:capture`), so a retry by the SDK, by us after a timeout, or after a crash gets
 * PayPal's first answer and never pays twice. The order id is the payment's reference.
 * Manual capture is an order with intent AUTHORIZE (authorised in the create call, or by
 * `<key>:authorize` when it comes back APPROVED); its authorisation is captured (all or part, one
 * final capture) or voided later, each with the caller's key.
 */
export class PayPalPaymentServiceProvider implements Psp.PaymentServiceProvider {
  readonly provider = PAYPAL_PROVIDER;
  private readonly orders: OrdersController;
  private readonly payments: PaymentsController;

  constructor(
    client: Client,
    private readonly tokens: PayPalTokenCache,
    private readonly verifier: PayPalWebhookVerifier,
    private readonly live: boolean,
  ) {
    this.orders = new OrdersController(client);
    this.payments = new PaymentsController(client);
  }

  createPayment(request: Psp.CreatePaymentRequest): Promise<Psp.PspResult<Psp.PspPayment>> {
    if (!request.paymentMethod)
      return Promise.resolve(rejectedInput('payment_method_missing', "a PayPal payment needs the vault id of the payer's PayPal account"));
    return this.mutate(request.idempotencyKey, async () => {
      const created = await this.call(() =>
        this.orders.createOrder({
          paypalRequestId: request.idempotencyKey,
          prefer: REPRESENTATION,
          body: {
            intent: request.captureMethod === 'manual' ? CheckoutPaymentIntent.Authorize : CheckoutPaymentIntent.Capture,
            purchaseUnits: [
              {
                referenceId: 'default',
                customId: request.paymentId,
                amount: toPayPalAmount(request.amount),
                ...(request.description ? { description: request.description.slice(0, 127) } : {}),
              },
            ],
            paymentSource: {
              paypal: {
                vaultId: request.paymentMethod,
                // We charge a saved account with the person away: a merchant-initiated, unscheduled payment.
                storedCredential: {
                  paymentInitiator: PaymentInitiator.Merchant,
                  usage: StoredPaymentSourceUsageType.Subsequent,
                  usagePattern: UsagePattern.UnscheduledPostpaid,
                },
              },
            },
          },
        }),
      );
      if (created.status !== OrderStatus.Approved || !created.id) return orderToPspPayment(created);
      const orderId = created.id;
      if (request.captureMethod === 'manual') {
        return orderToPspPayment(
          await this.call(() => this.orders.authorizeOrder({ id: orderId, paypalRequestId: `${request.idempotencyKey}:authorize`, prefer: REPRESENTATION })),
        );
      }
      return orderToPspPayment(
        await this.call(() => this.orders.captureOrder({ id: orderId, paypalRequestId: `${request.idempotencyKey}:capture`, prefer: REPRESENTATION })),
      );
    });
  }

  confirmPayment(_request: Psp.ConfirmPaymentRequest): Promise<Psp.PspResult<Psp.PspPayment>> {
    return Promise.resolve(rejectedInput('not_supported', 'a PayPal order paid with a vaulted account has no confirmation step'));
  }

  /**
   * Captures an order's authorisation (intent AUTHORIZE: all or `amount` of it, as the final
   * capture), or an APPROVED order with intent CAPTURE (the whole amount: one capture per order).
   */
  capturePayment(request: Psp.CapturePaymentRequest): Promise<Psp.PspResult<Psp.PspPayment>> {
    return this.mutate(request.idempotencyKey, async () => {
      const authorizationId = await this.authorizationOf(request.pspPaymentId);
      if (authorizationId === undefined) {
        if (request.amount !== undefined) throw new NotSupportedError('partial_capture_not_supported', 'an order with intent CAPTURE is captured whole');
        return orderToPspPayment(
          await this.call(() => this.orders.captureOrder({ id: request.pspPaymentId, paypalRequestId: request.idempotencyKey, prefer: REPRESENTATION })),
        );
      }
      await this.call(() =>
        this.payments.captureAuthorizedPayment({
          authorizationId,
          paypalRequestId: request.idempotencyKey,
          prefer: REPRESENTATION,
          body: { ...(request.amount === undefined ? {} : { amount: toPayPalAmount(request.amount) }), finalCapture: true },
        }),
      );
      return orderToPspPayment(await this.call(() => this.orders.getOrder({ id: request.pspPaymentId })));
    });
  }

  /** Voids an order's authorisation (intent AUTHORIZE); an order with intent CAPTURE is never held, so there is nothing to void. */
  cancelPayment(request: Psp.CancelPaymentRequest): Promise<Psp.PspResult<Psp.PspPayment>> {
    return this.mutate(request.idempotencyKey, async () => {
      const authorizationId = await this.authorizationOf(request.pspPaymentId);
      if (authorizationId === undefined) throw new NotSupportedError('not_supported', 'an uncaptured PayPal order expires by itself; nothing to cancel');
      await this.call(() => this.payments.voidPayment({ authorizationId, paypalRequestId: request.idempotencyKey, prefer: REPRESENTATION }));
      return orderToPspPayment(await this.call(() => this.orders.getOrder({ id: request.pspPaymentId })));
    });
  }

  /** The id of the order's authorisation, when it was created with intent AUTHORIZE and authorised. */
  private async authorizationOf(orderId: string): Promise<string | undefined> {
    const order = await this.call(() => this.orders.getOrder({ id: orderId }));
    return order.purchaseUnits?.[0]?.payments?.authorizations?.[0]?.id;
  }

  async retrievePayment(pspPaymentId: string): Promise<Psp.PspResult<Psp.PspPayment>> {
    try {
      return { outcome: 'succeeded', value: orderToPspPayment(await this.call(() => this.orders.getOrder({ id: pspPaymentId }))) };
    } catch (error) {
      return toPayPalFailure(error);
    }
  }

  async retrieveRefund(pspRefundId: string): Promise<Psp.PspResult<Psp.PspRefund>> {
    try {
      return { outcome: 'succeeded', value: refundToPspRefund(await this.call(() => this.payments.getRefund({ refundId: pspRefundId }))) };
    } catch (error) {
      return toPayPalFailure(error);
    }
  }

  /** Refunds the order's capture (all that is left, or `amount`); our ids travel in the refund's custom_id. */
  refundPayment(request: Psp.RefundPaymentRequest): Promise<Psp.PspResult<Psp.PspRefund>> {
    return this.mutate(request.idempotencyKey, async () => {
      const order = await this.call(() => this.orders.getOrder({ id: request.pspPaymentId }));
      const capture = order.purchaseUnits?.[0]?.payments?.captures?.[0];
      if (!capture?.id) throw new NotCapturedError();
      const captureId = capture.id;
      const refund = await this.call(() =>
        this.payments.refundCapturedPayment({
          captureId,
          paypalRequestId: request.idempotencyKey,
          prefer: REPRESENTATION,
          body: {
            ...(request.amount === undefined ? {} : { amount: toPayPalAmount(request.amount) }),
            customId: refundCustomId(request.paymentId, request.refundId),
          },
        }),
      );
      return refundToPspRefund(refund, request.pspPaymentId);
    });
  }

  async verifyWebhook(rawBody: Buffer, headers: Psp.WebhookHeaders): Promise<Psp.PspWebhookEvent> {
    await this.verifier.verify(rawBody, headers);
    let event: { id?: unknown; event_type?: unknown; create_time?: unknown; resource_type?: unknown; resource?: unknown };
    try {
      event = JSON.parse(rawBody.toString('utf8')) as typeof event;
    } catch {
      throw new WebhookSignatureError('unreadable webhook: the signed body is not JSON');
    }
    if (typeof event.id !== 'string' || typeof event.event_type !== 'string' || typeof event.resource_type !== 'string')
      throw new WebhookSignatureError('unreadable webhook: no id, event_type or resource_type');
    let subject;
    try {
      subject = webhookSubjectOf(event.resource_type, event.resource);
    } catch (error) {
      if (error instanceof PayPalAmountError) throw new WebhookSignatureError(`unreadable webhook: ${error.message}`);
      throw error;
    }
    const created = typeof event.create_time === 'string' ? new Date(event.create_time) : new Date(Number.NaN);
    return {
      provider: PAYPAL_PROVIDER,
      id: event.id,
      type: event.event_type,
      createdAt: Number.isNaN(created.getTime()) ? new Date() : created,
      livemode: this.live,
      subject,
      payload: event,
    };
  }

  /** One SDK call; a token PayPal no longer takes (revoked before its expiry) is dropped and the call made once more with a new one. */
  private async call<T>(run: () => Promise<ApiResponse<T>>): Promise<T> {
    try {
      return (await run()).result;
    } catch (error) {
      if (!invalidToken(error) || !this.tokens.current) throw error;
      this.tokens.current.expiry = 0n;
      return (await run()).result;
    }
  }

  private async mutate<T>(idempotencyKey: string, work: () => Promise<T>): Promise<Psp.PspResult<T>> {
    if (!REQUEST_ID.test(idempotencyKey)) return rejectedInput('invalid_idempotency_key', 'the idempotency key must be 1 to 100 printable ASCII characters');
    try {
      return { outcome: 'succeeded', value: await work() };
    } catch (error) {
      if (error instanceof PayPalAmountError) return rejectedInput('amount_out_of_range', error.message);
      if (error instanceof NotCapturedError) return rejectedInput('not_captured', error.message);
      if (error instanceof NotSupportedError) return rejectedInput(error.code, error.message);
      return toPayPalFailure(error);
    }
  }
}

class NotSupportedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

class NotCapturedError extends Error {
  constructor() {
    super('the PayPal order has no capture to refund');
  }
}
