import { randomUUID, sign } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { snapshot } from '../simulator-state';
import type { WebhookDelivery, WebhookPolicy } from '../webhooks/webhook-outbox';
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

export interface PayPalWebhookOutboxOptions {
  url?: string;
  webhookId: string;
  /** Where the certificate is served (set once the server listens). */
  certUrl: () => string;
  retries: number;
  retryDelayMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * PayPal's webhook deliveries, with the Stripe outbox's policies: `immediate` (in order, after
 * `delayMs`, twice with `duplicate`) or `hold` until `release` (fifo or reverse, duplicated or
 * not). PayPal promises neither order nor exactly-once either. One lane: deliveries in order.
 */
export class PayPalWebhookOutbox {
  readonly events: PayPalWebhookEvent[] = [];
  readonly deliveries: WebhookDelivery[] = [];
  private policy: WebhookPolicy = { mode: 'immediate', duplicate: false, delayMs: 0 };
  private held: PayPalWebhookEvent[] = [];
  private lane: Promise<void> = Promise.resolve();
  private pending = 0;
  private closed = false;

  constructor(private readonly options: PayPalWebhookOutboxOptions) {}

  setPolicy(policy: Partial<WebhookPolicy>): WebhookPolicy {
    this.policy = { ...this.policy, ...policy };
    return this.policy;
  }

  setUrl(url: string | undefined): void {
    this.options.url = url;
  }

  emit(eventType: string, resourceType: PayPalWebhookEvent['resource_type'], resource: object, summary: string): PayPalWebhookEvent {
    const event: PayPalWebhookEvent = {
      id: `WH-${randomUUID().replace(/-/g, '').slice(0, 17).toUpperCase()}-${randomUUID().replace(/-/g, '').slice(0, 17).toUpperCase()}`,
      event_version: '1.0',
      create_time: new Date().toISOString(),
      resource_type: resourceType,
      resource_version: '2.0',
      event_type: eventType,
      summary,
      resource: snapshot(resource),
      links: [],
    };
    this.events.push(event);
    if (this.policy.mode === 'hold') this.held.push(event);
    else this.enqueue([event], this.policy.duplicate, this.policy.delayMs);
    return event;
  }

  async release(options: { order?: 'fifo' | 'reverse'; duplicate?: boolean } = {}): Promise<PayPalWebhookEvent[]> {
    const events = options.order === 'reverse' ? [...this.held].reverse() : [...this.held];
    this.held = [];
    this.enqueue(events, options.duplicate ?? false, 0);
    await this.idle();
    return events;
  }

  async resend(eventId: string): Promise<void> {
    const event = this.events.find((candidate) => candidate.id === eventId);
    if (!event) throw new RangeError(`no PayPal event ${eventId}`);
    this.enqueue([event], false, 0);
    await this.idle();
  }

  heldEvents(): readonly PayPalWebhookEvent[] {
    return this.held;
  }

  async idle(): Promise<void> {
    while (this.pending > 0) await this.lane;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }

  reset(): void {
    this.events.length = 0;
    this.deliveries.length = 0;
    this.held = [];
    this.policy = { mode: 'immediate', duplicate: false, delayMs: 0 };
  }

  private enqueue(events: readonly PayPalWebhookEvent[], duplicate: boolean, delayMs: number): void {
    for (const event of events) {
      for (let copy = 0; copy < (duplicate ? 2 : 1); copy += 1) {
        this.pending += 1;
        this.lane = this.lane
          .then(async () => {
            if (delayMs > 0) await sleep(delayMs);
            await this.deliver(event);
          })
          .finally(() => {
            this.pending -= 1;
          });
      }
    }
  }

  private async deliver(event: PayPalWebhookEvent): Promise<void> {
    const url = this.options.url;
    if (!url || this.closed) return;
    const payload = JSON.stringify(event);
    for (let attempt = 1; attempt <= this.options.retries + 1; attempt += 1) {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'PayPal/AUHD-214.0-58863539',
            // A new transmission (id, time, signature) per attempt, as PayPal does.
            ...signPayPalWebhook(payload, {
              transmissionId: randomUUID(),
              transmissionTime: new Date().toISOString(),
              webhookId: this.options.webhookId,
              certUrl: this.options.certUrl(),
            }),
          },
          body: payload,
          signal: AbortSignal.timeout(10_000),
        });
        await response.arrayBuffer().catch(() => undefined);
        this.deliveries.push({ eventId: event.id, type: event.event_type, attempt, status: response.status });
        if (response.ok) return;
      } catch (error) {
        this.deliveries.push({ eventId: event.id, type: event.event_type, attempt, error: (error as Error).message });
      }
      if (attempt <= this.options.retries && !this.closed) await sleep(this.options.retryDelayMs * attempt);
    }
  }
}
