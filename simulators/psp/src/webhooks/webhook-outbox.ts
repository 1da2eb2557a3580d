import { newId, nowSeconds } from '../ids';
import { snapshot } from '../simulator-state';
import { signWebhookPayload } from './sign-webhook';

/** A Stripe `event` object, as POSTed to a webhook endpoint. */
export interface WebhookEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: object };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

/**
 * How events reach the endpoint. `immediate` sends each as it happens, in order, after
 * `delayMs`; `hold` keeps them until `release`, which sends them in the order asked (reverse:
 * the newest first), each twice when `duplicate` — Stripe promises neither order nor
 * exactly-once, and receivers must cope with both.
 */
export interface WebhookPolicy {
  readonly mode: 'immediate' | 'hold';
  readonly duplicate: boolean;
  readonly delayMs: number;
}

export interface WebhookDelivery {
  readonly eventId: string;
  readonly type: string;
  readonly attempt: number;
  readonly status?: number;
  readonly error?: string;
}

export interface WebhookOutboxOptions {
  url?: string;
  secret: string;
  /** Further attempts after a failed one (non-2xx or no answer). */
  retries: number;
  retryDelayMs: number;
  /**
   * Deliveries in flight at once (1, the default, keeps the order of events; Stripe itself
   * promises no order and sends many at once, as a load test should).
   */
  concurrency?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class WebhookOutbox {
  /** Every event emitted, in the order things happened. */
  readonly events: WebhookEvent[] = [];
  readonly deliveries: WebhookDelivery[] = [];
  private policy: WebhookPolicy = { mode: 'immediate', duplicate: false, delayMs: 0 };
  private held: WebhookEvent[] = [];
  /** Deliveries run one after another on each lane; one lane (the default) keeps the order of events. */
  private readonly lanes: Array<Promise<void>>;
  private nextLane = 0;
  private pending = 0;
  private closed = false;

  constructor(private readonly options: WebhookOutboxOptions) {
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('webhook concurrency must be a whole number ≥ 1');
    this.lanes = Array.from({ length: concurrency }, () => Promise.resolve());
  }

  setPolicy(policy: Partial<WebhookPolicy>): WebhookPolicy {
    this.policy = { ...this.policy, ...policy };
    return this.policy;
  }

  setUrl(url: string | undefined): void {
    this.options.url = url;
  }

  emit(type: string, object: object, apiVersion: string, request: WebhookEvent['request']): WebhookEvent {
    const event: WebhookEvent = {
      id: newId('evt'),
      object: 'event',
      api_version: apiVersion,
      created: nowSeconds(),
      data: { object: snapshot(object) },
      livemode: false,
      pending_webhooks: 1,
      request,
      type,
    };
    this.events.push(event);
    if (this.policy.mode === 'hold') this.held.push(event);
    else this.enqueue([event], this.policy.duplicate, this.policy.delayMs);
    return event;
  }

  /** Sends the held events, newest first for `reverse`, each twice for `duplicate`; resolves when all were sent. */
  async release(options: { order?: 'fifo' | 'reverse'; duplicate?: boolean } = {}): Promise<WebhookEvent[]> {
    const events = options.order === 'reverse' ? [...this.held].reverse() : [...this.held];
    this.held = [];
    this.enqueue(events, options.duplicate ?? false, 0);
    await this.idle();
    return events;
  }

  /** Sends one event again (Stripe's "resend" button). */
  async resend(eventId: string): Promise<void> {
    const event = this.events.find((candidate) => candidate.id === eventId);
    if (!event) throw new RangeError(`no event ${eventId}`);
    this.enqueue([event], false, 0);
    await this.idle();
  }

  heldEvents(): readonly WebhookEvent[] {
    return this.held;
  }

  /** Resolves once nothing is being sent. */
  async idle(): Promise<void> {
    while (this.pending > 0) await Promise.all(this.lanes);
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

  private enqueue(events: readonly WebhookEvent[], duplicate: boolean, delayMs: number): void {
    for (const event of events) {
      for (let copy = 0; copy < (duplicate ? 2 : 1); copy += 1) {
        this.pending += 1;
        const lane = this.nextLane;
        this.nextLane = (lane + 1) % this.lanes.length;
        this.lanes[lane] = this.lanes[lane]
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

  private async deliver(event: WebhookEvent): Promise<void> {
    const url = this.options.url;
    if (!url || this.closed) return;
    const payload = JSON.stringify(event, null, 2);
    for (let attempt = 1; attempt <= this.options.retries + 1; attempt += 1) {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
            // Signed per attempt, with the time of the attempt, as Stripe does.
            'stripe-signature': signWebhookPayload(payload, this.options.secret),
          },
          body: payload,
          signal: AbortSignal.timeout(10_000),
        });
        await response.arrayBuffer().catch(() => undefined);
        this.deliveries.push({ eventId: event.id, type: event.type, attempt, status: response.status });
        if (response.ok) return;
      } catch (error) {
        this.deliveries.push({ eventId: event.id, type: event.type, attempt, error: (error as Error).message });
      }
      if (attempt <= this.options.retries && !this.closed) await sleep(this.options.retryDelayMs * attempt);
    }
  }
}
