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
 * the newest first), each twice when `duplicate` — neither Stripe nor PayPal promises order or
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

/** What every PSP's webhook deliveries need: where, how often to retry, how many at once. */
export interface WebhookDeliveryOptions {
  url?: string;
  /** Further attempts after a failed one (non-2xx or no answer). */
  retries: number;
  retryDelayMs: number;
  /**
   * Deliveries in flight at once (1, the default, keeps the order of events; the PSPs themselves
   * promise no order and send many at once, as a load test should).
   */
  concurrency?: number;
  /**
   * The event types the endpoint is subscribed to (Stripe's `enabled_events`); `*` or absent: every
   * type. Events of other types are still recorded (`events`), as the provider's event log keeps
   * them, but never sent.
   */
  enabledEvents?: readonly string[];
}

export interface WebhookOutboxOptions extends WebhookDeliveryOptions {
  secret: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A PSP's webhook deliveries, whatever its event shape and signature (`describe`, `encode` and
 * `headersFor` are the PSP's): `immediate` sends each event as it happens, in order, after
 * `delayMs`; `hold` keeps them until `release`. Failed attempts are retried, each with its own
 * signature.
 */
export abstract class WebhookDeliveries<Event> {
  /** Every event emitted, in the order things happened. */
  readonly events: Event[] = [];
  readonly deliveries: WebhookDelivery[] = [];
  private policy: WebhookPolicy = { mode: 'immediate', duplicate: false, delayMs: 0 };
  private held: Event[] = [];
  /** Deliveries run one after another on each lane; one lane (the default) keeps the order of events. */
  private readonly lanes: Array<Promise<void>>;
  private nextLane = 0;
  private pending = 0;
  private closed = false;

  protected constructor(private readonly delivery: WebhookDeliveryOptions) {
    const concurrency = delivery.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('webhook concurrency must be a whole number ≥ 1');
    this.lanes = Array.from({ length: concurrency }, () => Promise.resolve());
  }

  /** The event's id and type, as deliveries record them. */
  protected abstract describe(event: Event): { readonly id: string; readonly type: string };
  /** The body sent for the event. */
  protected abstract encode(event: Event): string;
  /** The headers of one attempt (signed per attempt, with the time of the attempt, as the PSPs do). */
  protected abstract headersFor(payload: string): Record<string, string>;

  setPolicy(policy: Partial<WebhookPolicy>): WebhookPolicy {
    this.policy = { ...this.policy, ...policy };
    return this.policy;
  }

  setUrl(url: string | undefined): void {
    this.delivery.url = url;
  }

  /** The recorded events of the types the endpoint is subscribed to: those it is sent. */
  subscribedEvents(): Event[] {
    return this.events.filter((event) => this.subscribedTo(this.describe(event).type));
  }

  private subscribedTo(type: string): boolean {
    const enabled = this.delivery.enabledEvents;
    return enabled === undefined || enabled.includes('*') || enabled.includes(type);
  }

  /** Records an event and, if the endpoint is subscribed to its type, sends it (or holds it), as the policy says. */
  protected record(event: Event): Event {
    this.events.push(event);
    if (!this.subscribedTo(this.describe(event).type)) return event;
    if (this.policy.mode === 'hold') this.held.push(event);
    else this.enqueue([event], this.policy.duplicate, this.policy.delayMs);
    return event;
  }

  /** Sends the held events, newest first for `reverse`, each twice for `duplicate`; resolves when all were sent. */
  async release(options: { order?: 'fifo' | 'reverse'; duplicate?: boolean } = {}): Promise<Event[]> {
    const events = options.order === 'reverse' ? [...this.held].reverse() : [...this.held];
    this.held = [];
    this.enqueue(events, options.duplicate ?? false, 0);
    await this.idle();
    return events;
  }

  /** Sends one event again (the dashboards' "resend" button): only one of a type the endpoint is subscribed to. */
  async resend(eventId: string): Promise<void> {
    const event = this.events.find((candidate) => this.describe(candidate).id === eventId);
    if (!event) throw new RangeError(`no event ${eventId}`);
    if (!this.subscribedTo(this.describe(event).type)) throw new RangeError(`the endpoint is not subscribed to ${this.describe(event).type}`);
    this.enqueue([event], false, 0);
    await this.idle();
  }

  heldEvents(): readonly Event[] {
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

  private enqueue(events: readonly Event[], duplicate: boolean, delayMs: number): void {
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

  private async deliver(event: Event): Promise<void> {
    const url = this.delivery.url;
    if (!url || this.closed) return;
    const { id: eventId, type } = this.describe(event);
    const payload = this.encode(event);
    for (let attempt = 1; attempt <= this.delivery.retries + 1; attempt += 1) {
      try {
        const response = await fetch(url, { method: 'POST', headers: this.headersFor(payload), body: payload, signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer().catch(() => undefined);
        this.deliveries.push({ eventId, type, attempt, status: response.status });
        if (response.ok) return;
      } catch (error) {
        this.deliveries.push({ eventId, type, attempt, error: (error as Error).message });
      }
      if (attempt <= this.delivery.retries && !this.closed) await sleep(this.delivery.retryDelayMs * attempt);
    }
  }
}

/** Stripe's webhook deliveries: `event` objects signed with the endpoint's secret (`Stripe-Signature`). */
export class WebhookOutbox extends WebhookDeliveries<WebhookEvent> {
  constructor(private readonly options: WebhookOutboxOptions) {
    super(options);
  }

  emit(type: string, object: object, apiVersion: string, request: WebhookEvent['request']): WebhookEvent {
    return this.record({
      id: newId('evt'),
      object: 'event',
      api_version: apiVersion,
      created: nowSeconds(),
      data: { object: snapshot(object) },
      livemode: false,
      pending_webhooks: 1,
      request,
      type,
    });
  }

  protected describe(event: WebhookEvent): { id: string; type: string } {
    return { id: event.id, type: event.type };
  }

  protected encode(event: WebhookEvent): string {
    return JSON.stringify(event, null, 2);
  }

  protected headersFor(payload: string): Record<string, string> {
    return {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
      'stripe-signature': signWebhookPayload(payload, this.options.secret),
    };
  }
}
