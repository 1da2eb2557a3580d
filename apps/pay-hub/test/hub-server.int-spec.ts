/**
 * The hub's server over HTTP, as a browser uses it: sessions in an HttpOnly cookie, requests from
 * other sites refused, forwarding by role, and OpenID Connect's code flow with PKCE against an
 * identity provider stand-in (discovery, token endpoint, keys) that checks the verifier as a real
 * one does. The services are stand-ins that record what reaches them.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { AccessTokenVerifier, MANDATE_ATTESTATION_HEADER, mandateAccountDigest, parseKeyGrants, REFUND_APPROVAL_HEADER } from '@pay/auth';
import { loadConfig } from '@pay/config';
import type { TestSchema } from '@pay/testing';
import { createTestSchema } from '@pay/testing';
import type { Socket as ClientSocket } from 'socket.io-client';
import { io } from 'socket.io-client';
import { Server as SocketServer } from 'socket.io';
import type { PspSimulator } from '@pay/psp-simulator';
import { PAYPAL_SIMULATOR_DEFAULTS, startPspSimulator } from '@pay/psp-simulator';
import { PayHubConfig } from '../src/config';
import { payHubMigrations } from '../src/database/migrations';
import type { RunningPayHub } from '../src/hub-server';
import { startPayHub } from '../src/hub-server';

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  idempotencyKey?: string;
  body?: unknown;
  refundApproval?: string;
}

async function listen(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** A service stand-in: records each request (and the trace context it came with), answers 200 (or 401 for the token `expired`). */
async function startUpstream(): Promise<{ server: Server; url: string; seen: Seen[]; traceparents: Array<string | undefined> }> {
  const seen: Seen[] = [];
  const traceparents: Array<string | undefined> = [];
  const { server, url } = await listen((request, response) => {
    traceparents.push(request.headers.traceparent as string | undefined);
    const key = request.headers['idempotency-key'];
    const approval = request.headers[REFUND_APPROVAL_HEADER];
    void readBody(request).then((body) => {
      seen.push({
        method: request.method!,
        url: request.url!,
        authorization: request.headers.authorization,
        ...(key ? { idempotencyKey: String(key) } : {}),
        ...(approval ? { refundApproval: String(approval), body: JSON.parse(body) as unknown } : {}),
      });
      response.setHeader('content-type', 'application/json');
      if (request.headers.authorization === 'Bearer expired') {
        response.statusCode = 401;
        return void response.end(JSON.stringify({ code: 'UNAUTHORIZED' }));
      }
      response.end(JSON.stringify({ ok: true }));
    });
  });
  return { server, url, seen, traceparents };
}

/** An OpenID provider stand-in: a code is redeemed once, with the verifier whose S256 is the challenge it was issued for. */
async function startProvider(clientId: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' };
  const codes = new Map<string, { challenge: string; nonce: string; sub: string; role: string; redirectUri: string }>();
  let issuer = '';
  const sign = (claims: Record<string, unknown>, audience: string, sub: string) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'idp-1' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
  const { server, url } = await listen((request, response) => {
    void (async () => {
      response.setHeader('content-type', 'application/json');
      if (request.url === '/.well-known/openid-configuration') {
        return response.end(
          JSON.stringify({ issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks` }),
        );
      }
      if (request.url === '/jwks') return response.end(JSON.stringify({ keys: [jwk] }));
      if (request.url === '/token' && request.method === 'POST') {
        const form = new URLSearchParams(await readBody(request));
        const grant = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? '');
        const verifier = form.get('code_verifier') ?? '';
        if (
          !grant ||
          form.get('client_id') !== clientId ||
          form.get('redirect_uri') !== grant.redirectUri ||
          createHash('sha256').update(verifier).digest('base64url') !== grant.challenge
        ) {
          response.statusCode = 400;
          return response.end(JSON.stringify({ error: 'invalid_grant' }));
        }
        return response.end(
          JSON.stringify({
            access_token: await sign({ role: grant.role }, 'pay-api', grant.sub),
            id_token: await sign({ nonce: grant.nonce }, clientId, grant.sub),
            token_type: 'Bearer',
            expires_in: 300,
          }),
        );
      }
      response.statusCode = 404;
      response.end('{}');
    })();
  });
  issuer = url;
  return {
    server,
    issuer,
    /** What the provider does after the person authenticated: a code for the authorization request at `location`. */
    authorize(location: string, sub: string, role: string): string {
      const query = new URL(location).searchParams;
      const code = randomUUID();
      codes.set(code, { challenge: query.get('code_challenge')!, nonce: query.get('nonce')!, sub, role, redirectUri: query.get('redirect_uri')! });
      return code;
    },
  };
}

const cookieOf = (response: Response): string => (response.headers.get('set-cookie') ?? '').split(';')[0];

describe("the hub's server", () => {
  let wallet: Awaited<ReturnType<typeof startUpstream>>;
  let history: Awaited<ReturnType<typeof startUpstream>>;
  let support: Awaited<ReturnType<typeof startUpstream>> & { chat: SocketServer; handshakes: Array<string | undefined> };
  let hub: RunningPayHub;
  let database: TestSchema;
  const minted: string[] = [];
  /** As orchestration verifies the hub's approvals of agents' refunds: the hub's key, its grant holding refunds:approve. */
  let approvals: AccessTokenVerifier;

  const hubConfig = (extra: Record<string, string>) =>
    loadConfig('pay-hub', PayHubConfig, {
      NODE_ENV: 'test',
      PORT: '0',
      DATABASE_URL: database.url,
      DB_SCHEMA: database.schema,
      WALLET_URL: wallet.url,
      HISTORY_URL: history.url,
      SUPPORT_URL: support.url,
      ORCHESTRATION_URL: wallet.url,
      HUB_STATIC_DIR: '/nonexistent',
      ...extra,
    });

  beforeAll(async () => {
    database = await createTestSchema('hub_server', payHubMigrations, 2);
    wallet = await startUpstream();
    history = await startUpstream();
    // The support service stand-in: its HTTP routes, and its chat (socket.io, namespace /support) answering pings.
    const desk = await startUpstream();
    const handshakes: Array<string | undefined> = [];
    const chat = new SocketServer(desk.server, { serveClient: false });
    chat.of('/support').on('connection', (socket) => {
      handshakes.push(socket.handshake.headers.authorization);
      socket.on('ping.me', (payload: unknown, ack: (answer: unknown) => void) => ack({ pong: payload }));
    });
    support = { ...desk, chat, handshakes };
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    approvals = new AccessTokenVerifier({
      jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'pay-hub-approvals', alg: 'ES256', use: 'sig' }] },
      keyGrants: parseKeyGrants(JSON.stringify({ 'pay-hub-approvals': { subjects: ['pay-hub'], roles: ['service'], scopes: ['refunds:approve'] } })),
      issuer: 'https://id.pay.local',
      audience: 'pay-api',
    });
    hub = await startPayHub({
      config: hubConfig({
        HUB_SIGN_IN: 'development',
        HUB_DEV_SIGNING_JWK: '{"kty":"EC","d":"-"}',
        HUB_SERVICE_SIGNING_JWK: JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'pay-hub-approvals', alg: 'ES256' }),
      }),
      mintDevToken: async ({ sub, role }) => {
        const token = sub === 'expired-person' ? 'expired' : `dev-${role}-${sub}-${randomUUID()}`;
        minted.push(token);
        return token;
      },
      log: () => undefined,
    });
  });

  afterAll(async () => {
    await hub.close();
    wallet.server.close();
    history.server.close();
    await database.drop();
    await support.chat.close();
  });

  const call = (path: string, init: RequestInit & { cookie?: string } = {}) =>
    fetch(`${hub.url}${path}`, {
      ...init,
      redirect: 'manual',
      headers: {
        ...(init.body ? { 'content-type': 'application/json' } : {}),
        'x-pay-hub': '1',
        ...(init.cookie ? { cookie: init.cookie } : {}),
        ...(init.headers as Record<string, string>),
      },
    });
  const signIn = async (role: string, sub: string): Promise<string> => {
    const response = await call('/bff/dev-sign-in', { method: 'POST', body: JSON.stringify({ role, sub }) });
    expect(response.status).toBe(201);
    return cookieOf(response);
  };

  it('signs in with an HttpOnly, SameSite=Strict cookie and never hands the token to the page', async () => {
    const response = await call('/bff/dev-sign-in', { method: 'POST', body: JSON.stringify({ role: 'person', sub: 'p-1' }) });
    expect(response.status).toBe(201);
    const setCookie = response.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^pay_hub_session=[A-Za-z0-9_-]{43}; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Strict$/);
    const text = await response.text();
    expect(text).not.toContain(minted[minted.length - 1]);
    const session = await call('/bff/session', { cookie: cookieOf(response) });
    expect(await session.json()).toMatchObject({ signedIn: true, user: { sub: 'p-1', role: 'person' } });
    // A hub that adds no cards runs its own scripts only and frames nothing.
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self';");
    expect(response.headers.get('content-security-policy')).toContain("frame-src 'none';");
  });

  it('refuses a change without the hub header or from another origin, and a body that is not the shape', async () => {
    const before = await hub.sessions.get('x');
    expect(before).toBeUndefined();
    const noHeader = await fetch(`${hub.url}/bff/dev-sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'person', sub: 'p-1' }),
    });
    expect(noHeader.status).toBe(403);
    expect(noHeader.headers.get('set-cookie')).toBeNull();
    const foreign = await call('/bff/dev-sign-in', {
      method: 'POST',
      headers: { origin: 'https://evil.example' },
      body: JSON.stringify({ role: 'person', sub: 'p-1' }),
    });
    expect(foreign.status).toBe(403);
    const bad = await call('/bff/dev-sign-in', { method: 'POST', body: JSON.stringify({ role: 'operator', sub: 'p 1', extra: true }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { details: string[] }).details).toEqual(
      expect.arrayContaining(['role must be person, analyst or support', expect.stringMatching(/^sub must be/), 'property extra should not exist']),
    );
  });

  it("forwards a person's own routes with their token, and answers 404 for anyone else's without calling the service", async () => {
    const cookie = await signIn('person', 'p-2');
    const token = minted[minted.length - 1];
    const own = await call('/api/wallet/v1/wallets/p-2/payment-methods', { cookie });
    expect(own.status).toBe(200);
    expect(wallet.seen.at(-1)).toEqual({ method: 'GET', url: '/v1/wallets/p-2/payment-methods', authorization: `Bearer ${token}` });
    const calls = wallet.seen.length + history.seen.length;
    for (const path of [
      '/api/wallet/v1/wallets/p-1',
      '/api/history/v1/history/persons/p-1/entries',
      '/api/history/v1/history/entries',
      '/api/wallet/v1/ledger/accounts/a',
    ]) {
      expect((await call(path, { cookie })).status).toBe(404);
    }
    expect(wallet.seen.length + history.seen.length).toBe(calls);
    const put = await call('/api/wallet/v1/wallets/p-2/apps/instagram', { cookie, method: 'PUT', body: JSON.stringify({ enabled: true }) });
    expect(put.status).toBe(200);
    expect(wallet.seen.at(-1)).toMatchObject({ method: 'PUT', url: '/v1/wallets/p-2/apps/instagram' });
    expect((await call('/api/wallet/v1/wallets/p-2', { cookie: 'pay_hub_session=forged' })).status).toBe(401);
  });

  it("forwards an analyst's history queries with their filters, and no wallet route", async () => {
    const cookie = await signIn('analyst', 'a-1');
    expect((await call('/api/history/v1/history/aggregates?app=instagram&interval=day', { cookie })).status).toBe(200);
    expect(history.seen.at(-1)).toMatchObject({
      url: '/v1/history/aggregates?app=instagram&interval=day',
      authorization: `Bearer ${minted[minted.length - 1]}`,
    });
    expect((await call('/api/wallet/v1/wallets/a-1', { cookie })).status).toBe(404);
  });

  it("forwards a support agent's desk and chat WebSocket with their token; a person and an analyst reach neither", async () => {
    const cookie = await signIn('support', 'agent-1');
    const token = minted[minted.length - 1];
    const id = randomUUID();
    expect((await call('/api/support/v1/support/queue?country=US', { cookie })).status).toBe(200);
    expect(support.seen.at(-1)).toEqual({ method: 'GET', url: '/v1/support/queue?country=US', authorization: `Bearer ${token}` });
    expect((await call(`/api/support/v1/support/conversations/${id}/close`, { cookie, method: 'POST', body: '{"reason":"resolved"}' })).status).toBe(200);
    expect(support.seen.at(-1)).toMatchObject({ method: 'POST', url: `/v1/support/conversations/${id}/close` });
    // The refund of the conversation's payment, with the agent's Idempotency-Key passed on and the
    // hub's approval of exactly what the page stated (this agent, conversation, payment, amount, key).
    const key = randomUUID();
    const amount = { amount: '1250', currency: 'USD' };
    const refund = await call(`/api/support/v1/support/conversations/${id}/refunds`, {
      cookie,
      method: 'POST',
      headers: { 'idempotency-key': key },
      body: JSON.stringify({ paymentId: 'pay-desk-1', amount, reason: 'requested_by_customer' }),
    });
    expect(refund.status).toBe(200);
    const forwarded = support.seen.at(-1)!;
    expect(forwarded).toEqual({
      method: 'POST',
      url: `/v1/support/conversations/${id}/refunds`,
      authorization: `Bearer ${token}`,
      idempotencyKey: key,
      refundApproval: expect.any(String),
      body: { amount, reason: 'requested_by_customer' },
    });
    expect(await approvals.verifyRefundApproval(forwarded.refundApproval!)).toEqual({
      conversationId: id,
      agentId: 'agent-1',
      paymentId: 'pay-desk-1',
      idempotencyKey: key,
      amount,
      approvalId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      expiresAt: expect.any(Date),
    });
    const before = support.seen.length;
    // Without the payment or the exact amount the page states, nothing is approved nor forwarded.
    for (const body of [
      { amount, reason: 'requested_by_customer' },
      { paymentId: 'pay-desk-1', reason: 'requested_by_customer' },
    ]) {
      const unstated = await call(`/api/support/v1/support/conversations/${id}/refunds`, {
        cookie,
        method: 'POST',
        headers: { 'idempotency-key': randomUUID() },
        body: JSON.stringify(body),
      });
      expect(unstated.status).toBe(400);
    }
    expect(support.seen.length).toBe(before);
    const badKey = await call(`/api/support/v1/support/conversations/${id}/refunds`, {
      cookie,
      method: 'POST',
      headers: { 'idempotency-key': 'not a key; drop table' },
      body: '{"reason":"requested_by_customer"}',
    });
    expect(badKey.status).toBe(400);
    expect(await badKey.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_INVALID' });
    expect(support.seen.length).toBe(before);
    // Not the agents' desk (a person's routes), nor another service.
    const calls = wallet.seen.length + history.seen.length + support.seen.length;
    for (const [method, path] of [
      ['POST', '/api/support/v1/support/conversations'],
      ['GET', '/api/support/v1/support/persons/p-1/conversations/export'],
      ['GET', `/api/support/v1/support/conversations/${id}/refunds`],
      ['GET', '/api/wallet/v1/wallets/agent-1'],
      ['GET', '/api/history/v1/history/entries'],
    ]) {
      expect((await call(path, { cookie, method, ...(method === 'POST' ? { body: '{}' } : {}) })).status).toBe(404);
    }
    expect(wallet.seen.length + history.seen.length + support.seen.length).toBe(calls);

    // The chat through the hub: the service sees the agent's token, the browser never had it.
    const agentSocket = chatThroughHub(cookie);
    try {
      await new Promise<void>((resolve, reject) => agentSocket.once('connect', resolve).once('connect_error', reject));
      expect(await agentSocket.timeout(5_000).emitWithAck('ping.me', 'hello')).toEqual({ pong: 'hello' });
      expect(support.handshakes.at(-1)).toBe(`Bearer ${token}`);
    } finally {
      agentSocket.disconnect();
    }

    // A person and an analyst: no desk route reaches the service, and no WebSocket.
    const handshakes = support.handshakes.length;
    for (const [role, sub] of [
      ['person', 'p-9'],
      ['analyst', 'a-9'],
    ]) {
      const other = await signIn(role, sub);
      const before = support.seen.length;
      expect((await call('/api/support/v1/support/queue', { cookie: other })).status).toBe(404);
      expect((await call(`/api/support/v1/support/conversations/${id}/payment`, { cookie: other })).status).toBe(404);
      const refund = await call(`/api/support/v1/support/conversations/${id}/refunds`, {
        cookie: other,
        method: 'POST',
        headers: { 'idempotency-key': randomUUID() },
        body: '{"reason":"requested_by_customer"}',
      });
      expect(refund.status).toBe(404);
      expect(support.seen.length).toBe(before);
      const refused = chatThroughHub(other);
      await expect(new Promise<void>((resolve, reject) => refused.once('connect', () => resolve()).once('connect_error', reject))).rejects.toThrow();
      refused.disconnect();
    }
    // Signed out, or from another site's page: refused too.
    for (const socket of [chatThroughHub(undefined), chatThroughHub(cookie, 'https://evil.example')]) {
      await expect(new Promise<void>((resolve, reject) => socket.once('connect', () => resolve()).once('connect_error', reject))).rejects.toThrow();
      socket.disconnect();
    }
    expect(support.handshakes.length).toBe(handshakes);
  });

  /** A socket.io client as the hub's page opens the chat (WebSocket transport, the session cookie, the hub's public origin: HUB_PUBLIC_URL's default here). */
  const chatThroughHub = (cookie: string | undefined, origin = 'http://127.0.0.1:3000'): ClientSocket =>
    io(`${hub.url}/support`, {
      path: '/api/support/socket.io/',
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { origin, ...(cookie ? { cookie } : {}) },
    });

  /** A bare WebSocket handshake to the hub: the status line it answers when it does not switch protocols. */
  const handshakeStatus = (path: string, headers: Record<string, string>): Promise<string> =>
    new Promise((resolve, reject) => {
      const handshake = httpRequest(`${hub.url}${path}`, {
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': randomBytes(16).toString('base64'),
          ...headers,
        },
      });
      handshake.on('response', (answer) => {
        answer.resume();
        resolve(`${answer.statusCode} ${answer.statusMessage}`);
      });
      handshake.on('upgrade', (_answer, socket) => {
        socket.destroy();
        reject(new Error(`the hub relayed ${path}`));
      });
      handshake.on('error', reject).end();
    });

  it('refuses the chat handshake with the reason in its status line, and the service sees none of them', async () => {
    const agent = await signIn('support', 'agent-refusals');
    const person = await signIn('person', 'p-refusals');
    const chat = '/api/support/socket.io/?EIO=4&transport=websocket';
    const hubOrigin = 'http://127.0.0.1:3000';
    const handshakes = support.handshakes.length;
    expect(await handshakeStatus(chat, { origin: hubOrigin })).toBe('401 Unauthorized');
    expect(await handshakeStatus(chat, { origin: 'https://evil.example', cookie: agent })).toBe('403 Forbidden');
    expect(await handshakeStatus(chat, { cookie: agent })).toBe('403 Forbidden');
    expect(await handshakeStatus(chat, { origin: hubOrigin, cookie: person })).toBe('404 Not Found');
    expect(await handshakeStatus('/api/wallet/socket.io/?EIO=4&transport=websocket', { origin: hubOrigin, cookie: agent })).toBe('404 Not Found');
    expect(support.handshakes.length).toBe(handshakes);
  });

  it("continues the caller's trace to the service through a span of its own, and serves its metrics to Prometheus by route template", async () => {
    const cookie = await signIn('person', 'p-trace');
    const traceId = randomBytes(16).toString('hex');
    const pageSpan = randomBytes(8).toString('hex');
    const answer = await call('/api/wallet/v1/wallets/p-trace/payment-methods', { cookie, headers: { traceparent: `00-${traceId}-${pageSpan}-01` } });
    expect(answer.status).toBe(200);
    // The same trace, whose parent is the hub's CLIENT span, not the page's.
    const forwarded = wallet.traceparents.at(-1)!;
    expect(forwarded).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(forwarded).not.toContain(pageSpan);

    const metrics = await call('/metrics');
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/http_server_request_duration\w*_count\{[^}]*method="GET"[^}]*route="\/api\/wallet\/\{route\}"[^}]*status_code="200"[^}]*\} [1-9]/);
    expect(text).toMatch(/pay_hub_upstream_request_duration\w*_count\{[^}]*upstream="wallet"[^}]*status_code="200"[^}]*\} [1-9]/);
    expect(text).toMatch(/pay_hub_sign_ins_total\{[^}]*mode="development"[^}]*role="person"[^}]*\} [1-9]/);
    // No person id, payment id or raw path in a label.
    expect(text).not.toContain('p-trace');
    expect(text).not.toContain('/v1/wallets');
  });

  it('ends the session on sign-out, and when the service no longer accepts its token', async () => {
    const cookie = await signIn('person', 'p-3');
    expect((await call('/bff/sign-out', { method: 'POST', cookie })).headers.get('set-cookie')).toMatch(/^pay_hub_session=; Max-Age=0/);
    expect((await call('/api/wallet/v1/wallets/p-3', { cookie })).status).toBe(401);
    const expired = await signIn('person', 'expired-person');
    expect((await call('/api/wallet/v1/wallets/expired-person', { cookie: expired })).status).toBe(401);
    expect((await call('/bff/session', { cookie: expired })).status).toBe(401);
  });

  describe('with OpenID Connect', () => {
    let provider: Awaited<ReturnType<typeof startProvider>>;
    let oidcHub: RunningPayHub;

    beforeAll(async () => {
      provider = await startProvider('pay-hub-client');
      oidcHub = await startPayHub({
        config: hubConfig({ HUB_SIGN_IN: 'oidc', OIDC_ISSUER: provider.issuer, OIDC_CLIENT_ID: 'pay-hub-client', HUB_PUBLIC_URL: 'http://127.0.0.1:3999' }),
        log: () => undefined,
      });
    });

    afterAll(async () => {
      await oidcHub.close();
      provider.server.close();
    });

    const login = async (): Promise<string> => {
      const response = await fetch(`${oidcHub.url}/bff/login`, { redirect: 'manual' });
      expect(response.status).toBe(302);
      return response.headers.get('location')!;
    };
    const callback = (query: Record<string, string>) => fetch(`${oidcHub.url}/bff/callback?${new URLSearchParams(query).toString()}`, { redirect: 'manual' });

    it('signs in with the code flow and PKCE (S256), state and nonce; the session forwards the access token', async () => {
      const location = await login();
      const request = new URL(location).searchParams;
      expect(location.startsWith(`${provider.issuer}/authorize?`)).toBe(true);
      expect(request.get('code_challenge_method')).toBe('S256');
      expect(request.get('redirect_uri')).toBe('http://127.0.0.1:3999/bff/callback');
      const code = provider.authorize(location, 'p-oidc', 'person');
      const response = await callback({ code, state: request.get('state')! });
      expect(response.status).toBe(302);
      const cookie = cookieOf(response);
      const session = await fetch(`${oidcHub.url}/bff/session`, { headers: { cookie } });
      expect(await session.json()).toMatchObject({ signedIn: true, user: { sub: 'p-oidc', role: 'person' } });
      await fetch(`${oidcHub.url}/api/wallet/v1/wallets/p-oidc`, { headers: { cookie } });
      expect(wallet.seen.at(-1)!.authorization).toMatch(/^Bearer ey/);
      // The same callback again (replayed state) signs nobody in.
      expect((await callback({ code, state: request.get('state')! })).status).toBe(400);
      expect(
        (await fetch(`${oidcHub.url}/bff/dev-sign-in`, { method: 'POST', headers: { 'x-pay-hub': '1', 'content-type': 'application/json' }, body: '{}' }))
          .status,
      ).toBe(404);
    });

    it("in production with Stripe's own Stripe.js, serves a CSP that names Stripe's script, frame (3-D Secure included) and API origins, no wildcard", async () => {
      const production = await startPayHub({
        config: hubConfig({
          NODE_ENV: 'production',
          HUB_SIGN_IN: 'oidc',
          OIDC_ISSUER: provider.issuer,
          OIDC_CLIENT_ID: 'pay-hub-client',
          HUB_PUBLIC_URL: 'https://hub.pay.example.com',
          HUB_TRUSTED_PROXIES: '10.42.0.0/16',
          STRIPE_SECRET_KEY: 'rk_live_hubkey',
          STRIPE_PUBLISHABLE_KEY: 'pk_live_hubkey',
        }),
        log: () => undefined,
      });
      try {
        for (const path of ['/methods', '/bff/session']) {
          const csp = (await fetch(`${production.url}${path}`)).headers.get('content-security-policy')!;
          expect(csp).toContain("script-src 'self' https://js.stripe.com;");
          expect(csp).toContain('frame-src https://js.stripe.com https://hooks.stripe.com;');
          expect(csp).toContain("connect-src 'self' https://api.stripe.com;");
          expect(csp).not.toContain('*');
        }
      } finally {
        await production.close();
      }
    });

    it("refuses a code issued for another sign-in's challenge, and a role the hub does not serve", async () => {
      const first = await login();
      const second = await login();
      const code = provider.authorize(first, 'p-x', 'person');
      const swapped = await callback({ code, state: new URL(second).searchParams.get('state')! });
      expect(swapped.status).toBe(400);
      expect(swapped.headers.get('set-cookie')).toBeNull();
      const service = await login();
      const serviceCode = provider.authorize(service, 'shop', 'service');
      const refused = await callback({ code: serviceCode, state: new URL(service).searchParams.get('state')! });
      expect(refused.status).toBe(403);
      expect(refused.headers.get('set-cookie')).toBeNull();
    });
  });
  describe('adding a card and a PayPal account through the PSP (the simulator)', () => {
    let psp: PspSimulator;
    let pspHub: RunningPayHub;
    /** A wallet stand-in that keeps what the hub asked it to save. */
    const saves: Array<{ url: string; body: Record<string, unknown>; attestation?: string }> = [];
    let savingWallet: { server: Server; url: string };
    // The hub's own key (HUB_SERVICE_SIGNING_JWK), and a verifier as the wallet's: it trusts that key for mandates alone.
    let attestations: AccessTokenVerifier;
    let hubKey: JWK;

    beforeAll(async () => {
      psp = await startPspSimulator();
      savingWallet = await listen((request, response) => {
        void readBody(request).then((body) => {
          const attestation = request.headers[MANDATE_ATTESTATION_HEADER] as string | undefined;
          saves.push({ url: request.url!, body: JSON.parse(body || '{}') as Record<string, unknown>, ...(attestation ? { attestation } : {}) });
          response.statusCode = 201;
          response.setHeader('content-type', 'application/json');
          response.end(JSON.stringify({ id: randomUUID() }));
        });
      });
      const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
      hubKey = { ...(await exportJWK(privateKey)), kid: 'pay-hub-test', alg: 'ES256' };
      attestations = new AccessTokenVerifier({
        jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'pay-hub-test', alg: 'ES256', use: 'sig' }] },
        keyGrants: parseKeyGrants(JSON.stringify({ 'pay-hub-test': { subjects: ['pay-hub'], roles: ['service'], scopes: ['mandates:attest'] } })),
        issuer: 'https://id.pay.local',
        audience: 'pay-api',
      });
      pspHub = await startPayHub({
        config: hubConfig({
          HUB_SIGN_IN: 'development',
          HUB_DEV_SIGNING_JWK: '{"kty":"EC","d":"-"}',
          HUB_SERVICE_SIGNING_JWK: JSON.stringify(hubKey),
          // The test's requests come from this machine, standing in for the ingress.
          HUB_TRUSTED_PROXIES: '127.0.0.1, ::1',
          WALLET_URL: savingWallet.url,
          STRIPE_SECRET_KEY: 'sk_test_hubtest',
          STRIPE_PUBLISHABLE_KEY: 'pk_test_hubtest',
          STRIPE_API_HOST: psp.host,
          STRIPE_API_PORT: String(psp.port),
          STRIPE_API_PROTOCOL: 'http',
          STRIPE_JS_URL: `${psp.url}/v3`,
          PAYPAL_API_URL: psp.url,
          PAYPAL_CLIENT_ID: PAYPAL_SIMULATOR_DEFAULTS.clientId,
          PAYPAL_CLIENT_SECRET: PAYPAL_SIMULATOR_DEFAULTS.clientSecret,
        }),
        mintDevToken: async ({ sub, role }) => `dev-${role}-${sub}`,
        log: () => undefined,
      });
    });

    afterAll(async () => {
      await pspHub?.close();
      savingWallet.server.close();
      await psp.close();
    });

    const hubCall = (path: string, cookie: string, body: unknown = {}) =>
      fetch(`${pspHub.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-pay-hub': '1', cookie }, body: JSON.stringify(body) });
    const signInTo = async (role: string, sub: string): Promise<string> => cookieOf(await hubCall('/bff/dev-sign-in', '', { role, sub }));

    it("saves the card Stripe.js confirmed, as the PSP describes it, for its person only and once; the page's CSP lets Stripe.js's origin only run scripts and be framed", async () => {
      const owner = await signInTo('person', 'p-card');
      const other = await signInTo('person', 'p-other');
      const analyst = await signInTo('analyst', 'a-card');
      const begun = await hubCall('/bff/card-setups', owner);
      expect(begun.status).toBe(201);
      const csp = begun.headers.get('content-security-policy');
      expect(csp).toContain(`script-src 'self' ${new URL(psp.url).origin};`);
      expect(csp).toContain(`frame-src ${new URL(psp.url).origin};`);
      expect(csp).toContain("connect-src 'self';");
      const setup = (await begun.json()) as { setupIntentId: string; clientSecret: string; stripeJs: { url: string; publishableKey: string } };
      expect(setup.stripeJs).toEqual({ url: `${psp.url}/v3`, publishableKey: 'pk_test_hubtest' });
      expect((await hubCall('/bff/card-setups', analyst)).status).toBe(404);
      // Not confirmed at the PSP yet.
      expect((await hubCall(`/bff/card-setups/${setup.setupIntentId}/card`, owner)).status).toBe(409);

      // What Stripe.js's card frame sends the PSP, from the browser; the hub never sees it.
      const confirmed = await fetch(`${psp.url}/v1/setup_intents/${setup.setupIntentId}/confirm`, {
        method: 'POST',
        body: new URLSearchParams({
          key: 'pk_test_hubtest',
          client_secret: setup.clientSecret,
          'payment_method_data[type]': 'card',
          'payment_method_data[card][number]': '378282246310005',
          'payment_method_data[card][exp_month]': '7',
          'payment_method_data[card][exp_year]': '2031',
          'payment_method_data[card][cvc]': '1234',
        }),
      });
      expect(confirmed.status).toBe(200);

      for (const cookie of [other, analyst]) expect((await hubCall(`/bff/card-setups/${setup.setupIntentId}/card`, cookie)).status).toBe(404);
      expect((await hubCall('/bff/card-setups/not-an-id/card', owner)).status).toBe(404);
      expect((await hubCall(`/bff/card-setups/${setup.setupIntentId}/card`, owner, { label: 'x'.repeat(41) })).status).toBe(400);
      expect(saves).toEqual([]);
      const saved = await hubCall(`/bff/card-setups/${setup.setupIntentId}/card`, owner, { label: 'Travel card' });
      expect(saved.status).toBe(201);
      expect(saves).toEqual([
        {
          url: '/v1/wallets/p-card/payment-methods/cards',
          body: {
            pspToken: expect.stringMatching(/^pm_[A-Za-z0-9]{24}$/),
            customerId: expect.stringMatching(/^cus_[A-Za-z0-9]{24}$/),
            brand: 'amex',
            last4: '0005',
            expMonth: 7,
            expYear: 2031,
            country: 'US',
            label: 'Travel card',
          },
        },
      ]);
      expect((await hubCall(`/bff/card-setups/${setup.setupIntentId}/card`, owner)).status).toBe(409);
      expect(saves).toHaveLength(1);
      // The PaymentMethod is attached to a customer of the person's own, so each later payment can charge it again.
      const { pspToken, customerId } = saves[0].body as { pspToken: string; customerId: string };
      const state = psp.snapshot();
      expect(state.paymentMethods.find((method) => method.id === pspToken)?.customer).toBe(customerId);
      expect(state.customers.find((customer) => customer.id === customerId)?.metadata).toEqual({ pay_person: 'p-card' });
    });

    it('saves a bank account only with the acceptance of the mandate the page showed, recorded with the address and user agent the hub saw', async () => {
      saves.length = 0;
      const owner = await signInTo('person', 'p-bank');
      const analyst = await signInTo('analyst', 'a-bank');
      const read = (cookie: string) => fetch(`${pspHub.url}/bff/bank-mandate`, { headers: { 'x-pay-hub': '1', cookie } });
      const shown = (await (await read(owner)).json()) as { textVersion: string; text: string };
      expect(shown).toMatchObject({ textVersion: expect.any(String), text: expect.stringContaining('debit your account') });
      expect((await read(analyst)).status).toBe(404);

      const account = { iban: 'DE89 3704 0044 0532 0130 00', holderName: 'Ana Maria Silva', holderEmail: 'ana.silva@example.org', label: 'Salary account' };
      const save = (cookie: string, body: unknown, headers: Record<string, string> = {}) =>
        fetch(`${pspHub.url}/bff/bank-accounts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-pay-hub': '1', 'user-agent': 'PayHubTest/1.0 (X11; Linux)', cookie, ...headers },
          body: JSON.stringify(body),
        });
      // Not accepted, or accepted without saying which text, or a text the hub no longer shows: nothing saved.
      for (const body of [account, { ...account, mandateTextVersion: shown.textVersion, mandateAccepted: false }, { ...account, mandateAccepted: true }])
        expect((await save(owner, body)).status).toBe(400);
      const stale = await save(owner, { ...account, mandateTextVersion: 'pay-hub-sepa-2020-01', mandateAccepted: true });
      expect([stale.status, ((await stale.json()) as { code: string }).code]).toEqual([409, 'MANDATE_TEXT_CHANGED']);
      // The page cannot state the address it accepted from: a forged one is ignored (the right-most hop is the one the hub trusts).
      expect(
        (await save(owner, { ...account, mandateTextVersion: shown.textVersion, mandateAccepted: true, mandate: { ipAddress: '198.51.100.1' } })).status,
      ).toBe(400);
      expect((await save(analyst, { ...account, mandateTextVersion: shown.textVersion, mandateAccepted: true })).status).toBe(404);
      // SEPA requires the holder's e-mail: without it, or malformed, refused (naming the field, not echoing the value).
      for (const holderEmail of [undefined, 'ana.silva.example.org']) {
        const refused = await save(owner, { ...account, holderEmail, mandateTextVersion: shown.textVersion, mandateAccepted: true });
        const text = await refused.text();
        expect([refused.status, text]).toEqual([400, expect.stringContaining('holderEmail')]);
        expect(text).not.toContain('ana.silva.example.org');
      }
      expect(saves).toEqual([]);

      const saved = await save(
        owner,
        { ...account, mandateTextVersion: shown.textVersion, mandateAccepted: true },
        { 'x-forwarded-for': '203.0.113.9, 198.51.100.23' },
      );
      expect(saved.status).toBe(201);
      // The account, and beside it (never in the body) the hub's signed attestation of what it saw, for this person and account.
      expect(saves).toEqual([
        {
          url: '/v1/wallets/p-bank/payment-methods/bank-accounts',
          body: { iban: account.iban, holderName: account.holderName, holderEmail: account.holderEmail, label: account.label },
          attestation: expect.any(String),
        },
      ]);
      expect(await attestations.verifyMandateAttestation(saves[0].attestation!)).toEqual({
        personId: 'p-bank',
        account: mandateAccountDigest({ iban: account.iban }),
        textVersion: shown.textVersion,
        ipAddress: '198.51.100.23',
        userAgent: 'PayHubTest/1.0 (X11; Linux)',
        acceptedAt: expect.any(Date),
      });
    });

    it('saves a US bank account only under the ACH authorisation the page showed (not the SEPA one), with the address and user agent the hub saw', async () => {
      saves.length = 0;
      const owner = await signInTo('person', 'p-ach');
      const analyst = await signInTo('analyst', 'a-ach');
      const read = (cookie: string, scheme: string) => fetch(`${pspHub.url}/bff/bank-mandate?scheme=${scheme}`, { headers: { 'x-pay-hub': '1', cookie } });
      const shown = (await (await read(owner, 'us_bank_account')).json()) as { textVersion: string; text: string };
      expect(shown).toMatchObject({ textVersion: 'pay-hub-ach-2026-12', text: expect.stringContaining('by ACH') });
      const sepa = (await (await read(owner, 'sepa_debit')).json()) as { textVersion: string };
      expect(sepa.textVersion).not.toBe(shown.textVersion);
      expect((await read(owner, 'cheque')).status).toBe(400);
      expect((await read(analyst, 'us_bank_account')).status).toBe(404);

      const account = { routingNumber: '110000000', accountNumber: '000123456789', accountType: 'checking', holderName: 'Ana Maria Silva' };
      const save = (cookie: string, body: unknown) =>
        fetch(`${pspHub.url}/bff/us-bank-accounts`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-pay-hub': '1',
            'user-agent': 'PayHubTest/1.0 (X11; Linux)',
            'x-forwarded-for': '198.51.100.23',
            cookie,
          },
          body: JSON.stringify(body),
        });
      for (const body of [
        account,
        { ...account, mandateTextVersion: shown.textVersion, mandateAccepted: false },
        { ...account, routingNumber: '11000000', mandateTextVersion: shown.textVersion, mandateAccepted: true },
        { ...account, accountType: 'business', mandateTextVersion: shown.textVersion, mandateAccepted: true },
      ])
        expect((await save(owner, body)).status).toBe(400);
      const wrongText = await save(owner, { ...account, mandateTextVersion: sepa.textVersion, mandateAccepted: true });
      expect([wrongText.status, ((await wrongText.json()) as { code: string }).code]).toEqual([409, 'MANDATE_TEXT_CHANGED']);
      expect((await save(analyst, { ...account, mandateTextVersion: shown.textVersion, mandateAccepted: true })).status).toBe(404);
      expect(saves).toEqual([]);

      expect((await save(owner, { ...account, mandateTextVersion: shown.textVersion, mandateAccepted: true })).status).toBe(201);
      expect(saves).toEqual([{ url: '/v1/wallets/p-ach/payment-methods/us-bank-accounts', body: account, attestation: expect.any(String) }]);
      expect(await attestations.verifyMandateAttestation(saves[0].attestation!)).toMatchObject({
        personId: 'p-ach',
        account: mandateAccountDigest({ routingNumber: account.routingNumber, accountNumber: account.accountNumber }),
        textVersion: shown.textVersion,
        ipAddress: '198.51.100.23',
        userAgent: 'PayHubTest/1.0 (X11; Linux)',
      });
    });

    it('links a US account in a Financial Connections session of the person, and saves it under the ACH authorisation by the session alone', async () => {
      saves.length = 0;
      const owner = await signInTo('person', 'p-fc');
      const analyst = await signInTo('analyst', 'a-fc');
      const begun = await hubCall('/bff/bank-connections', owner);
      expect(begun.status).toBe(201);
      const { sessionId, clientSecret, elementUrl } = (await begun.json()) as { sessionId: string; clientSecret: string; elementUrl: string };
      expect(new URL(elementUrl).origin).toBe(new URL(psp.url).origin);
      // The session is on a customer made for the person (the wallet checks it before saving).
      const state = psp.snapshot();
      const session = state.financialConnectionsSessions.find((s) => s.id === sessionId)!;
      expect(session.client_secret).toBe(clientSecret);
      expect(state.customers.find((c) => c.id === session.account_holder.customer)?.metadata).toEqual({ pay_person: 'p-fc' });
      expect((await hubCall('/bff/bank-connections', analyst)).status).toBe(404);

      const mandate = (await (
        await fetch(`${pspHub.url}/bff/bank-mandate?scheme=us_bank_account`, { headers: { 'x-pay-hub': '1', cookie: owner } })
      ).json()) as {
        textVersion: string;
      };
      const save = (cookie: string, id: string, body: unknown) =>
        fetch(`${pspHub.url}/bff/bank-connections/${id}/account`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-pay-hub': '1', 'user-agent': 'PayHubTest/1.0', 'x-forwarded-for': '198.51.100.23', cookie },
          body: JSON.stringify(body),
        });
      const accepted = { holderName: 'Ana Maria Silva', mandateTextVersion: mandate.textVersion, mandateAccepted: true };
      expect((await save(owner, sessionId, { ...accepted, mandateAccepted: false })).status).toBe(400);
      expect((await save(owner, 'not-a-session', accepted)).status).toBe(404);
      expect((await save(analyst, sessionId, accepted)).status).toBe(404);
      expect(saves).toEqual([]);
      expect((await save(owner, sessionId, { ...accepted, label: 'Linked' })).status).toBe(201);
      expect(saves).toEqual([
        {
          url: '/v1/wallets/p-fc/payment-methods/us-bank-accounts',
          body: { financialConnectionsSession: sessionId, holderName: 'Ana Maria Silva', label: 'Linked' },
          attestation: expect.any(String),
        },
      ]);
      expect(await attestations.verifyMandateAttestation(saves[0].attestation!)).toMatchObject({
        personId: 'p-fc',
        account: mandateAccountDigest({ financialConnectionsSession: sessionId }),
        textVersion: mandate.textVersion,
        ipAddress: '198.51.100.23',
        userAgent: 'PayHubTest/1.0',
      });
    });

    it('saves the PayPal account its person approved at PayPal, as PayPal names it, once', async () => {
      saves.length = 0;
      const owner = await signInTo('person', 'p-paypal');
      const other = await signInTo('person', 'p-other');
      const begun = await hubCall('/bff/paypal-setups', owner);
      expect(begun.status).toBe(201);
      const { approveUrl } = (await begun.json()) as { approveUrl: string };
      const tokenId = new URL(approveUrl).searchParams.get('approval_session_id')!;
      expect((await hubCall(`/bff/paypal-setups/${tokenId}/account`, owner)).status).toBe(409);
      // The payer agrees on PayPal's page, which sends them back to the methods page.
      const agreed = await fetch(`${psp.url}/agreements/approve`, {
        method: 'POST',
        redirect: 'manual',
        body: new URLSearchParams({ approval_session_id: tokenId, decision: 'approve', email: 'ana@example.com' }),
      });
      expect(new URL(agreed.headers.get('location')!).pathname).toBe('/methods');
      expect((await hubCall(`/bff/paypal-setups/${tokenId}/account`, other)).status).toBe(404);
      expect(saves).toEqual([]);
      expect((await hubCall(`/bff/paypal-setups/${tokenId}/account`, owner)).status).toBe(201);
      expect(saves).toEqual([
        {
          url: '/v1/wallets/p-paypal/payment-methods/paypal-accounts',
          body: { payerId: expect.stringMatching(/^P[A-Z0-9]{12}$/), email: 'ana@example.com', vaultToken: psp.paypal.snapshot().vaultTokens[0].id },
        },
      ]);
      expect((await hubCall(`/bff/paypal-setups/${tokenId}/account`, owner)).status).toBe(409);
      expect(saves).toHaveLength(1);
    });
  });
});
