import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { JWK } from 'jose';
import { decodeJwt } from 'jose';
import type { MandatedAccount } from '@pay/auth';
import { MANDATE_ATTESTATION_HEADER, mandateAccountDigest, MandateAttestationSigner, REFUND_APPROVAL_HEADER, RefundApprovalSigner } from '@pay/auth';
import type { DataSource } from 'typeorm';
import type { Telemetry } from '@pay/observability';
import { currentTelemetry, observeHttpRequests, startTelemetry, tracedFetch } from '@pay/observability';
import { closeServiceDataSource, openServiceDataSource } from '@pay/platform';
import { maySupportSocket, SUPPORT_SOCKET_PATH, upstreamRoute } from './access-rules';
import type { PayHubConfig } from './config';
import { DEV_ORCHESTRATION_URL } from './config';
import { BANK_MANDATE, clientAddress, trustedProxies, US_BANK_MANDATE } from './bank-mandate';
import { BankConnections, FINANCIAL_CONNECTIONS_SESSION_ID } from './bank-connections';
import { AbandonedCardSetups } from './abandoned-card-setups';
import { CardSetupProblem, CardSetups, SETUP_INTENT_ID } from './card-setups';
import { contentSecurityPolicy, pspBrowserOrigins } from './content-security-policy';
import { PayPalSetupProblem, PayPalSetups, SETUP_TOKEN_ID } from './paypal-setups';
import { PAY_HUB_SCHEMA, payHubMigrations } from './database/migrations';
import { hubMetrics, recordRoute, routeTemplate } from './hub-metrics';
import type { OidcClient, ProviderMetadata } from './oidc';
import { authorizationUrl, discover, exchangeCode, pkcePair } from './oidc';
import {
  AgentRefundRequest,
  DevSignInRequest,
  InvalidRequestError,
  SaveBankAccountRequest,
  SaveBankMandateRequest,
  SaveMethodRequest,
  SaveUsBankAccountRequest,
  ShopPurchaseRequest,
  validated,
} from './requests';
import type { Session, SessionUser } from './sessions';
import { SessionStore } from './sessions';
import { refuseUpgrade, relayUpgrade } from './support-socket-relay';

/** Signs a development token; a service's may carry what an app backend's does (its scopes, app and merchants). */
export type DevTokenMinter = (claims: { sub: string; role: string; scope?: string; app?: string; merchants?: string[] }) => Promise<string>;

export interface PayHubOptions {
  config: PayHubConfig;
  /** Required when HUB_SIGN_IN=development. */
  mintDevToken?: DevTokenMinter;
  log?: (line: string) => void;
  /** The sessions' clock (tests move it to expire a session). */
  now?: () => number;
  /** OpenTelemetry as main.ts started it (instrument.ts); else the process's, or one started here. */
  telemetry?: Telemetry;
}

export interface RunningPayHub {
  url: string;
  server: Server;
  sessions: SessionStore;
  /** The hub's schema (sessions, pending sign-ins, open card setups). */
  dataSource: DataSource;
  /** The sweep of card setups nobody finished; undefined when the hub adds no cards. */
  abandonedCardSetups?: AbandonedCardSetups;
  /** Stops accepting, waits up to `graceMs` (30 s) for the requests in hand, then closes the database pool. */
  close(graceMs?: number): Promise<void>;
}

const COOKIE = 'pay_hub_session';
const MAX_BODY_BYTES = 64 * 1024;
/** Within the pod's 45 s grace period, after its 5 s preStop. */
const CLOSE_GRACE_MS = 30_000;
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};
const IDEMPOTENCY_KEY = /^[A-Za-z0-9-]{1,128}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** An agent's refund on the desk (the one route the hub approves before forwarding). */
const AGENT_REFUND_PATH = /^\/api\/support\/v1\/support\/conversations\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/refunds$/i;
/** What the services answer that the browser may see. */
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'content-disposition', 'retry-after', 'idempotent-replayed'];

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: string[],
  ) {
    super(message);
  }
}

/** `policy`: the Content-Security-Policy, the hub's own origin plus the PSP's where cards are added (content-security-policy.ts). */
function securityHeaders(response: ServerResponse, policy: string): void {
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('X-Frame-Options', 'DENY');
  response.setHeader('Referrer-Policy', 'no-referrer');
  response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  response.setHeader('Content-Security-Policy', policy);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.statusCode = status;
  response.setHeader('content-type', 'application/json; charset=utf-8');
  response.setHeader('cache-control', 'no-store');
  response.end(JSON.stringify(body));
}

function cookieOf(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  if (!(request.headers['content-type'] ?? '').startsWith('application/json')) throw new HttpProblem(415, 'JSON_REQUIRED', 'send the body as application/json');
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpProblem(413, 'BODY_TOO_LARGE', `the body must be at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new HttpProblem(400, 'INVALID_JSON', 'the body is not valid JSON');
  }
}

/**
 * The Pay Hub's server: the web app's files, sign-in (development tokens or OpenID Connect with
 * PKCE), a session cookie (HttpOnly, SameSite=Strict) in place of tokens in the browser, and
 * `/api/{wallet,history}/…` forwarded to the services with the session's access token
 * (docs/adr/0010-pay-hub-sessions.md).
 */
export async function startPayHub(options: PayHubOptions): Promise<RunningPayHub> {
  const { config } = options;
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const development = config.HUB_SIGN_IN === 'development';
  if (development && !options.mintDevToken) throw new Error('HUB_SIGN_IN=development needs a development token signer (HUB_DEV_SIGNING_JWK)');
  const dataSource = await openServiceDataSource({
    url: config.DATABASE_URL,
    schema: config.DB_SCHEMA ?? PAY_HUB_SCHEMA,
    migrations: config.DB_MIGRATE_ON_START ? payHubMigrations : [],
    applicationName: 'pay-hub',
    poolSize: 5,
  });
  const telemetry = options.telemetry ?? currentTelemetry() ?? startTelemetry({ service: 'pay-hub', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
  const observe = observeHttpRequests('pay-hub');
  const metrics = hubMetrics();
  /** A call to a service, as a CLIENT span of the request's trace (W3C context in its headers), timed by service and status. */
  const callService = async (service: string, url: string, init: RequestInit): Promise<Response> => {
    const started = performance.now();
    const answer = await tracedFetch('pay-hub', url, init);
    metrics.upstreamDuration.record((performance.now() - started) / 1000, { upstream: service, status_code: answer.status });
    return answer;
  };
  const now = options.now ?? Date.now;
  const cardSetups = CardSetups.from(config);
  const abandonedCardSetups = cardSetups
    ? new AbandonedCardSetups(dataSource, cardSetups, { abandonAfterMs: config.HUB_CARD_SETUP_ABANDON_SECONDS * 1000, log })
    : undefined;
  const policy = contentSecurityPolicy(pspBrowserOrigins(config));
  const bankConnections = BankConnections.from(config, new URL(config.HUB_PUBLIC_URL).origin);
  const paypalSetups = PayPalSetups.from(config, new URL(config.HUB_PUBLIC_URL).origin, (url, init) => callService('paypal', url, init));
  const sessions = new SessionStore(dataSource, now);
  const proxies = trustedProxies(config.HUB_TRUSTED_PROXIES);
  const hubKey = config.HUB_SERVICE_SIGNING_JWK ? (JSON.parse(config.HUB_SERVICE_SIGNING_JWK) as JWK) : undefined;
  const hubClaims = { issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE };
  const mandateSigner = hubKey ? await MandateAttestationSigner.create(hubKey, hubClaims, now) : undefined;
  const refundApprovals = hubKey ? await RefundApprovalSigner.create(hubKey, hubClaims, now) : undefined;
  const publicOrigin = new URL(config.HUB_PUBLIC_URL).origin;
  const secureCookies = config.HUB_SECURE_COOKIES ?? new URL(config.HUB_PUBLIC_URL).protocol === 'https:';
  const staticRoot = resolve(config.HUB_STATIC_DIR);
  const upstreams = {
    wallet: config.WALLET_URL.replace(/\/$/, ''),
    history: config.HISTORY_URL.replace(/\/$/, ''),
    support: config.SUPPORT_URL.replace(/\/$/, ''),
  };
  const oidcClient: OidcClient | undefined =
    config.HUB_SIGN_IN === 'oidc'
      ? {
          issuer: config.OIDC_ISSUER!,
          clientId: config.OIDC_CLIENT_ID!,
          clientSecret: config.OIDC_CLIENT_SECRET,
          redirectUri: `${publicOrigin}/bff/callback`,
          scopes: config.OIDC_SCOPES,
        }
      : undefined;
  let provider: Promise<ProviderMetadata> | undefined;
  const providerMetadata = (): Promise<ProviderMetadata> => {
    provider ??= discover(oidcClient!.issuer).catch((error: unknown) => {
      provider = undefined;
      throw error;
    });
    return provider;
  };

  const setSessionCookie = (response: ServerResponse, session: Session | undefined): void => {
    const attributes = ['Path=/', 'HttpOnly', 'SameSite=Strict', ...(secureCookies ? ['Secure'] : [])];
    const value = session ? `${session.id}; Max-Age=${Math.max(1, Math.floor((session.expiresAt - now()) / 1000))}` : '; Max-Age=0';
    response.setHeader('set-cookie', `${COOKIE}=${value}; ${attributes.join('; ')}`);
  };

  const sessionOf = (request: IncomingMessage): Promise<Session | undefined> => sessions.get(cookieOf(request, COOKIE));
  const requireSession = async (request: IncomingMessage): Promise<Session> => {
    const session = await sessionOf(request);
    if (!session) throw new HttpProblem(401, 'SIGNED_OUT', 'sign in first');
    return session;
  };

  /** Requests that change something must come from the hub's own pages (the cookie is SameSite=Strict too). */
  const assertSameOrigin = (request: IncomingMessage): void => {
    if (request.method === 'GET' || request.method === 'HEAD') return;
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== publicOrigin)
      throw new HttpProblem(403, 'CROSS_ORIGIN_REFUSED', 'requests that change something must come from the hub');
    if (request.headers['x-pay-hub'] !== '1')
      throw new HttpProblem(403, 'CROSS_ORIGIN_REFUSED', "requests that change something must come from the hub's pages");
  };

  const signIn = async (response: ServerResponse, user: SessionUser, accessToken: string, tokenExpiresAt?: number): Promise<Session> => {
    const session = await sessions.create(user, accessToken, config.HUB_SESSION_MINUTES * 60_000, tokenExpiresAt);
    metrics.signIns.add(1, { mode: config.HUB_SIGN_IN, role: user.role });
    setSessionCookie(response, session);
    return session;
  };

  async function forward(request: IncomingMessage, response: ServerResponse, session: Session, path: string, search: string): Promise<void> {
    const route = upstreamRoute(session.user, request.method ?? 'GET', path);
    if (!route) throw new HttpProblem(404, 'NOT_FOUND', 'no such resource');
    const hasBody = !['GET', 'HEAD', 'DELETE'].includes(request.method ?? 'GET');
    const body = hasBody ? JSON.stringify(await readJson(request)) : undefined;
    // A retried change (an agent's refund) carries its key to the service, which answers a retry once.
    const idempotencyKey = request.headers['idempotency-key'];
    if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(idempotencyKey)))
      throw new HttpProblem(400, 'IDEMPOTENCY_KEY_INVALID', 'Idempotency-Key must be 1 to 128 letters, digits and hyphens (a UUID)');
    const upstream = await callService(route.upstream, `${upstreams[route.upstream]}${route.path}${search}`, {
      method: request.method,
      headers: {
        authorization: `Bearer ${session.accessToken}`,
        accept: request.headers.accept ?? 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }),
      },
      body,
    });
    response.statusCode = upstream.status;
    response.setHeader('cache-control', 'no-store');
    for (const name of FORWARDED_RESPONSE_HEADERS) {
      const value = upstream.headers.get(name);
      if (value !== null) response.setHeader(name, value);
    }
    if (upstream.status === 401) await sessions.end(session.id);
    if (!upstream.body) return void response.end();
    await pipeline(Readable.fromWeb(upstream.body), response);
  }

  /**
   * An agent's refund from the desk, in the agent's own session on the hub's pages: the hub approves
   * exactly the refund the page states (this agent, conversation, payment, amount and
   * Idempotency-Key; RefundApprovalSigner, 60 s) and sends the approval with the request to support,
   * which passes it on to orchestration in place of the agent's token (docs/security.md, "Refund approvals").
   */
  async function agentRefund(request: IncomingMessage, response: ServerResponse, session: Session, conversationId: string): Promise<void> {
    if (session.user.role !== 'support') throw new HttpProblem(404, 'NOT_FOUND', 'no such resource');
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string' || !UUID.test(key))
      throw new HttpProblem(400, 'IDEMPOTENCY_KEY_INVALID', 'Idempotency-Key must be a UUID (the same for a retry of this refund)');
    const refund = validated(AgentRefundRequest, await readJson(request));
    if (!refundApprovals) throw new HttpProblem(503, 'REFUND_APPROVAL_OFF', 'this hub approves no refunds (HUB_SERVICE_SIGNING_JWK is not set)');
    const idempotencyKey = key.toLowerCase();
    const amount = { amount: refund.amount.amount, currency: refund.amount.currency };
    const approval = await refundApprovals.sign({
      conversationId: conversationId.toLowerCase(),
      agentId: session.user.sub,
      paymentId: refund.paymentId,
      idempotencyKey,
      amount,
    });
    const upstream = await callService('support', `${upstreams.support}/v1/support/conversations/${conversationId.toLowerCase()}/refunds`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${session.accessToken}`,
        accept: 'application/json',
        'content-type': 'application/json',
        'idempotency-key': idempotencyKey,
        [REFUND_APPROVAL_HEADER]: approval,
      },
      body: JSON.stringify({ amount, reason: refund.reason }),
    });
    if (upstream.status === 401) await sessions.end(session.id);
    const retryAfter = upstream.headers.get('retry-after');
    if (retryAfter !== null) response.setHeader('retry-after', retryAfter);
    sendJson(response, upstream.status, await upstream.json().catch(() => ({})));
  }

  /** The development shop: a purchase as an app's checkout would send it, for the signed-in person. */
  async function shopPurchase(request: IncomingMessage, response: ServerResponse, session: Session): Promise<void> {
    if (!development) throw new HttpProblem(404, 'NOT_FOUND', 'no such resource');
    if (session.user.role !== 'person') throw new HttpProblem(403, 'FORBIDDEN', 'only a person buys');
    const purchase = validated(ShopPurchaseRequest, await readJson(request));
    // As the app's own backend would: its subject, app and merchant, allowed to initiate payments.
    const serviceToken = await options.mintDevToken!({
      sub: `${purchase.app}-backend`,
      role: 'service',
      scope: 'payments:initiate',
      app: purchase.app,
      merchants: [purchase.merchantId],
    });
    const upstream = await callService('payment-orchestration', `${(config.ORCHESTRATION_URL ?? DEV_ORCHESTRATION_URL).replace(/\/$/, '')}/v1/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${serviceToken}`, 'content-type': 'application/json', 'idempotency-key': purchase.requestId },
      body: JSON.stringify({
        kind: 'purchase',
        payerId: session.user.sub,
        counterparty: { type: 'merchant', id: purchase.merchantId },
        app: purchase.app,
        country: purchase.country,
        amount: { amount: purchase.amount.amount, currency: purchase.amount.currency },
        ...(purchase.paymentMethodId ? { paymentMethodId: purchase.paymentMethodId } : {}),
        ...(purchase.stepUpProof ? { stepUpProof: purchase.stepUpProof } : {}),
        description: 'Pay Hub development shop',
      }),
    });
    sendJson(response, upstream.status, await upstream.json().catch(() => ({})));
  }

  const cardsFor = (session: Session): CardSetups => {
    if (!cardSetups) throw new HttpProblem(404, 'CARD_SETUP_OFF', 'this hub adds no cards (STRIPE_SECRET_KEY is not set)');
    if (session.user.role !== 'person') throw new HttpProblem(404, 'NOT_FOUND', 'no such resource');
    return cardSetups;
  };

  /** A SetupIntent at the PSP for the person, and where the page loads Stripe.js to confirm it (docs/pay-hub.md, "Cards and PayPal"). */
  async function beginCardSetup(response: ServerResponse, session: Session): Promise<void> {
    const setup = await cardsFor(session).begin(session.user.sub);
    // Recorded before the page gets it, so a setup nobody finishes is cancelled (docs/pay-hub.md, "Abandoned card setups").
    await abandonedCardSetups!.opened(setup.setupIntentId, session.user.sub).catch(async (error: unknown) => {
      await cardSetups!.cancel(setup.setupIntentId, 'abandoned').catch(() => undefined);
      throw error;
    });
    sendJson(response, 201, setup);
  }

  /**
   * The person gave the card up (*Cancel* on the methods page, or left it): the SetupIntent is
   * cancelled at the PSP, so nothing completes it later. Idempotent; another person's is not found;
   * one the PSP completed meanwhile is left as it is (409 `CARD_SETUP_COMPLETED`).
   */
  async function cancelCardSetup(response: ServerResponse, session: Session, setupIntentId: string): Promise<void> {
    const cards = cardsFor(session);
    if (!SETUP_INTENT_ID.test(setupIntentId) || (await cards.ownerOf(setupIntentId)) !== session.user.sub)
      throw new HttpProblem(404, 'NOT_FOUND', 'no such card setup');
    const end = await cards.cancel(setupIntentId, 'requested_by_customer');
    await abandonedCardSetups!.settled(setupIntentId);
    if (end === 'succeeded') throw new HttpProblem(409, 'CARD_SETUP_COMPLETED', 'the payment provider confirmed this card already: it was not cancelled');
    sendJson(response, 200, { status: 'canceled' });
  }

  /** The card the PSP saved for the person's SetupIntent, as the PSP describes it, saved to their wallet with their token. */
  async function saveCard(request: IncomingMessage, response: ServerResponse, session: Session, setupIntentId: string): Promise<void> {
    const cards = cardsFor(session);
    if (!SETUP_INTENT_ID.test(setupIntentId)) throw new HttpProblem(404, 'NOT_FOUND', 'no such card setup');
    const { label } = validated(SaveMethodRequest, await readJson(request));
    const card = await cards.card(session.user.sub, setupIntentId).catch((error: unknown) => {
      if (error instanceof CardSetupProblem) throw new HttpProblem(error.status, error.code, error.message);
      throw error;
    });
    const upstream = await callService('wallet', `${upstreams.wallet}/v1/wallets/${encodeURIComponent(session.user.sub)}/payment-methods/cards`, {
      method: 'POST',
      headers: { authorization: `Bearer ${session.accessToken}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ ...card, ...(label ? { label } : {}) }),
    });
    if (upstream.status === 401) await sessions.end(session.id);
    if (upstream.ok) {
      await cards.saved(setupIntentId);
      await abandonedCardSetups!.settled(setupIntentId);
    }
    sendJson(response, upstream.status, await upstream.json().catch(() => ({})));
  }

  /**
   * The debit mandate the methods page shows before a bank account is saved (docs/pay-hub.md, "Bank
   * accounts"): SEPA's for an IBAN, or with `?scheme=us_bank_account` the ACH authorisation.
   */
  function bankMandate(response: ServerResponse, session: Session, scheme: string | null): void {
    if (session.user.role !== 'person') throw new HttpProblem(404, 'NOT_FOUND', 'no such resource');
    if (scheme !== null && scheme !== 'sepa_debit' && scheme !== 'us_bank_account')
      throw new HttpProblem(400, 'VALIDATION_FAILED', 'scheme must be sepa_debit or us_bank_account');
    sendJson(response, 200, scheme === 'us_bank_account' ? US_BANK_MANDATE : BANK_MANDATE);
  }

  /**
   * The person's acceptance of the mandate the page showed, attested by the hub for the wallet: the
   * text's version, the IP address (through the trusted proxies only) and user agent of the request
   * the hub received, and now; for this person and this account. The page cannot state any of it,
   * and the wallet takes the evidence from no one but the hub's key (docs/security.md, "Debit mandates").
   */
  async function mandateAttestation(
    request: IncomingMessage,
    session: Session,
    shownVersion: string,
    mandate: { textVersion: string },
    account: MandatedAccount,
  ): Promise<string> {
    if (!mandateSigner) throw new HttpProblem(503, 'MANDATE_ATTESTATION_OFF', 'this hub saves no bank accounts (HUB_SERVICE_SIGNING_JWK is not set)');
    if (shownVersion !== mandate.textVersion)
      throw new HttpProblem(409, 'MANDATE_TEXT_CHANGED', 'the mandate text has changed since the page showed it: read it again and accept it');
    const ipAddress = clientAddress(request, proxies);
    const userAgent = request.headers['user-agent']?.slice(0, 512);
    if (!ipAddress || !userAgent) throw new HttpProblem(400, 'MANDATE_UNRECORDABLE', 'the mandate acceptance needs your browser’s address and user agent');
    return mandateSigner.sign({ personId: session.user.sub, account: mandateAccountDigest(account), textVersion: mandate.textVersion, ipAddress, userAgent });
  }

  /** Saves a bank account to the person's wallet with their token and the hub's attestation of the mandate; the wallet's answer is the page's. */
  async function saveToWallet(
    response: ServerResponse,
    session: Session,
    route: 'bank-accounts' | 'us-bank-accounts',
    body: object,
    attestation: string,
  ): Promise<void> {
    const upstream = await callService('wallet', `${upstreams.wallet}/v1/wallets/${encodeURIComponent(session.user.sub)}/payment-methods/${route}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${session.accessToken}`,
        [MANDATE_ATTESTATION_HEADER]: attestation,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify(body),
    });
    if (upstream.status === 401) await sessions.end(session.id);
    sendJson(response, upstream.status, await upstream.json().catch(() => ({})));
  }

  /** An IBAN saved to the person's wallet with their acceptance of the mandate the page showed. Without the acceptance, nothing is saved. */
  async function saveBankAccount(request: IncomingMessage, response: ServerResponse, session: Session): Promise<void> {
    if (session.user.role !== 'person') throw new HttpProblem(404, 'NOT_FOUND', 'no such resource');
    const account = validated(SaveBankAccountRequest, await readJson(request));
    const attestation = await mandateAttestation(request, session, account.mandateTextVersion, BANK_MANDATE, { iban: account.iban });
    await saveToWallet(
      response,
      session,
      'bank-accounts',
      {
        iban: account.iban,
        holderName: account.holderName,
        holderEmail: account.holderEmail,
        ...(account.bic ? { bic: account.bic } : {}),
        ...(account.label ? { label: account.label } : {}),
      },
      attestation,
    );
  }

  /**
   * A US account (ACH) saved to the person's wallet under the ACH authorisation the page showed; the
   * wallet sets it up at the PSP and it waits for its micro-deposits (verified through
   * `/api/wallet/…/payment-methods/{id}/microdeposits`).
   */
  async function saveUsBankAccount(request: IncomingMessage, response: ServerResponse, session: Session): Promise<void> {
    if (session.user.role !== 'person') throw new HttpProblem(404, 'NOT_FOUND', 'no such resource');
    const account = validated(SaveUsBankAccountRequest, await readJson(request));
    const attestation = await mandateAttestation(request, session, account.mandateTextVersion, US_BANK_MANDATE, {
      routingNumber: account.routingNumber,
      accountNumber: account.accountNumber,
    });
    await saveToWallet(
      response,
      session,
      'us-bank-accounts',
      {
        routingNumber: account.routingNumber,
        accountNumber: account.accountNumber,
        accountType: account.accountType,
        holderName: account.holderName,
        ...(account.label ? { label: account.label } : {}),
      },
      attestation,
    );
  }

  const connectionsFor = (session: Session): BankConnections => {
    if (!bankConnections) throw new HttpProblem(404, 'BANK_CONNECTION_OFF', 'this hub links no bank accounts (STRIPE_SECRET_KEY is not set)');
    if (session.user.role !== 'person') throw new HttpProblem(404, 'NOT_FOUND', 'no such resource');
    return bankConnections;
  };

  /** A Financial Connections session for the person: the page frames the PSP's flow with its client secret. */
  async function beginBankConnection(response: ServerResponse, session: Session): Promise<void> {
    sendJson(response, 201, await connectionsFor(session).begin(session.user.sub));
  }

  /**
   * The account the person linked in their session, saved to their wallet (which checks the session
   * is theirs and has it verified at the PSP) under the ACH authorisation the page showed.
   */
  async function saveConnectedBankAccount(request: IncomingMessage, response: ServerResponse, session: Session, sessionId: string): Promise<void> {
    connectionsFor(session);
    if (!FINANCIAL_CONNECTIONS_SESSION_ID.test(sessionId)) throw new HttpProblem(404, 'NOT_FOUND', 'no such bank connection');
    const account = validated(SaveBankMandateRequest, await readJson(request));
    const attestation = await mandateAttestation(request, session, account.mandateTextVersion, US_BANK_MANDATE, { financialConnectionsSession: sessionId });
    await saveToWallet(
      response,
      session,
      'us-bank-accounts',
      { financialConnectionsSession: sessionId, holderName: account.holderName, ...(account.label ? { label: account.label } : {}) },
      attestation,
    );
  }

  const paypalFor = (session: Session): PayPalSetups => {
    if (!paypalSetups) throw new HttpProblem(404, 'PAYPAL_SETUP_OFF', 'this hub adds no PayPal accounts (PAYPAL_API_URL is not set)');
    if (session.user.role !== 'person') throw new HttpProblem(404, 'NOT_FOUND', 'no such resource');
    return paypalSetups;
  };

  /** A PayPal setup token for the person; the page sends them to PayPal's approval page. */
  async function beginPayPalSetup(response: ServerResponse, session: Session): Promise<void> {
    sendJson(response, 201, await paypalFor(session).begin(session.user.sub));
  }

  /** Back from PayPal: the approved account vaulted, and saved to the person's wallet as PayPal names it. */
  async function savePayPalAccount(request: IncomingMessage, response: ServerResponse, session: Session, setupTokenId: string): Promise<void> {
    const paypal = paypalFor(session);
    if (!SETUP_TOKEN_ID.test(setupTokenId)) throw new HttpProblem(404, 'NOT_FOUND', 'no such PayPal approval');
    const { label } = validated(SaveMethodRequest, await readJson(request));
    const account = await paypal.vault(session.user.sub, setupTokenId).catch((error: unknown) => {
      if (error instanceof PayPalSetupProblem) throw new HttpProblem(error.status, error.code, error.message);
      throw error;
    });
    const upstream = await callService('wallet', `${upstreams.wallet}/v1/wallets/${encodeURIComponent(session.user.sub)}/payment-methods/paypal-accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${session.accessToken}`, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ ...account, ...(label ? { label } : {}) }),
    });
    if (upstream.status === 401) await sessions.end(session.id);
    sendJson(response, upstream.status, await upstream.json().catch(() => ({})));
  }

  async function serveFile(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const relative = normalize(decodeURIComponent(path)).replace(/^([/\\])+/, '');
    let file = join(staticRoot, relative);
    if (!file.startsWith(staticRoot)) throw new HttpProblem(404, 'NOT_FOUND', 'no such file');
    let info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) {
      // The web app's own routes (/payments/…, /analytics) are pages of index.html; a missing asset is a 404.
      if (extname(relative) !== '') throw new HttpProblem(404, 'NOT_FOUND', 'no such file');
      file = join(staticRoot, 'index.html');
      info = await stat(file).catch(() => undefined);
      if (!info?.isFile()) throw new HttpProblem(503, 'WEB_APP_NOT_BUILT', `the web app is not built in ${config.HUB_STATIC_DIR}: run npm run build`);
    }
    response.statusCode = 200;
    response.setHeader('content-type', CONTENT_TYPES[extname(file)] ?? 'application/octet-stream');
    response.setHeader('cache-control', file.includes(`${join(staticRoot, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (request.method === 'HEAD') return void response.end();
    await pipeline(createReadStream(file), response);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    securityHeaders(response, policy);
    const url = new URL(request.url ?? '/', publicOrigin);
    const { pathname: path } = url;
    recordRoute(request, routeTemplate(request.method ?? 'GET', path));
    if (path === '/health/live') return sendJson(response, 200, { status: 'ok' });
    // Prometheus scrapes the pod (the Ingress routes no /metrics: it stays inside the cluster).
    if (path === '/metrics' && request.method === 'GET') return telemetry.prometheus.getMetricsRequestHandler(request, response);
    if (path === '/health/ready') {
      // Ready when the sessions' database answers: without it nobody is signed in.
      const database = await dataSource.query('SELECT 1').then(
        () => true,
        () => false,
      );
      return sendJson(response, database ? 200 : 503, { status: database ? 'ok' : 'unavailable', checks: { postgres: database ? 'up' : 'down' } });
    }
    if (path.startsWith('/api/') || path.startsWith('/bff/')) assertSameOrigin(request);

    if (path === '/bff/session' && request.method === 'GET') {
      const session = await sessionOf(request);
      const signIn = { mode: config.HUB_SIGN_IN };
      if (!session) return sendJson(response, 401, { signedIn: false, signIn });
      return sendJson(response, 200, { signedIn: true, signIn, user: session.user, expiresAt: new Date(session.expiresAt).toISOString() });
    }
    if (path === '/bff/dev-sign-in' && request.method === 'POST') {
      if (!development) throw new HttpProblem(404, 'NOT_FOUND', 'development sign-in is off');
      const { role, sub } = validated(DevSignInRequest, await readJson(request));
      await sessions.end(cookieOf(request, COOKIE));
      const session = await signIn(response, { sub, role }, await options.mintDevToken!({ sub, role }));
      return sendJson(response, 201, { signedIn: true, user: session.user, expiresAt: new Date(session.expiresAt).toISOString() });
    }
    if (path === '/bff/sign-out' && request.method === 'POST') {
      await sessions.end(cookieOf(request, COOKIE));
      setSessionCookie(response, undefined);
      return sendJson(response, 200, { signedIn: false });
    }
    if (path === '/bff/login' && request.method === 'GET') {
      if (!oidcClient) throw new HttpProblem(404, 'NOT_FOUND', 'OpenID Connect sign-in is off (HUB_SIGN_IN=development)');
      const { verifier, challenge } = pkcePair();
      const nonce = randomBytes(16).toString('base64url');
      const state = await sessions.beginSignIn({ codeVerifier: verifier, nonce, returnTo: '/' });
      response.statusCode = 302;
      response.setHeader('location', authorizationUrl(await providerMetadata(), oidcClient, { state, nonce, codeChallenge: challenge }));
      return void response.end();
    }
    if (path === '/bff/callback' && request.method === 'GET') {
      if (!oidcClient) throw new HttpProblem(404, 'NOT_FOUND', 'OpenID Connect sign-in is off');
      const pending = await sessions.takeSignIn(url.searchParams.get('state') ?? '');
      const code = url.searchParams.get('code');
      if (!pending || !code) throw new HttpProblem(400, 'SIGN_IN_FAILED', 'this sign-in is unknown, used or expired: sign in again');
      const tokens = await exchangeCode(await providerMetadata(), oidcClient, code, pending.codeVerifier, pending.nonce).catch((error: unknown) => {
        log(`pay-hub: a sign-in failed: ${(error as Error).message}`);
        throw new HttpProblem(400, 'SIGN_IN_FAILED', 'the identity provider did not confirm this sign-in: sign in again');
      });
      const claims = decodeJwt(tokens.accessToken);
      if (typeof claims.sub !== 'string' || (claims.role !== 'person' && claims.role !== 'analyst' && claims.role !== 'support')) {
        throw new HttpProblem(403, 'ROLE_NOT_SERVED', 'the Pay Hub serves persons, analysts and support agents');
      }
      await sessions.end(cookieOf(request, COOKIE));
      await signIn(response, { sub: claims.sub, role: claims.role }, tokens.accessToken, tokens.expiresAt);
      response.statusCode = 302;
      response.setHeader('location', pending.returnTo);
      return void response.end();
    }
    if (path === '/bff/dev-shop/purchases' && request.method === 'POST') return shopPurchase(request, response, await requireSession(request));
    if (path === '/bff/card-setups' && request.method === 'POST') return beginCardSetup(response, await requireSession(request));
    if (path === '/bff/bank-mandate' && request.method === 'GET') return bankMandate(response, await requireSession(request), url.searchParams.get('scheme'));
    if (path === '/bff/bank-accounts' && request.method === 'POST') return saveBankAccount(request, response, await requireSession(request));
    if (path === '/bff/us-bank-accounts' && request.method === 'POST') return saveUsBankAccount(request, response, await requireSession(request));
    if (path === '/bff/bank-connections' && request.method === 'POST') return beginBankConnection(response, await requireSession(request));
    const bankConnection = /^\/bff\/bank-connections\/([^/]+)\/account$/.exec(path);
    if (bankConnection && request.method === 'POST') return saveConnectedBankAccount(request, response, await requireSession(request), bankConnection[1]);
    const cardSetup = /^\/bff\/card-setups\/([^/]+)\/card$/.exec(path);
    if (cardSetup && request.method === 'POST') return saveCard(request, response, await requireSession(request), cardSetup[1]);
    const cardSetupCancel = /^\/bff\/card-setups\/([^/]+)\/cancel$/.exec(path);
    if (cardSetupCancel && request.method === 'POST') return cancelCardSetup(response, await requireSession(request), cardSetupCancel[1]);
    if (path === '/bff/paypal-setups' && request.method === 'POST') return beginPayPalSetup(response, await requireSession(request));
    const paypalSetup = /^\/bff\/paypal-setups\/([^/]+)\/account$/.exec(path);
    if (paypalSetup && request.method === 'POST') return savePayPalAccount(request, response, await requireSession(request), paypalSetup[1]);
    const agentRefundOf = AGENT_REFUND_PATH.exec(path);
    if (agentRefundOf && request.method === 'POST') return agentRefund(request, response, await requireSession(request), agentRefundOf[1]);
    if (path.startsWith('/api/')) return forward(request, response, await requireSession(request), path, url.search);
    if (path.startsWith('/bff/')) throw new HttpProblem(404, 'NOT_FOUND', 'no such resource');
    if (request.method !== 'GET' && request.method !== 'HEAD') throw new HttpProblem(405, 'METHOD_NOT_ALLOWED', 'pages are read with GET');
    return serveFile(request, response, path);
  }

  // One SERVER span per request (continuing the page's traceparent, if any) and its latency by route template.
  const server = createServer((request, response) => observe(request, response, () => serve(request, response)));
  const serve = (request: IncomingMessage, response: ServerResponse): void => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) return void response.destroy();
      if (error instanceof InvalidRequestError) return sendJson(response, 400, { code: 'VALIDATION_FAILED', message: error.message, details: error.details });
      if (error instanceof HttpProblem)
        return sendJson(response, error.status, { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) });
      const id = randomUUID();
      log(`pay-hub: request ${id} failed: ${(error as Error).message}`);
      sendJson(response, 502, { code: 'UPSTREAM_FAILED', message: `the hub could not complete the request (${id})` });
    });
  };
  /**
   * Who may open the support chat's WebSocket through the hub: a support agent's session, from the
   * hub's own origin (a page of another site cannot ride the cookie).
   */
  async function supportSocketSession(request: IncomingMessage, url: URL): Promise<Session> {
    if (url.pathname !== SUPPORT_SOCKET_PATH) throw new HttpProblem(404, 'NOT_FOUND', 'no such resource');
    if (request.headers.origin !== publicOrigin) throw new HttpProblem(403, 'CROSS_ORIGIN_REFUSED', "the support chat opens from the hub's pages");
    const session = await requireSession(request);
    if (!maySupportSocket(session.user)) throw new HttpProblem(404, 'NOT_FOUND', 'no such resource');
    return session;
  }

  /** The support chat's WebSocket for agents: opened to the support service with the session's access token, then relayed byte for byte. */
  async function relaySupportSocket(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(request.url ?? '/', publicOrigin);
    const session = await supportSocketSession(request, url);
    relayUpgrade(request, socket, head, new URL(`/socket.io/${url.search}`, upstreams.support), session.accessToken);
  }

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    relaySupportSocket(request, socket, head).catch((error: unknown) => refuseUpgrade(socket, error instanceof HttpProblem ? error.status : 502));
  });

  // Unless HOST says otherwise, every interface, IPv4 and IPv6: browsers may open localhost as ::1.
  await new Promise<void>((done) => (config.HOST === undefined ? server.listen(config.PORT, done) : server.listen(config.PORT, config.HOST, done)));
  const port = (server.address() as AddressInfo).port;
  // One sweep now (setups left by earlier processes or other replicas), then only when one comes due.
  await abandonedCardSetups?.start();
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    sessions,
    dataSource,
    ...(abandonedCardSetups ? { abandonedCardSetups } : {}),
    close: async (graceMs = CLOSE_GRACE_MS) => {
      // Stop accepting, let the requests in hand finish (a CSV export streams), then cut what is left.
      const closed = new Promise<void>((done) => server.close(() => done()));
      server.closeIdleConnections();
      const cut = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(cut);
      await abandonedCardSetups?.stop();
      await closeServiceDataSource(dataSource);
    },
  };
}
