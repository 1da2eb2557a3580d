import { randomUUID, sign } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { snapshot } from '../simulator-state';
import type { WebhookDeliveryOptions } from '../webhooks/webhook-outbox';
import { WebhookDeliveries } from '../webhooks/webhook-outbox';
import type { PayPalWebhookEvent } from './paypal-objects';
import { PAYPAL_SIMULATOR_PRIVATE_KEY } from './paypal-signing-key';

export interface PayPalWebhookSignature {
  readonly transmissionId: string;
  readonly transmissionTime: string;
  readonly webhookId: string;
  readonly certUrl: string;
  /** The signing key (PEM); the simulator's own by default. */
  readonly privateKey?: string;
}

/**
 * PayPal's webhook signature, written from PayPal's documentation: SHA256withRSA over
 * `<transmission id>|<transmission time>|<webhook id>|<CRC32 of the body, decimal>`, base64, sent
 * with the URL of the certificate whose key verifies it.
 */
export function signPayPalWebhook(body: string, signature: PayPalWebhookSignature): Record<string, string> {
  const message = `${signature.transmissionId}|${signature.transmissionTime}|${signature.webhookId}|${crc32(Buffer.from(body, 'utf8'))}`;
  return {
    'paypal-transmission-id': signature.transmissionId,
    'paypal-transmission-time': signature.transmissionTime,
    'paypal-transmission-sig': sign('sha256', Buffer.from(message, 'utf8'), signature.privateKey ?? PAYPAL_SIMULATOR_PRIVATE_KEY).toString('base64'),
    'paypal-cert-url': signature.certUrl,
    'paypal-auth-algo': 'SHA256withRSA',
  };
}

export interface PayPalWebhookOutboxOptions extends Omit<WebhookDeliveryOptions, 'concurrency'> {
  webhookId: string;
  /** Where the certificate is served (set once the server listens). */
  certUrl: () => string;
}

/**
 * PayPal's webhook deliveries, with the Stripe outbox's policies (PayPal promises neither order
 * nor exactly-once either). One lane: deliveries in order.
 */
export class PayPalWebhookOutbox extends WebhookDeliveries<PayPalWebhookEvent> {
  constructor(private readonly options: PayPalWebhookOutboxOptions) {
    super(options);
  }

  emit(eventType: string, resourceType: PayPalWebhookEvent['resource_type'], resource: object, summary: string): PayPalWebhookEvent {
    return this.record({
      id: `WH-${randomUUID().replace(/-/g, '').slice(0, 17).toUpperCase()}-${randomUUID().replace(/-/g, '').slice(0, 17).toUpperCase()}`,
      event_version: '1.0',
      create_time: new Date().toISOString(),
      resource_type: resourceType,
      resource_version: '2.0',
      event_type: eventType,
      summary,
      resource: snapshot(resource),
      links: [],
    });
  }

  protected describe(event: PayPalWebhookEvent): { id: string; type: string } {
    return { id: event.id, type: event.event_type };
  }

  protected encode(event: PayPalWebhookEvent): string {
    return JSON.stringify(event);
  }

  protected headersFor(payload: string): Record<string, string> {
    return {
      'content-type': 'application/json',
      'user-agent': 'PayPal/AUHD-214.0-58863539',
      // A new transmission (id, time, signature) per attempt, as PayPal does.
      ...signPayPalWebhook(payload, {
        transmissionId: randomUUID(),
        transmissionTime: new Date().toISOString(),
        webhookId: this.options.webhookId,
        certUrl: this.options.certUrl(),
      }),
    };
  }
}
