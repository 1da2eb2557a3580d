import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiAnswer, ApiContext } from './api-context';
import { routeApiRequest } from './api-routes';
import { ControlError, routeControlRequest } from './control/control-routes';
import type { CustomerObject } from './customers/customer-routes';
import { closeDispute, openDispute } from './disputes/dispute-control';
import type { FaultRule } from './faults/fault-plan';
import type { FinancialConnectionsSessionObject } from './financial-connections/financial-connections';
import { serveStripeJs, STRIPE_JS_CARD_FRAME } from './elements/stripe-js';
import { FINANCIAL_CONNECTIONS_ELEMENT } from './elements/financial-connections-element';
import { serveElement } from './elements/serve-element';
import { FaultPlan } from './faults/fault-plan';
import { FormBodyError, fingerprintOf, parseFormBody } from './http/form-body';
import { StripeApiError } from './http/stripe-error';
import { IdempotencyStore } from './idempotency/idempotency-store';
import { newId } from './ids';
import type { DebitReturnCode } from './payment-intents/complete-payment-intent';
import { completePaymentIntent, returnDebit } from './payment-intents/complete-payment-intent';
import { TEST_PAYMENT_METHODS } from './payment-methods/test-payment-methods';
import { routePayPalControlRequest } from './paypal/paypal-control-routes';
import type { PayPalSimulatorOptions } from './paypal/paypal-simulator';
import { PayPalSimulator } from './paypal/paypal-simulator';
import { failRefund } from './refunds/refund-routes';
import type { PaymentMethodObject } from './payment-methods/payment-method-routes';
import type { BankAccountVerification } from './setup-intents/bank-account-setup';
import type { SetupIntentObject } from './setup-intents/setup-intent-routes';
import { completeSetupIntent } from './setup-intents/setup-intent-routes';
import { settleDueDebits } from './payment-intents/settle-debits';
import type { ChargeObject, DisputeObject, PaymentIntentObject, MandateObject, PendingDebit, RecordedRequest, RefundObject } from './simulator-state';
import { SimulatorState, snapshot } from './simulator-state';
import { SimulatorClock } from './persistence/simulator-clock';
import { StateJournal } from './persistence/state-journal';
import type { WebhookDelivery, WebhookEvent, WebhookPolicy } from './webhooks/webhook-outbox';
import { WebhookOutbox } from './webhooks/webhook-outbox';

export interface PspSimulatorOptions {
  /** 0 (the default) takes any free port. */
  port?: number;
  host?: string;
  /** Where webhooks go; without it events are only recorded. */
  webhookUrl?: string;
  /** The endpoint's signing secret (`whsec_...`). */
  webhookSecret?: string;
  /** The one secret key accepted; by default any `sk_test_...` key. */
  apiKey?: string;
  /** The one publishable key accepted (Stripe.js's calls); by default any `pk_test_...` key. */
  publishableKey?: string;
  /** How long a held answer is held (longer than any client timeout). */
  holdMs?: number;
  /** Further webhook attempts after a failed one, and the base delay between them. */
  webhookRetries?: number;
  webhookRetryDelayMs?: number;
  /** Webhook deliveries in flight at once; 1 (the default) keeps their order. */
  webhookConcurrency?: number;
  /** The event types the Stripe endpoint is subscribed to (`enabled_events`); every type by default. */
  webhookEvents?: readonly string[];
  /**
   * A file where the simulator keeps what Stripe keeps across restarts (objects, bank debits in
   * flight, the simulated clock, idempotency keys for 24 h); a simulator started on the same
   * file carries on. Without it, state lives in memory only.
   */
  stateFile?: string;
  /** How long a bank takes to answer a debit (SEPA, ACH), in simulated milliseconds; 3 days by default. */
  debitDelayMs?: number;
  /** PayPal's side of the simulator (same server): where its webhooks go, its webhook id, OAuth client, token lifetime. */
  paypal?: Pick<PayPalSimulatorOptions, 'webhookUrl' | 'webhookId' | 'clientId' | 'clientSecret' | 'tokenTtlSeconds'>;
}

export interface SimulatorSnapshot {
  paymentIntents: PaymentIntentObject[];
  charges: ChargeObject[];
  refunds: RefundObject[];
  disputes: DisputeObject[];
  /** Cards saved through Stripe.js: the SetupIntents and the PaymentMethods they made. */
  setupIntents: SetupIntentObject[];
  paymentMethods: PaymentMethodObject[];
  debits: PendingDebit[];
  /** Bank debits' mandates, with how the payer accepted each. */
  mandates: MandateObject[];
  /** Customers, and the saved PaymentMethods used once without one (consumed: Stripe charges them no more). */
  customers: CustomerObject[];
  consumedPaymentMethods: string[];
  /** US bank accounts' micro-deposit verifications, by PaymentMethod. */
  bankAccountVerifications: Record<string, BankAccountVerification>;
  /** Financial Connections sessions, with the accounts linked in them (never their numbers). */
  financialConnectionsSessions: FinancialConnectionsSessionObject[];
  /** Simulated time (epoch milliseconds) and how far it runs ahead of the wall clock. */
  clock: { now: number; aheadMs: number };
  requests: RecordedRequest[];
  events: WebhookEvent[];
  deliveries: WebhookDelivery[];
}

export interface PspSimulator {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly webhookSecret: string;
  snapshot(): SimulatorSnapshot;
  /** Charges (authorisation attempts at the card network) made for a PaymentIntent. */
  chargesFor(paymentIntentId: string): ChargeObject[];
  requestsTo(pathPrefix: string): RecordedRequest[];
  injectFault(rule: Omit<FaultRule, 'count' | 'when'> & Partial<Pick<FaultRule, 'count' | 'when'>>): void;
  readonly webhooks: {
    setUrl(url: string | undefined): void;
    setPolicy(policy: Partial<WebhookPolicy>): WebhookPolicy;
    release(options?: { order?: 'fifo' | 'reverse'; duplicate?: boolean }): Promise<WebhookEvent[]>;
    resend(eventId: string): Promise<void>;
    held(): readonly WebhookEvent[];
    /** Every event, as the provider's event log has them, also those the endpoint is not subscribed to. */
    events(): readonly WebhookEvent[];
    /** The events of the types the endpoint is subscribed to (`webhookEvents`): those it is sent. */
    subscribed(): readonly WebhookEvent[];
    deliveries(): readonly WebhookDelivery[];
    /** Resolves once every queued delivery was attempted. */
    idle(): Promise<void>;
  };
  /** `failureCode`: why the bank refused a bank debit (failed only); else its payment method's. */
  completePaymentIntent(id: string, outcome: 'succeeded' | 'failed', failureCode?: DebitReturnCode): PaymentIntentObject;
  /** The person completes (or fails) the 3-D Secure challenge of a card's SetupIntent (cards 4000 0025 0000 3155, 4000 0027 6000 3184). */
  completeSetupIntent(id: string, outcome: 'succeeded' | 'failed'): SetupIntentObject;
  /** The payer's bank returns a settled bank debit (a failure after it succeeded). */
  returnDebit(id: string, code?: DebitReturnCode): PaymentIntentObject;
  openDispute(paymentIntentId: string, options?: { amount?: number; reason?: string }): DisputeObject;
  closeDispute(disputeId: string, status: 'won' | 'lost'): DisputeObject;
  failRefund(refundId: string, reason?: string): RefundObject;
  /**
   * Moves simulated time forward (a bank debit takes days): the debits that come due are
   * answered at once, with their webhooks. Returns the PaymentIntents answered.
   */
  advanceClock(ms: number): string[];
  /** A saved card (`pm_...` id) behaves from now on like the test token `behavesLike` (e.g. `pm_card_chargeDeclined`). */
  aliasPaymentMethod(id: string, behavesLike: string): void;
  /** PayPal's REST API subset on the same server (src/paypal): its state, webhooks and controls. */
  readonly paypal: PayPalSimulator;
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_API_VERSION = '2026-10-28.endive';
const MAX_BODY_BYTES = 1_048_576;

class BodyTooLargeError extends Error {}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const apiError = (status: number, message: string): ApiAnswer => ({ status, body: new StripeApiError(status, 'api_error', message).body() });

/**
 * Starts a local stand-in for the part of Stripe's API the adapter uses, on a plain Node HTTP
 * server: PaymentIntents and refunds in memory, Stripe's idempotency, signed webhooks with
 * controllable delivery, and injectable failures (see libs/psp-simulator/README.md).
 */
export async function startPspSimulator(options: PspSimulatorOptions = {}): Promise<PspSimulator> {
  const host = options.host ?? '127.0.0.1';
  const webhookSecret = options.webhookSecret ?? 'whsec_simulator';
  const holdMs = options.holdMs ?? 90_000;
  const state = new SimulatorState();
  const clock = new SimulatorClock();
  let journal: StateJournal | undefined;
  const idempotency = new IdempotencyStore((compoundKey, saved) => journal?.keyRemembered(compoundKey, saved));
  if (options.stateFile) {
    journal = new StateJournal(options.stateFile, state, idempotency, clock);
    journal.load();
  }
  /** Writes what the last piece of work changed; before its answer leaves. */
  const persist = (): void => journal?.flush();
  const persisted = <T>(work: () => T): T => {
    try {
      return work();
    } finally {
      persist();
    }
  };
  const faults = new FaultPlan();
  const outbox = new WebhookOutbox({
    url: options.webhookUrl,
    secret: webhookSecret,
    retries: options.webhookRetries ?? 2,
    retryDelayMs: options.webhookRetryDelayMs ?? 100,
    concurrency: options.webhookConcurrency,
    ...(options.webhookEvents === undefined ? {} : { enabledEvents: options.webhookEvents }),
  });
  const holds = new AbortController();

  const debitDelayMs = options.debitDelayMs ?? 3 * 24 * 60 * 60 * 1000;
  const contextFor = (apiVersion: string, request: WebhookEvent['request'], publishableKey = false): ApiContext => ({
    state,
    publishableKey,
    clock,
    debitDelayMs,
    emit: (type, object) => void outbox.emit(type, object, apiVersion, request),
    failFirstAnswer: false,
    hangAnswer: false,
  });

  const snapshotState = (): SimulatorSnapshot =>
    snapshot({
      paymentIntents: [...state.paymentIntents.values()],
      charges: [...state.charges.values()],
      refunds: [...state.refunds.values()],
      disputes: [...state.disputes.values()],
      setupIntents: [...state.setupIntents.values()],
      paymentMethods: [...state.paymentMethods.values()],
      debits: [...state.debits.values()],
      mandates: [...state.mandates.values()],
      customers: [...state.customers.values()],
      consumedPaymentMethods: [...state.consumedPaymentMethods.keys()],
      bankAccountVerifications: Object.fromEntries(state.bankAccountVerifications),
      financialConnectionsSessions: [...state.financialConnectionsSessions.values()],
      clock: { now: clock.now(), aheadMs: clock.aheadMs },
      requests: state.requests,
      events: outbox.events,
      deliveries: outbox.deliveries,
    });

  const reset = (): void => {
    state.clear();
    idempotency.clear();
    faults.clear();
    outbox.reset();
    clock.reset();
    journal?.reset();
    paypal.reset();
  };

  /** Holds an answer, as a stuck provider would; ends early if the client leaves or the simulator closes. */
  const hold = (response: ServerResponse, ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        response.off('close', done);
        holds.signal.removeEventListener('abort', done);
        resolve();
      }
      response.once('close', done);
      holds.signal.addEventListener('abort', done, { once: true });
    });

  const paypal = new PayPalSimulator({
    ...options.paypal,
    kept: state,
    persist,
    holdMs,
    faults,
    hold,
    ...(options.webhookRetries === undefined ? {} : { webhookRetries: options.webhookRetries }),
    ...(options.webhookRetryDelayMs === undefined ? {} : { webhookRetryDelayMs: options.webhookRetryDelayMs }),
  });

  const send = (response: ServerResponse, answer: ApiAnswer, headers: Record<string, string> = {}): void => {
    if (response.writableEnded || response.destroyed) return;
    const body = JSON.stringify(answer.body, null, 2);
    response.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
    response.end(body);
  };

  async function handleApi(request: IncomingMessage, response: ServerResponse, method: string, path: string, query: string, rawBody: string): Promise<void> {
    const requestId = newId('req');
    const apiVersion = header(request, 'stripe-version') ?? DEFAULT_API_VERSION;
    const key = method === 'POST' ? header(request, 'idempotency-key') : undefined;
    const record: RecordedRequest = { method, path, ...(key ? { idempotencyKey: key } : {}), status: 0, replayed: false };
    state.requests.push(record);
    const headers: Record<string, string> = { 'request-id': requestId, 'stripe-version': apiVersion, ...(key ? { 'idempotency-key': key } : {}) };
    const answer = (result: ApiAnswer, extra: Record<string, string> = {}): void => {
      record.status = result.status;
      send(response, result, { ...headers, ...extra });
    };

    // A secret key in the Authorization header; Stripe.js (here the stand-in's card frame) sends its publishable key as the `key` parameter.
    const bearer =
      /^Bearer (\S+)$/.exec(header(request, 'authorization') ?? '')?.[1] ?? (new URLSearchParams(method === 'POST' ? rawBody : query).get('key') || undefined);
    const secret = bearer !== undefined && (options.apiKey ? bearer === options.apiKey : /^(sk|rk)_test_\w+$/.test(bearer));
    const publishable = bearer !== undefined && (options.publishableKey ? bearer === options.publishableKey : /^pk_test_\w+$/.test(bearer));
    if (!secret && !publishable) {
      const shown = bearer ? `${bearer.slice(0, 8)}****` : 'none';
      return answer({ status: 401, body: new StripeApiError(401, 'invalid_request_error', `Invalid API Key provided: ${shown}`).body() });
    }

    let params;
    try {
      params = parseFormBody(method === 'POST' ? rawBody : query);
    } catch (error) {
      if (error instanceof FormBodyError)
        return answer({ status: 400, body: new StripeApiError(400, 'invalid_request_error', error.message, { param: error.param }).body() });
      throw error;
    }

    const apiKey = bearer;
    // A browser's call carries a card number: nothing of it is kept, not even in an idempotency fingerprint.
    if (key && !publishable) {
      const found = idempotency.lookup(apiKey, key, method, path, fingerprintOf(params));
      if (found.kind === 'conflict') return answer({ status: found.error.status, body: found.error.body() });
      if (found.kind === 'replay') {
        record.replayed = true;
        return answer(found.answer, { 'idempotent-replayed': 'true' });
      }
    }

    const before = faults.take(method, path, 'before');
    if (before) {
      record.fault = before.effect.type === 'error' ? String(before.effect.status) : 'hold';
      if (before.effect.type === 'hold') {
        await hold(response, before.effect.ms);
        return answer(apiError(504, 'The request timed out before it reached Stripe.'));
      }
      return answer(apiError(before.effect.status, 'An unknown error occurred; the request was not processed.'));
    }

    const context = contextFor(apiVersion, { id: requestId, idempotency_key: key ?? null }, publishable);
    let result: ApiAnswer;
    try {
      result = routeApiRequest(context, method, path, params);
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      result = { status: error.status, body: error.body() };
    }
    if (key && !publishable) idempotency.save(apiKey, key, { method, path, fingerprint: fingerprintOf(params), answer: result });
    persist();

    // The work is done and saved; what follows only decides whether the client hears of it.
    if (context.failFirstAnswer) {
      record.fault = '500';
      return answer(apiError(500, 'An unknown error occurred.'));
    }
    const after = faults.take(method, path, 'after');
    if (after?.effect.type === 'error') {
      record.fault = String(after.effect.status);
      return answer(apiError(after.effect.status, 'An unknown error occurred.'));
    }
    if (context.hangAnswer || after?.effect.type === 'hold') {
      record.fault = 'hold';
      await hold(response, after?.effect.type === 'hold' ? after.effect.ms : holdMs);
    }
    answer(result);
  }

  const settleDebits = (): string[] => persisted(() => settleDueDebits(contextFor(DEFAULT_API_VERSION, { id: null, idempotency_key: null })));
  const advanceClock = (ms: number): string[] => {
    clock.advance(ms);
    journal?.clockMoved();
    return settleDebits();
  };
  // Debits also come due as real time passes (and after a restart, for those due meanwhile).
  const debitTimer = setInterval(settleDebits, 1000);
  debitTimer.unref();

  const controlDependencies = {
    advanceClock,
    context: () => contextFor(DEFAULT_API_VERSION, { id: null, idempotency_key: null }),
    faults,
    webhooks: outbox,
    snapshot: snapshotState,
    reset,
  };

  async function handleControl(response: ServerResponse, method: string, path: string, rawBody: string): Promise<void> {
    let body: Record<string, unknown> = {};
    try {
      if (rawBody.trim() !== '') body = JSON.parse(rawBody) as Record<string, unknown>;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ControlError('the body must be a JSON object');
      let result: unknown;
      try {
        result = (await routePayPalControlRequest(paypal, method, path, body)) ?? (await routeControlRequest(controlDependencies, method, path, body));
      } finally {
        persist();
      }
      send(response, { status: 200, body: result });
    } catch (error) {
      if (error instanceof StripeApiError) return send(response, { status: error.status, body: error.body() });
      if (error instanceof ControlError || error instanceof SyntaxError) return send(response, { status: 400, body: { error: { message: error.message } } });
      throw error;
    }
  }

  const server: Server = createServer((request, response) => {
    void (async () => {
      const method = request.method ?? 'GET';
      const url = new URL(request.url ?? '/', 'http://simulator');
      try {
        const rawBody = await readBody(request);
        if (url.pathname.startsWith('/__control/')) return await handleControl(response, method, url.pathname, rawBody);
        if (serveStripeJs(method, url, response)) return;
        if (serveElement(STRIPE_JS_CARD_FRAME, method, url, response)) return;
        if (serveElement(FINANCIAL_CONNECTIONS_ELEMENT, method, url, response)) return;
        if (paypal.serveApproval(method, url, rawBody, response)) return;
        if (paypal.handles(url.pathname)) return await paypal.handle(request, response, method, url.pathname, rawBody);
        return await handleApi(request, response, method, url.pathname, url.search.slice(1), rawBody);
      } catch (error) {
        if (error instanceof BodyTooLargeError)
          return send(response, { status: 413, body: new StripeApiError(413, 'invalid_request_error', error.message).body() });
        send(response, apiError(500, `simulator failure: ${(error as Error).message}`));
      }
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  paypal.listening(`http://${host}:${port}`);

  return {
    url: `http://${host}:${port}`,
    host,
    port,
    webhookSecret,
    snapshot: snapshotState,
    chargesFor: (paymentIntentId) => snapshot([...state.charges.values()].filter((charge) => charge.payment_intent === paymentIntentId)),
    requestsTo: (pathPrefix) => snapshot(state.requests.filter((request) => request.path.startsWith(pathPrefix))),
    injectFault: (rule) => faults.add({ when: 'before', count: 1, ...rule }),
    webhooks: {
      setUrl: (url) => outbox.setUrl(url),
      setPolicy: (policy) => outbox.setPolicy(policy),
      release: (releaseOptions) => outbox.release(releaseOptions),
      resend: (eventId) => outbox.resend(eventId),
      held: () => outbox.heldEvents(),
      events: () => outbox.events,
      subscribed: () => outbox.subscribedEvents(),
      deliveries: () => outbox.deliveries,
      idle: () => outbox.idle(),
    },
    completePaymentIntent: (id, outcome, failureCode) =>
      persisted(() => snapshot(completePaymentIntent(controlDependencies.context(), id, outcome, failureCode))),
    returnDebit: (id, code) => persisted(() => snapshot(returnDebit(controlDependencies.context(), id, code))),
    completeSetupIntent: (id, outcome) => persisted(() => snapshot(completeSetupIntent(controlDependencies.context(), id, outcome))),
    aliasPaymentMethod: (id, behavesLike) => {
      if (!Object.hasOwn(TEST_PAYMENT_METHODS, behavesLike))
        throw new Error(`${behavesLike} is not a test payment method; use one of ${Object.keys(TEST_PAYMENT_METHODS).join(', ')}`);
      persisted(() => state.aliases.set(id, behavesLike));
    },
    openDispute: (paymentIntentId, disputeOptions) => persisted(() => snapshot(openDispute(controlDependencies.context(), paymentIntentId, disputeOptions))),
    closeDispute: (disputeId, status) => persisted(() => snapshot(closeDispute(controlDependencies.context(), disputeId, status))),
    failRefund: (refundId, reason) => persisted(() => snapshot(failRefund(controlDependencies.context(), refundId, reason))),
    advanceClock,
    paypal,
    reset,
    close: async () => {
      clearInterval(debitTimer);
      holds.abort();
      await Promise.all([outbox.close(), paypal.close()]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
