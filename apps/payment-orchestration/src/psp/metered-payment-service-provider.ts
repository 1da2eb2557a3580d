import type { Counter, Histogram } from '@opentelemetry/api';
import { meter } from '@pay/observability';
import type * as Psp from './psp.port';

/**
 * What kind of failure a PSP call ended in, for metrics and alerts:
 * - `decline`: the issuer or the provider said no — a business outcome, not an incident;
 * - `network`: no answer (connection refused or reset, timed out): the call may or may not have happened;
 * - `server_error`: the provider answered 5xx;
 * - `rate_limited`: the provider answered 429;
 * - `rejected`: the provider refused the request itself (bad state or parameters, our credentials);
 * - `other`: anything else (a reused idempotency key, a 409 lock conflict, a bug of ours).
 */
export type PspErrorClass = 'decline' | 'network' | 'server_error' | 'rate_limited' | 'rejected' | 'other';

export function pspErrorClass(failure: Psp.PspFailure): PspErrorClass {
  switch (failure.outcome) {
    case 'declined':
      return 'decline';
    case 'retryable':
    case 'unknown': {
      const status = failure.statusCode;
      if (status === undefined) return 'network';
      if (status === 429) return 'rate_limited';
      return status >= 500 ? 'server_error' : 'other';
    }
    case 'rejected':
      return 'rejected';
    case 'idempotency_conflict':
      return 'other';
  }
}

/** PSP round trips: tens of milliseconds to the client's timeout (30 s by default). */
const PSP_SECONDS_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

let instruments: { duration: Histogram; errors: Counter } | undefined;

/** Created on first use: instruments made before the OpenTelemetry SDK starts would stay no-ops. */
function pspInstruments(): NonNullable<typeof instruments> {
  instruments ??= {
    duration: meter().createHistogram('psp.client.request.duration', {
      description: 'PSP call latency, by provider, operation and outcome ("succeeded" or the error class)',
      unit: 's',
      advice: { explicitBucketBoundaries: PSP_SECONDS_BUCKETS },
    }),
    errors: meter().createCounter('psp.client.errors', {
      description: 'PSP calls that did not succeed, by provider, operation and error class (decline is a business outcome; the others are technical)',
    }),
  };
  return instruments;
}

export type PspOperation =
  'create_payment' | 'confirm_payment' | 'capture_payment' | 'cancel_payment' | 'retrieve_payment' | 'refund_payment' | 'retrieve_refund';

/**
 * The PSP port measured: every call's latency and every failure's class, whatever the adapter.
 * Webhook verification is a signature check (a certificate fetch at most), not a payment call: passed through.
 */
export class MeteredPaymentServiceProvider implements Psp.PaymentServiceProvider {
  readonly provider: string;

  constructor(private readonly inner: Psp.PaymentServiceProvider) {
    this.provider = inner.provider;
  }

  createPayment(request: Psp.CreatePaymentRequest): Promise<Psp.PspResult<Psp.PspPayment>> {
    return this.measure('create_payment', () => this.inner.createPayment(request));
  }

  confirmPayment(request: Psp.ConfirmPaymentRequest): Promise<Psp.PspResult<Psp.PspPayment>> {
    return this.measure('confirm_payment', () => this.inner.confirmPayment(request));
  }

  capturePayment(request: Psp.CapturePaymentRequest): Promise<Psp.PspResult<Psp.PspPayment>> {
    return this.measure('capture_payment', () => this.inner.capturePayment(request));
  }

  cancelPayment(request: Psp.CancelPaymentRequest): Promise<Psp.PspResult<Psp.PspPayment>> {
    return this.measure('cancel_payment', () => this.inner.cancelPayment(request));
  }

  retrievePayment(pspPaymentId: string): Promise<Psp.PspResult<Psp.PspPayment>> {
    return this.measure('retrieve_payment', () => this.inner.retrievePayment(pspPaymentId));
  }

  refundPayment(request: Psp.RefundPaymentRequest): Promise<Psp.PspResult<Psp.PspRefund>> {
    return this.measure('refund_payment', () => this.inner.refundPayment(request));
  }

  retrieveRefund(pspRefundId: string): Promise<Psp.PspResult<Psp.PspRefund>> {
    return this.measure('retrieve_refund', () => this.inner.retrieveRefund(pspRefundId));
  }

  verifyWebhook(rawBody: Buffer, headers: Psp.WebhookHeaders): Promise<Psp.PspWebhookEvent> {
    return this.inner.verifyWebhook(rawBody, headers);
  }

  private async measure<T>(operation: PspOperation, call: () => Promise<Psp.PspResult<T>>): Promise<Psp.PspResult<T>> {
    const started = performance.now();
    // An adapter that throws instead of answering with an outcome has a bug: counted as `other`.
    let outcome: 'succeeded' | PspErrorClass = 'other';
    try {
      const result = await call();
      outcome = result.outcome === 'succeeded' ? 'succeeded' : pspErrorClass(result);
      return result;
    } finally {
      const attributes = { provider: this.provider, operation };
      pspInstruments().duration.record((performance.now() - started) / 1000, { ...attributes, outcome });
      if (outcome !== 'succeeded') pspInstruments().errors.add(1, { ...attributes, error_class: outcome });
    }
  }
}
