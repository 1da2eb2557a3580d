import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultPlan } from '../faults/fault-plan';
import { SimulatorState, snapshot } from '../simulator-state';
import type { WebhookDelivery, WebhookPolicy } from '../webhooks/webhook-outbox';
import type {
  PayPalAuthorizationObject,
  PayPalCaptureObject,
  PayPalDisputeObject,
  PayPalMoney,
  PayPalOrderObject,
  PayPalRecordedRequest,
  PayPalRefundObject,
  PayPalSetupToken,
  PayPalVaultToken,
  PayPalWebhookEvent,
} from './paypal-objects';
import { createSetupToken, decideSetupToken, PAYPAL_APPROVAL_PATH, sendApprovalPage, SetupTokenError } from './paypal-setup-tokens';
import { minorUnitsOf, moneyOf } from './paypal-objects';
import { PAYPAL_SIMULATOR_CERTIFICATE } from './paypal-signing-key';
import { PayPalWebhookOutbox } from './paypal-webhooks';

/** What a vaulted PayPal account does when charged. */
export type PayPalBehaviour =
  'approve' | 'instrument_declined' | 'payer_action_required' | 'capture_pending' | 'capture_later' | 'fail_first_answer' | 'hang_first_answer';

/** The simulator's test vault tokens, as Stripe's `pm_card_...`; any other vault id approves. */
export const PAYPAL_TEST_VAULT_TOKENS: Readonly<Record<string, PayPalBehaviour>> = {
  vault_paypal_ok: 'approve',
  vault_paypal_declined: 'instrument_declined',
  vault_paypal_payer_action: 'payer_action_required',
  vault_paypal_pending: 'capture_pending',
  vault_paypal_capture_later: 'capture_later',
  vault_paypal_5xx: 'fail_first_answer',
  vault_paypal_timeout: 'hang_first_answer',
};

export const PAYPAL_SIMULATOR_DEFAULTS = {
  clientId: 'paypal-simulator-client',
  clientSecret: 'paypal-simulator-secret',
  webhookId: 'SIMULATORWEBHOOK0000000001',
  certPath: '/v1/notifications/certs/CERT-simulator-0001',
} as const;

export interface PayPalSimulatorOptions {
  webhookUrl?: string;
  webhookId?: string;
  clientId?: string;
  clientSecret?: string;
  /** Lifetime of the access tokens issued (PayPal: about 9 hours). */
  tokenTtlSeconds?: number;
  holdMs: number;
  faults: FaultPlan;
  hold: (response: ServerResponse, ms: number) => Promise<void>;
  /** Where PayPal's objects live (the simulator's state, kept in its state file); maps of its own when absent. */
  kept?: PayPalKept;
  /** Writes what a request or a control call changed, before its answer leaves (the state file). */
  persist?: () => void;
  webhookRetries?: number;
  webhookRetryDelayMs?: number;
}

export interface PayPalSnapshot {
  orders: PayPalOrderObject[];
  captures: PayPalCaptureObject[];
  refunds: PayPalRefundObject[];
  vaultTokens: PayPalVaultToken[];
  setupTokens: PayPalSetupToken[];
  disputes: PayPalDisputeObject[];
  requests: PayPalRecordedRequest[];
  events: PayPalWebhookEvent[];
  deliveries: WebhookDelivery[];
  tokensIssued: number;
}

export interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** The first answer to a PayPal-Request-Id, for the same path and body, and when it was given (epoch ms). */
export interface PayPalSavedAnswer {
  readonly path: string;
  readonly fingerprint: string;
  readonly answer: Answer;
  readonly at: number;
}

/** How long a PayPal-Request-Id is answered with its first answer (the state file keeps it as long). */
export const PAYPAL_REQUEST_ID_RETENTION_MS = 24 * 60 * 60 * 1000;

/** The maps PayPal's objects live in: the simulator's state, which the state file keeps (SimulatorState). */
export type PayPalKept = Pick<
  SimulatorState,
  'paypalOrders' | 'paypalCaptures' | 'paypalRefunds' | 'paypalVaultTokens' | 'paypalSetupTokens' | 'paypalDisputes' | 'paypalAliases' | 'paypalRequestIds'
>;

class PayPalApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorName: string,
    message: string,
    readonly details: { issue: string; description: string; field?: string }[] = [],
  ) {
    super(message);
  }

  answer(): Answer {
    return {
      status: this.status,
      body: { name: this.errorName, message: this.message, debug_id: randomBytes(7).toString('hex'), details: this.details, links: [] },
    };
  }
}

const unprocessable = (issue: string, description: string): PayPalApiError =>
  new PayPalApiError(422, 'UNPROCESSABLE_ENTITY', 'The requested action could not be performed, semantically incorrect, or failed business validation.', [
    { issue, description },
  ]);
const invalidRequest = (issue: string, description: string, field?: string): PayPalApiError =>
  new PayPalApiError(400, 'INVALID_REQUEST', 'Request is not well-formed, syntactically incorrect, or violates schema.', [
    { issue, description, ...(field ? { field } : {}) },
  ]);
const notFound = (what: string): PayPalApiError =>
  new PayPalApiError(404, 'RESOURCE_NOT_FOUND', 'The specified resource does not exist.', [
    { issue: 'INVALID_RESOURCE_ID', description: `Specified resource ID does not exist: ${what}.` },
  ]);

const PATHS = /^\/(v1\/oauth2\/token|v1\/notifications\/|v2\/checkout\/orders|v2\/payments\/|v3\/vault\/(payment|setup)-tokens)/;
const ID = '([A-Za-z0-9_-]+)';
const nowIso = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const paypalId = (): string => randomBytes(9).toString('hex').toUpperCase().slice(0, 17);

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function moneyFrom(value: unknown, field: string): PayPalMoney & { minor: bigint } {
  if (!isRecord(value) || typeof value.currency_code !== 'string' || typeof value.value !== 'string')
    throw invalidRequest('MISSING_REQUIRED_PARAMETER', 'A required field / parameter is missing.', field);
  if (!/^[A-Z]{3}$/.test(value.currency_code)) throw invalidRequest('INVALID_PARAMETER_VALUE', 'The currency code is invalid.', `${field}/currency_code`);
  const money = { currency_code: value.currency_code, value: value.value };
  const minor = minorUnitsOf(money);
  if (minor === undefined || minor <= 0n)
    throw invalidRequest('DECIMAL_PRECISION', 'The value of the field should not be more than two decimals, nor zero or negative.', `${field}/value`);
  return { ...money, minor };
}

/**
 * The part of PayPal's REST API the payment-orchestration adapter uses, beside the Stripe routes
 * on the same server: OAuth 2 client credentials, Orders v2 (create with a vaulted PayPal source,
 * intent CAPTURE or AUTHORIZE; capture, authorize, get), Payments v2 (authorizations get, capture
 * and void; captures get and refund, refunds get), Vault v3 payment tokens, and
 * webhooks signed with the simulator's certificate (served at PAYPAL_SIMULATOR_DEFAULTS.certPath).
 * PayPal-Request-Id makes every POST idempotent: the same id answers the first answer again.
 */
export class PayPalSimulator {
  readonly orders: Map<string, PayPalOrderObject>;
  readonly captures: Map<string, PayPalCaptureObject>;
  readonly refunds: Map<string, PayPalRefundObject>;
  readonly vaultTokens: Map<string, PayPalVaultToken>;
  readonly setupTokens: Map<string, PayPalSetupToken>;
  readonly disputes: Map<string, PayPalDisputeObject>;
  /** Vault ids that behave like a test token from now on (a token saved in the wallet). */
  readonly aliases: Map<string, PayPalBehaviour>;
  readonly requests: PayPalRecordedRequest[] = [];
  readonly webhooks: PayPalWebhookOutbox;
  /** Not kept across restarts: a restarted simulator answers 401 to an old token, and the client fetches a new one. */
  private readonly accessTokens = new Map<string, number>();
  private readonly saved: Map<string, PayPalSavedAnswer>;
  private tokensIssued = 0;
  private baseUrl = '';

  constructor(private readonly options: PayPalSimulatorOptions) {
    const kept = options.kept ?? new SimulatorState();
    this.orders = kept.paypalOrders;
    this.captures = kept.paypalCaptures;
    this.refunds = kept.paypalRefunds;
    this.vaultTokens = kept.paypalVaultTokens;
    this.setupTokens = kept.paypalSetupTokens;
    this.disputes = kept.paypalDisputes;
    this.aliases = kept.paypalAliases;
    this.saved = kept.paypalRequestIds;
    this.webhooks = new PayPalWebhookOutbox({
      url: options.webhookUrl,
      webhookId: options.webhookId ?? PAYPAL_SIMULATOR_DEFAULTS.webhookId,
      certUrl: () => `${this.baseUrl}${PAYPAL_SIMULATOR_DEFAULTS.certPath}`,
      retries: options.webhookRetries ?? 2,
      retryDelayMs: options.webhookRetryDelayMs ?? 100,
    });
  }

  /** Told the server's own URL once it listens (webhooks name the certificate's URL on it). */
  listening(baseUrl: string): void {
    this.baseUrl = baseUrl;
  }

  handles(path: string): boolean {
    return PATHS.test(path);
  }

  /**
   * PayPal's approval page for a setup token (the `approve` link): GET shows it, POST is the
   * payer's answer, redirected (303) back to the merchant's return or cancel URL. False for other paths.
   */
  serveApproval(method: string, url: URL, rawBody: string, response: ServerResponse): boolean {
    if (url.pathname !== PAYPAL_APPROVAL_PATH) return false;
    if (method === 'GET') {
      const token = this.setupTokens.get(url.searchParams.get('approval_session_id') ?? '');
      sendApprovalPage(response, token?.status === 'PAYER_ACTION_REQUIRED' ? token : undefined);
      return true;
    }
    const form = new URLSearchParams(rawBody);
    const id = form.get('approval_session_id') ?? '';
    try {
      const back = decideSetupToken(this.setupTokens, id, form.get('decision') === 'approve' ? 'approve' : 'cancel', (form.get('email') ?? '').trim());
      this.options.persist?.();
      response.writeHead(303, { location: back, 'cache-control': 'no-store' });
      response.end();
    } catch (error) {
      if (!(error instanceof SetupTokenError)) throw error;
      const token = this.setupTokens.get(id);
      sendApprovalPage(response, token?.status === 'PAYER_ACTION_REQUIRED' ? token : undefined, error.message);
    }
    return true;
  }

  /** Every access token issued so far stops working (PayPal rotated them): the client must fetch a new one. */
  revokeAccessTokens(): void {
    this.accessTokens.clear();
  }

  snapshot(): PayPalSnapshot {
    return snapshot({
      orders: [...this.orders.values()],
      captures: [...this.captures.values()],
      refunds: [...this.refunds.values()],
      vaultTokens: [...this.vaultTokens.values()],
      setupTokens: [...this.setupTokens.values()],
      disputes: [...this.disputes.values()],
      requests: this.requests,
      events: this.webhooks.events,
      deliveries: this.webhooks.deliveries,
      tokensIssued: this.tokensIssued,
    });
  }

  /** Captures made for an order: more than one would be a double charge. */
  capturesFor(orderId: string): PayPalCaptureObject[] {
    return snapshot([...this.captures.values()].filter((capture) => capture.supplementary_data.related_ids.order_id === orderId));
  }

  /** Settles a PENDING capture, as PayPal does after its review (webhook PAYMENT.CAPTURE.COMPLETED or .DENIED). */
  completeCapture(captureId: string, outcome: 'COMPLETED' | 'DECLINED'): PayPalCaptureObject {
    const capture = this.captures.get(captureId);
    if (!capture) throw new RangeError(`no PayPal capture ${captureId}`);
    if (capture.status !== 'PENDING') throw new RangeError(`capture ${captureId} is ${capture.status}, not PENDING`);
    capture.status = outcome;
    delete capture.status_details;
    capture.update_time = nowIso();
    this.syncOrder(capture);
    this.webhooks.emit(
      outcome === 'COMPLETED' ? 'PAYMENT.CAPTURE.COMPLETED' : 'PAYMENT.CAPTURE.DENIED',
      'capture',
      capture,
      `Payment ${outcome === 'COMPLETED' ? 'completed' : 'denied'} for ${capture.amount.value} ${capture.amount.currency_code}`,
    );
    this.options.persist?.();
    return snapshot(capture);
  }

  /**
   * The payer disputes a capture (all of it, or `amount` minor units): CUSTOMER.DISPUTE.CREATED,
   * whose disputed transaction names the capture and its custom id (our payment id).
   */
  openDispute(captureId: string, options: { amount?: bigint; reason?: string } = {}): PayPalDisputeObject {
    const capture = this.captures.get(captureId);
    if (!capture) throw new RangeError(`no PayPal capture ${captureId}`);
    const captured = minorUnitsOf(capture.amount) ?? 0n;
    const amount = options.amount ?? captured;
    if (amount <= 0n || amount > captured) throw new RangeError(`a dispute is of 1 to ${captured} minor units of the capture`);
    const now = nowIso();
    const id = `PP-D-${randomBytes(4).readUInt32BE(0)}`;
    const dispute: PayPalDisputeObject = {
      dispute_id: id,
      create_time: now,
      update_time: now,
      disputed_transactions: [{ seller_transaction_id: captureId, ...(capture.custom_id ? { custom: capture.custom_id } : {}) }],
      reason: options.reason ?? 'MERCHANDISE_OR_SERVICE_NOT_RECEIVED',
      status: 'OPEN',
      dispute_amount: moneyOf(amount, capture.amount.currency_code),
      dispute_life_cycle_stage: 'CHARGEBACK',
      links: [{ href: `${this.baseUrl}/v1/customer/disputes/${id}`, rel: 'self', method: 'GET' }],
    };
    this.disputes.set(id, dispute);
    this.webhooks.emit('CUSTOMER.DISPUTE.CREATED', 'dispute', dispute, `A new dispute opened with Case # ${id}`);
    this.options.persist?.();
    return snapshot(dispute);
  }

  /** PayPal decides a dispute: for the buyer (the money stays with them) or the seller (it comes back). CUSTOMER.DISPUTE.RESOLVED. */
  resolveDispute(disputeId: string, outcome: 'RESOLVED_BUYER_FAVOUR' | 'RESOLVED_SELLER_FAVOUR'): PayPalDisputeObject {
    const dispute = this.disputes.get(disputeId);
    if (!dispute) throw new RangeError(`no PayPal dispute ${disputeId}`);
    if (dispute.status === 'RESOLVED') throw new RangeError(`dispute ${disputeId} is resolved already`);
    dispute.status = 'RESOLVED';
    dispute.dispute_outcome = { outcome_code: outcome };
    dispute.update_time = nowIso();
    this.webhooks.emit('CUSTOMER.DISPUTE.RESOLVED', 'dispute', dispute, `Dispute ${disputeId} resolved`);
    this.options.persist?.();
    return snapshot(dispute);
  }

  alias(vaultId: string, behavesLike: string): void {
    if (!Object.hasOwn(PAYPAL_TEST_VAULT_TOKENS, behavesLike))
      throw new RangeError(`${behavesLike} is not a PayPal test vault token; use one of ${Object.keys(PAYPAL_TEST_VAULT_TOKENS).join(', ')}`);
    this.aliases.set(vaultId, PAYPAL_TEST_VAULT_TOKENS[behavesLike]);
    this.options.persist?.();
  }

  setWebhookPolicy(policy: Partial<WebhookPolicy>): WebhookPolicy {
    return this.webhooks.setPolicy(policy);
  }

  reset(): void {
    this.orders.clear();
    this.captures.clear();
    this.refunds.clear();
    this.vaultTokens.clear();
    this.setupTokens.clear();
    this.disputes.clear();
    this.aliases.clear();
    this.requests.length = 0;
    this.accessTokens.clear();
    this.saved.clear();
    this.tokensIssued = 0;
    this.webhooks.reset();
  }

  close(): Promise<void> {
    return this.webhooks.close();
  }

  async handle(request: IncomingMessage, response: ServerResponse, method: string, path: string, rawBody: string): Promise<void> {
    const requestId = method === 'POST' ? header(request, 'paypal-request-id') : undefined;
    const record: PayPalRecordedRequest = { method, path, ...(requestId ? { requestId } : {}), status: 0, replayed: false };
    this.requests.push(record);
    const send = (answer: Answer, headers: Record<string, string> = {}): void => {
      record.status = answer.status;
      this.options.persist?.();
      if (response.writableEnded || response.destroyed) return;
      const body = JSON.stringify(answer.body);
      response.writeHead(answer.status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'paypal-debug-id': randomBytes(7).toString('hex'),
        ...headers,
      });
      response.end(body);
    };

    if (method === 'GET' && path === PAYPAL_SIMULATOR_DEFAULTS.certPath) {
      record.status = 200;
      response.writeHead(200, { 'content-type': 'application/x-pem-file' });
      response.end(PAYPAL_SIMULATOR_CERTIFICATE);
      return;
    }
    if (method === 'POST' && path === '/v1/oauth2/token') return send(this.issueToken(request, rawBody));

    const bearer = /^Bearer (\S+)$/.exec(header(request, 'authorization') ?? '')?.[1];
    const expiresAt = bearer ? this.accessTokens.get(bearer) : undefined;
    if (expiresAt === undefined || expiresAt <= Date.now())
      return send({ status: 401, body: { error: 'invalid_token', error_description: 'Token signature verification failed' } });

    let body: Record<string, unknown> = {};
    if (method === 'POST' && rawBody.trim() !== '') {
      try {
        const parsed: unknown = JSON.parse(rawBody);
        if (!isRecord(parsed)) throw new SyntaxError('not an object');
        body = parsed;
      } catch {
        return send(invalidRequest('MALFORMED_REQUEST_JSON', 'The request JSON is not well formed.').answer());
      }
    }
    // A fault `before` stands for a request that never reached PayPal's API (a load balancer's 5xx, a dropped connection): nothing is looked up or done.
    const before = this.options.faults.take(method, path, 'before');
    if (before) {
      record.fault = before.effect.type === 'error' ? String(before.effect.status) : 'hold';
      if (before.effect.type === 'hold') await this.options.hold(response, before.effect.ms);
      const status = before.effect.type === 'error' ? before.effect.status : 504;
      return send(new PayPalApiError(status, 'INTERNAL_SERVER_ERROR', 'An internal server error has occurred.').answer());
    }

    const fingerprint = JSON.stringify(body);
    if (requestId) {
      const kept = this.saved.get(requestId);
      const saved = kept && Date.now() - kept.at <= PAYPAL_REQUEST_ID_RETENTION_MS ? kept : undefined;
      if (saved && (saved.path !== path || saved.fingerprint !== fingerprint))
        return send(unprocessable('PAYPAL_REQUEST_ID_PREVIOUSLY_USED', 'The PayPal-Request-Id has already been used for another request.').answer());
      if (saved) {
        record.replayed = true;
        return send(saved.answer);
      }
    }

    const effects = { failFirstAnswer: false, hangAnswer: false };
    let answer: Answer;
    try {
      answer = this.route(method, path, body, requestId, effects);
    } catch (error) {
      if (!(error instanceof PayPalApiError)) throw error;
      answer = error.answer();
    }
    // PayPal keeps the answers of requests that ran (successes and business refusals), not malformed ones.
    if (requestId && (answer.status < 400 || answer.status === 422)) this.saved.set(requestId, { path, fingerprint, answer, at: Date.now() });

    if (effects.failFirstAnswer) {
      record.fault = '500';
      return send(new PayPalApiError(500, 'INTERNAL_SERVER_ERROR', 'An internal server error has occurred.').answer());
    }
    const after = this.options.faults.take(method, path, 'after');
    if (after?.effect.type === 'error') {
      record.fault = String(after.effect.status);
      return send(new PayPalApiError(after.effect.status, 'INTERNAL_SERVER_ERROR', 'An internal server error has occurred.').answer());
    }
    if (effects.hangAnswer || after?.effect.type === 'hold') {
      record.fault = 'hold';
      await this.options.hold(response, after?.effect.type === 'hold' ? after.effect.ms : this.options.holdMs);
    }
    send(answer);
  }

  private issueToken(request: IncomingMessage, rawBody: string): Answer {
    const basic = /^Basic (\S+)$/.exec(header(request, 'authorization') ?? '')?.[1];
    const [clientId, clientSecret] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : [];
    const expected = [this.options.clientId ?? PAYPAL_SIMULATOR_DEFAULTS.clientId, this.options.clientSecret ?? PAYPAL_SIMULATOR_DEFAULTS.clientSecret];
    if (clientId !== expected[0] || clientSecret !== expected[1])
      return { status: 401, body: { error: 'invalid_client', error_description: 'Client Authentication failed' } };
    if (new URLSearchParams(rawBody).get('grant_type') !== 'client_credentials')
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'Grant Type is NULL' } };
    const ttl = this.options.tokenTtlSeconds ?? 32_400;
    const token = `A21AA${randomBytes(24).toString('base64url')}`;
    this.accessTokens.set(token, Date.now() + ttl * 1000);
    this.tokensIssued += 1;
    return {
      status: 200,
      body: {
        scope: 'https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/vault/payment-tokens/readwrite',
        access_token: token,
        token_type: 'Bearer',
        app_id: 'APP-SIMULATOR',
        expires_in: ttl,
        nonce: `${nowIso()}${randomBytes(8).toString('hex')}`,
      },
    };
  }

  private route(
    method: string,
    path: string,
    body: Record<string, unknown>,
    requestId: string | undefined,
    effects: { failFirstAnswer: boolean; hangAnswer: boolean },
  ): Answer {
    let match: RegExpExecArray | null;
    if (method === 'POST' && path === '/v2/checkout/orders') return this.createOrder(body, requestId, effects);
    if (method === 'GET' && (match = new RegExp(`^/v2/checkout/orders/${ID}$`).exec(path))) return { status: 200, body: this.order(match[1]) };
    if (method === 'POST' && (match = new RegExp(`^/v2/checkout/orders/${ID}/capture$`).exec(path))) return this.captureOrder(match[1], effects);
    if (method === 'POST' && (match = new RegExp(`^/v2/checkout/orders/${ID}/authorize$`).exec(path))) return this.authorizeOrder(match[1]);
    if (method === 'GET' && (match = new RegExp(`^/v2/payments/authorizations/${ID}$`).exec(path)))
      return { status: 200, body: this.authorization(match[1]).authorization };
    if (method === 'POST' && (match = new RegExp(`^/v2/payments/authorizations/${ID}/capture$`).exec(path))) return this.captureAuthorization(match[1], body);
    if (method === 'POST' && (match = new RegExp(`^/v2/payments/authorizations/${ID}/void$`).exec(path))) return this.voidAuthorization(match[1]);
    if (method === 'GET' && (match = new RegExp(`^/v2/payments/captures/${ID}$`).exec(path))) {
      const capture = this.captures.get(match[1]);
      if (!capture) throw notFound(match[1]);
      return { status: 200, body: capture };
    }
    if (method === 'POST' && (match = new RegExp(`^/v2/payments/captures/${ID}/refund$`).exec(path))) return this.refundCapture(match[1], body);
    if (method === 'GET' && (match = new RegExp(`^/v2/payments/refunds/${ID}$`).exec(path))) {
      const refund = this.refunds.get(match[1]);
      if (!refund) throw notFound(match[1]);
      return { status: 200, body: refund };
    }
    if (method === 'POST' && path === '/v3/vault/payment-tokens') return this.createVaultToken(body);
    if (method === 'POST' && path === '/v3/vault/setup-tokens') {
      try {
        return { status: 200, body: createSetupToken(this.setupTokens, this.baseUrl, body) };
      } catch (error) {
        if (!(error instanceof SetupTokenError)) throw error;
        throw invalidRequest(error.issue, error.message, error.field);
      }
    }
    if (method === 'GET' && (match = new RegExp(`^/v3/vault/setup-tokens/${ID}$`).exec(path))) {
      const token = this.setupTokens.get(match[1]);
      if (!token) throw notFound(match[1]);
      return { status: 200, body: token };
    }
    if (method === 'GET' && (match = new RegExp(`^/v3/vault/payment-tokens/${ID}$`).exec(path))) {
      const token = this.vaultTokens.get(match[1]);
      if (!token) throw notFound(match[1]);
      return { status: 200, body: token };
    }
    throw new PayPalApiError(404, 'NOT_FOUND', `No route for ${method} ${path}.`);
  }

  private order(id: string): PayPalOrderObject {
    const order = this.orders.get(id);
    if (!order) throw notFound(id);
    return order;
  }

  private behaviourOf(vaultId: string): PayPalBehaviour {
    return this.aliases.get(vaultId) ?? PAYPAL_TEST_VAULT_TOKENS[vaultId] ?? 'approve';
  }

  private createOrder(body: Record<string, unknown>, requestId: string | undefined, effects: { failFirstAnswer: boolean; hangAnswer: boolean }): Answer {
    if (body.intent !== 'CAPTURE' && body.intent !== 'AUTHORIZE')
      throw invalidRequest('INVALID_PARAMETER_VALUE', 'intent must be CAPTURE or AUTHORIZE.', '/intent');
    const units = body.purchase_units;
    if (!Array.isArray(units) || units.length !== 1 || !isRecord(units[0]))
      throw invalidRequest('INVALID_ARRAY_MAX_ITEMS', 'The simulator takes exactly one purchase unit.', '/purchase_units');
    const unit = units[0];
    const amount = moneyFrom(unit.amount, '/purchase_units/@reference_id==default/amount');
    const source = isRecord(body.payment_source) && isRecord(body.payment_source.paypal) ? body.payment_source.paypal : undefined;
    const vaultId = source && typeof source.vault_id === 'string' ? source.vault_id : undefined;
    if (!vaultId)
      throw unprocessable('PAYMENT_SOURCE_INFO_CANNOT_BE_VERIFIED', 'The simulator charges vaulted PayPal accounts only (payment_source.paypal.vault_id).');
    // PayPal requires the request id on every single-step order (one with a vaulted source).
    if (!requestId) throw invalidRequest('PAYPAL_REQUEST_ID_REQUIRED', 'A PayPal-Request-Id is required if you are trying to process payment for an Order.');
    const behaviour = this.behaviourOf(vaultId);
    if (behaviour === 'instrument_declined')
      throw unprocessable(
        'INSTRUMENT_DECLINED',
        'The instrument presented was either declined by the processor or bank, or it cannot be used for this payment.',
      );
    if (behaviour === 'payer_action_required')
      throw unprocessable('PAYER_ACTION_REQUIRED', 'Transaction cannot complete successfully, instruct the buyer to return to PayPal.');
    const now = nowIso();
    const id = paypalId();
    const order: PayPalOrderObject = {
      id,
      intent: body.intent,
      status: 'APPROVED',
      payment_source: {
        paypal: {
          vault_id: vaultId,
          account_id: this.vaultTokens.get(vaultId)?.payment_source.paypal.account_id ?? 'SIMPAYER0000001',
          email_address: 'payer@example.com',
        },
      },
      purchase_units: [
        {
          reference_id: typeof unit.reference_id === 'string' ? unit.reference_id : 'default',
          amount: { currency_code: amount.currency_code, value: amount.value },
          ...(typeof unit.custom_id === 'string' ? { custom_id: unit.custom_id } : {}),
          ...(typeof unit.invoice_id === 'string' ? { invoice_id: unit.invoice_id } : {}),
          ...(typeof unit.description === 'string' ? { description: unit.description } : {}),
        },
      ],
      create_time: now,
      update_time: now,
      links: [{ href: `${this.baseUrl}/v2/checkout/orders/${id}`, rel: 'self', method: 'GET' }],
    };
    this.orders.set(id, order);
    this.webhooks.emit('CHECKOUT.ORDER.APPROVED', 'checkout-order', order, 'An order has been approved by buyer');
    if (behaviour === 'fail_first_answer') effects.failFirstAnswer = true;
    if (behaviour === 'hang_first_answer') effects.hangAnswer = true;
    // A vaulted source pays (or is authorised) in the same call (a single-step order), unless the account needs a capture call.
    if (behaviour !== 'capture_later') {
      if (order.intent === 'AUTHORIZE') this.authorize(order);
      else this.capture(order, behaviour === 'capture_pending');
    }
    return { status: 201, body: order };
  }

  private authorizeOrder(id: string): Answer {
    const order = this.order(id);
    if (order.intent !== 'AUTHORIZE')
      throw unprocessable('ACTION_DOES_NOT_MATCH_INTENT', 'Order was created with an intent to CAPTURE; authorize is not allowed.');
    if (order.status === 'COMPLETED')
      throw unprocessable('ORDER_ALREADY_AUTHORIZED', 'Order already authorized. If intent=AUTHORIZE only one authorization per order is allowed.');
    if (order.status !== 'APPROVED') throw unprocessable('ORDER_NOT_APPROVED', 'Payer has not yet approved the Order for payment.');
    this.authorize(order);
    return { status: 201, body: order };
  }

  /** Holds the order's amount: an authorisation honoured 3 days (PayPal's honour period). */
  private authorize(order: PayPalOrderObject): void {
    const unit = order.purchase_units[0];
    const now = nowIso();
    const authorization: PayPalAuthorizationObject = {
      id: paypalId(),
      status: 'CREATED',
      amount: { ...unit.amount },
      ...(unit.custom_id ? { custom_id: unit.custom_id } : {}),
      ...(unit.invoice_id ? { invoice_id: unit.invoice_id } : {}),
      expiration_time: new Date(Date.now() + 29 * 24 * 60 * 60 * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      supplementary_data: { related_ids: { order_id: order.id } },
      seller_protection: { status: 'ELIGIBLE' },
      create_time: now,
      update_time: now,
      links: [],
    };
    authorization.links = [
      { href: `${this.baseUrl}/v2/payments/authorizations/${authorization.id}`, rel: 'self', method: 'GET' },
      { href: `${this.baseUrl}/v2/payments/authorizations/${authorization.id}/capture`, rel: 'capture', method: 'POST' },
      { href: `${this.baseUrl}/v2/payments/authorizations/${authorization.id}/void`, rel: 'void', method: 'POST' },
      { href: `${this.baseUrl}/v2/checkout/orders/${order.id}`, rel: 'up', method: 'GET' },
    ];
    unit.payments = { captures: [], authorizations: [authorization] };
    order.status = 'COMPLETED';
    order.update_time = now;
    this.webhooks.emit(
      'PAYMENT.AUTHORIZATION.CREATED',
      'authorization',
      authorization,
      `A payment authorization was created for ${authorization.amount.value} ${authorization.amount.currency_code}`,
    );
  }

  /** An authorisation and its order: the order keeps it (and the state file with it). */
  private authorization(id: string): { authorization: PayPalAuthorizationObject; order: PayPalOrderObject } {
    for (const order of this.orders.values()) {
      const authorization = order.purchase_units[0]?.payments?.authorizations?.find((a) => a.id === id);
      if (authorization) return { authorization, order };
    }
    throw notFound(id);
  }

  /** Captures all or part of an authorisation, once (final capture): the rest is released. */
  private captureAuthorization(id: string, body: Record<string, unknown>): Answer {
    const { authorization, order } = this.authorization(id);
    if (authorization.status === 'CAPTURED' || authorization.status === 'PARTIALLY_CAPTURED')
      throw unprocessable('AUTHORIZATION_ALREADY_CAPTURED', 'Authorization has been previously captured and hence cannot be captured again.');
    if (authorization.status === 'VOIDED') throw unprocessable('AUTHORIZATION_VOIDED', 'A voided authorization cannot be captured or reauthorized.');
    if (authorization.status === 'EXPIRED') throw unprocessable('AUTHORIZATION_EXPIRED', 'An expired authorization cannot be captured.');
    const held = minorUnitsOf(authorization.amount) ?? 0n;
    const amount = body.amount === undefined ? { ...authorization.amount, minor: held } : moneyFrom(body.amount, '/amount');
    if (amount.currency_code !== authorization.amount.currency_code)
      throw unprocessable('CURRENCY_MISMATCH', 'Currency of capture must be the same as currency of authorization.');
    if (amount.minor > held) throw unprocessable('MAX_CAPTURE_AMOUNT_EXCEEDED', 'Capture amount exceeds allowable limit.');
    const capture = this.capture(order, false, { currency_code: amount.currency_code, value: amount.value });
    authorization.status = amount.minor === held ? 'CAPTURED' : 'PARTIALLY_CAPTURED';
    authorization.update_time = capture.create_time;
    return { status: 201, body: capture };
  }

  private voidAuthorization(id: string): Answer {
    const { authorization, order } = this.authorization(id);
    if (authorization.status === 'VOIDED') throw unprocessable('AUTHORIZATION_ALREADY_VOIDED', 'The authorization has already been voided.');
    if (authorization.status !== 'CREATED')
      throw unprocessable('PREVIOUSLY_CAPTURED', 'Authorization has been previously captured and hence cannot be voided.');
    authorization.status = 'VOIDED';
    authorization.update_time = nowIso();
    order.update_time = authorization.update_time;
    this.webhooks.emit('PAYMENT.AUTHORIZATION.VOIDED', 'authorization', authorization, 'A payment authorization was voided');
    return { status: 200, body: authorization };
  }

  private captureOrder(id: string, effects: { failFirstAnswer: boolean; hangAnswer: boolean }): Answer {
    const order = this.order(id);
    if (order.status === 'COMPLETED')
      throw unprocessable('ORDER_ALREADY_CAPTURED', 'Order already captured. If intent=CAPTURE only one capture per order is allowed.');
    if (order.status !== 'APPROVED') throw unprocessable('ORDER_NOT_APPROVED', 'Payer has not yet approved the Order for payment.');
    const behaviour = this.behaviourOf(order.payment_source.paypal.vault_id);
    if (behaviour === 'fail_first_answer') effects.failFirstAnswer = true;
    if (behaviour === 'hang_first_answer') effects.hangAnswer = true;
    this.capture(order, false);
    return { status: 201, body: order };
  }

  private capture(order: PayPalOrderObject, pending: boolean, amount?: PayPalMoney): PayPalCaptureObject {
    const unit = order.purchase_units[0];
    const now = nowIso();
    const capture: PayPalCaptureObject = {
      id: paypalId(),
      status: pending ? 'PENDING' : 'COMPLETED',
      ...(pending ? { status_details: { reason: 'PENDING_REVIEW' } } : {}),
      amount: { ...(amount ?? unit.amount) },
      final_capture: true,
      ...(unit.custom_id ? { custom_id: unit.custom_id } : {}),
      ...(unit.invoice_id ? { invoice_id: unit.invoice_id } : {}),
      supplementary_data: { related_ids: { order_id: order.id } },
      seller_protection: { status: 'ELIGIBLE' },
      create_time: now,
      update_time: now,
      links: [],
    };
    capture.links = [
      { href: `${this.baseUrl}/v2/payments/captures/${capture.id}`, rel: 'self', method: 'GET' },
      { href: `${this.baseUrl}/v2/payments/captures/${capture.id}/refund`, rel: 'refund', method: 'POST' },
      { href: `${this.baseUrl}/v2/checkout/orders/${order.id}`, rel: 'up', method: 'GET' },
    ];
    this.captures.set(capture.id, capture);
    unit.payments = { ...unit.payments, captures: [capture] };
    order.status = 'COMPLETED';
    order.update_time = now;
    this.webhooks.emit(
      pending ? 'PAYMENT.CAPTURE.PENDING' : 'PAYMENT.CAPTURE.COMPLETED',
      'capture',
      capture,
      `Payment ${pending ? 'pending' : 'completed'} for ${capture.amount.value} ${capture.amount.currency_code}`,
    );
    if (!pending) this.webhooks.emit('CHECKOUT.ORDER.COMPLETED', 'checkout-order', order, 'Checkout Order Completed');
    return capture;
  }

  /** Keeps the order's copy of a capture in step with the capture itself. */
  private syncOrder(capture: PayPalCaptureObject): void {
    const order = this.orders.get(capture.supplementary_data.related_ids.order_id);
    const unit = order?.purchase_units[0];
    if (unit?.payments) unit.payments.captures = unit.payments.captures.map((c) => (c.id === capture.id ? snapshot(capture) : c));
  }

  private refundCapture(captureId: string, body: Record<string, unknown>): Answer {
    const capture = this.captures.get(captureId);
    if (!capture) throw notFound(captureId);
    if (capture.status === 'REFUNDED') throw unprocessable('CAPTURE_FULLY_REFUNDED', 'The capture has already been fully refunded.');
    if (capture.status !== 'COMPLETED' && capture.status !== 'PARTIALLY_REFUNDED')
      throw unprocessable('CAPTURE_STATUS_NOT_VALID', `Invalid capture status: a ${capture.status} capture cannot be refunded.`);
    const captured = minorUnitsOf(capture.amount) ?? 0n;
    const refunded = [...this.refunds.values()]
      .filter((refund) => refund.links.some((link) => link.rel === 'up' && link.href.endsWith(`/captures/${captureId}`)) && refund.status !== 'FAILED')
      .reduce((sum, refund) => sum + (minorUnitsOf(refund.amount) ?? 0n), 0n);
    const amount =
      body.amount === undefined
        ? { ...moneyOf(captured - refunded, capture.amount.currency_code), minor: captured - refunded }
        : moneyFrom(body.amount, '/amount');
    if (amount.currency_code !== capture.amount.currency_code)
      throw unprocessable('REFUND_CURRENCY_MISMATCH', 'Refund must be in the same currency as the capture.');
    if (amount.minor <= 0n || refunded + amount.minor > captured)
      throw unprocessable('REFUND_AMOUNT_EXCEEDED', 'The refund amount must be less than or equal to the capture amount that has not yet been refunded.');
    const now = nowIso();
    const refund: PayPalRefundObject = {
      id: paypalId(),
      status: 'COMPLETED',
      amount: { currency_code: amount.currency_code, value: amount.value },
      ...(typeof body.custom_id === 'string' ? { custom_id: body.custom_id } : {}),
      ...(typeof body.invoice_id === 'string' ? { invoice_id: body.invoice_id } : {}),
      ...(typeof body.note_to_payer === 'string' ? { note_to_payer: body.note_to_payer } : {}),
      create_time: now,
      update_time: now,
      links: [],
    };
    refund.links = [
      { href: `${this.baseUrl}/v2/payments/refunds/${refund.id}`, rel: 'self', method: 'GET' },
      { href: `${this.baseUrl}/v2/payments/captures/${captureId}`, rel: 'up', method: 'GET' },
    ];
    this.refunds.set(refund.id, refund);
    capture.status = refunded + amount.minor === captured ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
    capture.update_time = now;
    this.syncOrder(capture);
    this.webhooks.emit('PAYMENT.CAPTURE.REFUNDED', 'refund', refund, `A ${amount.value} ${amount.currency_code} capture payment was refunded`);
    return { status: 201, body: refund };
  }

  private createVaultToken(body: Record<string, unknown>): Answer {
    const source = isRecord(body.payment_source) && isRecord(body.payment_source.token) ? body.payment_source.token : undefined;
    if (!source || typeof source.id !== 'string')
      throw invalidRequest('MISSING_REQUIRED_PARAMETER', 'payment_source.token.id (an approved setup token) is required.', '/payment_source/token/id');
    // An approved setup token (the payer agreed on the approval page) is vaulted once, with the account the payer signed in with.
    const setup = this.setupTokens.get(source.id);
    if (setup && setup.status !== 'APPROVED')
      throw unprocessable(
        setup.status === 'VAULTED' ? 'SETUP_TOKEN_ALREADY_USED' : 'SETUP_TOKEN_NOT_APPROVED',
        setup.status === 'VAULTED' ? 'This setup token was vaulted already.' : 'The payer has not approved this setup token.',
      );
    if (setup) setup.status = 'VAULTED';
    const id = `${randomUUID().replace(/-/g, '').slice(0, 7)}`;
    const token: PayPalVaultToken = {
      id,
      customer: setup
        ? { id: setup.customer.id }
        : { id: isRecord(body.customer) && typeof body.customer.id === 'string' ? body.customer.id : `cust_${paypalId()}` },
      payment_source: {
        paypal: setup
          ? { email_address: setup.payment_source.paypal.email_address!, account_id: setup.payment_source.paypal.payer_id! }
          : { email_address: 'payer@example.com', account_id: paypalId().slice(0, 13) },
      },
      links: [{ href: `${this.baseUrl}/v3/vault/payment-tokens/${id}`, rel: 'self', method: 'GET' }],
    };
    this.vaultTokens.set(id, token);
    return { status: 201, body: token };
  }
}
