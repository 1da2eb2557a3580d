import Stripe from 'stripe';
import type { StripeSettings } from './stripe.config';

/**
 * The SDK client. host/port/protocol point it at the simulator or a proxy; the SDK's own retries
 * reuse the idempotency key of the call, so they never duplicate a charge.
 */
export function createStripeClient(settings: StripeSettings): Stripe {
  return new Stripe(settings.secretKey, {
    ...(settings.host === undefined ? {} : { host: settings.host }),
    ...(settings.port === undefined ? {} : { port: settings.port }),
    ...(settings.protocol === undefined ? {} : { protocol: settings.protocol }),
    timeout: settings.timeoutMs,
    maxNetworkRetries: settings.maxNetworkRetries,
    // No request metrics sent to Stripe in headers; the platform has its own telemetry.
    telemetry: false,
    appInfo: { name: 'pay-platform payment-orchestration' },
  });
}
