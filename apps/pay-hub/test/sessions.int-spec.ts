/**
 * The hub's sessions in PostgreSQL (its own schema): a session made by one replica serves on
 * another and survives a restart of all of them; sign-out anywhere ends it everywhere; expiry
 * holds; the table gives away neither the cookie nor the access token. The wallet is a stand-in
 * that records the token each forwarded call carries.
 */
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '@pay/config';
import type { TestSchema } from '@pay/testing';
import { createTestSchema, waitFor } from '@pay/testing';
import { PayHubConfig } from '../src/config';
import { payHubMigrations } from '../src/database/migrations';
import type { RunningPayHub } from '../src/hub-server';
import { startPayHub } from '../src/hub-server';
import { SessionStore } from '../src/sessions';

const MINUTE = 60_000;

describe("the hub's sessions in PostgreSQL", () => {
  let database: TestSchema;
  let wallet: { server: Server; url: string; tokens: string[]; held: Array<() => void> };
  const running: RunningPayHub[] = [];
  const clock = { now: Date.parse('2026-12-06T10:00:00Z') };
  let tokenCount = 0;

  beforeAll(async () => {
    database = await createTestSchema('hub_sessions', payHubMigrations, 2);
    const tokens: string[] = [];
    /** Answers to requests for the person p-held, held until the test releases them. */
    const held: Array<() => void> = [];
    const server = createServer((request, response) => {
      tokens.push(request.headers.authorization ?? '');
      response.setHeader('content-type', 'application/json');
      if (request.url?.startsWith('/v1/wallets/p-held')) held.push(() => response.end('{"ok":true}'));
      else response.end('{"ok":true}');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    wallet = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tokens, held };
  });

  afterAll(async () => {
    for (const hub of running) await hub.close().catch(() => undefined);
    await new Promise((done) => wallet.server.close(done));
    await database.drop();
  });

  /** A replica of the hub on the test's schema; it migrates nothing (the schema is made), as in a cluster. */
  async function replica(extra: Record<string, string> = {}): Promise<RunningPayHub> {
    const config = loadConfig('pay-hub', PayHubConfig, {
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: database.url,
      DB_SCHEMA: database.schema,
      DB_MIGRATE_ON_START: 'false',
      WALLET_URL: wallet.url,
      HISTORY_URL: wallet.url,
      HUB_STATIC_DIR: '/nonexistent',
      HUB_SIGN_IN: 'development',
      HUB_DEV_SIGNING_JWK: '{"kty":"EC","d":"-"}',
      HUB_SESSION_MINUTES: '30',
      ...extra,
    });
    const hub = await startPayHub({
      config,
      mintDevToken: async ({ sub }) => `token-${sub}-${++tokenCount}`,
      log: () => undefined,
      now: () => clock.now,
    });
    running.push(hub);
    return hub;
  }

  async function stop(hub: RunningPayHub): Promise<void> {
    await hub.close();
    running.splice(running.indexOf(hub), 1);
  }

  const call = (hub: RunningPayHub, path: string, cookie?: string, init: RequestInit = {}) =>
    fetch(`${hub.url}${path}`, {
      ...init,
      headers: { 'x-pay-hub': '1', ...(init.body ? { 'content-type': 'application/json' } : {}), ...(cookie ? { cookie } : {}) },
    });

  async function signIn(hub: RunningPayHub, sub: string): Promise<{ cookie: string; setCookie: string; token: string }> {
    const response = await call(hub, '/bff/dev-sign-in', undefined, { method: 'POST', body: JSON.stringify({ role: 'person', sub }) });
    expect(response.status).toBe(201);
    const setCookie = response.headers.get('set-cookie')!;
    return { cookie: setCookie.split(';')[0], setCookie, token: `token-${sub}-${tokenCount}` };
  }

  const sessionRows = async (subject: string): Promise<Array<{ id_hash: Buffer; sealed_access_token: Buffer }>> =>
    database.dataSource.query('SELECT id_hash, sealed_access_token FROM sessions WHERE subject = $1', [subject]);

  it('serves a session made by one replica on another, and after every replica restarted', async () => {
    const first = await replica();
    const second = await replica();
    const { cookie, token } = await signIn(first, 'p-replicas');

    const elsewhere = await call(second, '/api/wallet/v1/wallets/p-replicas', cookie);
    expect(elsewhere.status).toBe(200);
    expect(wallet.tokens.at(-1)).toBe(`Bearer ${token}`);

    await stop(first);
    await stop(second);
    const restarted = await replica();
    expect(await (await call(restarted, '/bff/session', cookie)).json()).toMatchObject({ signedIn: true, user: { sub: 'p-replicas', role: 'person' } });
    expect((await call(restarted, '/api/wallet/v1/wallets/p-replicas', cookie)).status).toBe(200);
    expect(wallet.tokens.at(-1)).toBe(`Bearer ${token}`);
    // Still only the person's own routes, whichever replica answers.
    expect((await call(restarted, '/api/wallet/v1/wallets/p-other', cookie)).status).toBe(404);
    await stop(restarted);
  });

  it('ends a session everywhere when the person signs out on one replica', async () => {
    const first = await replica();
    const second = await replica();
    const { cookie } = await signIn(first, 'p-sign-out');
    expect((await call(second, '/bff/session', cookie)).status).toBe(200);
    expect((await call(second, '/bff/sign-out', cookie, { method: 'POST' })).status).toBe(200);
    expect((await call(first, '/bff/session', cookie)).status).toBe(401);
    expect((await call(first, '/api/wallet/v1/wallets/p-sign-out', cookie)).status).toBe(401);
    expect(await sessionRows('p-sign-out')).toEqual([]);
    await stop(first);
    await stop(second);
  });

  it('keeps neither the cookie nor the access token readable in the table; the cookie is HttpOnly, SameSite=Strict and Secure over https', async () => {
    const hub = await replica({ HUB_PUBLIC_URL: 'https://hub.pay.example.com' });
    const { cookie, setCookie, token } = await signIn(hub, 'p-sealed');
    expect(setCookie).toMatch(/; Path=\/; HttpOnly; SameSite=Strict; Secure$/);
    const id = cookie.slice('pay_hub_session='.length);
    const [row] = await sessionRows('p-sealed');
    for (const stored of [row.id_hash, row.sealed_access_token]) {
      expect(stored.includes(Buffer.from(id))).toBe(false);
      expect(stored.includes(Buffer.from(token))).toBe(false);
    }
    // A row copied under another id (what a reader of the table could try) opens nothing.
    const forged = 'A'.repeat(43);
    await database.dataSource.query(
      `INSERT INTO sessions (id_hash, subject, role, sealed_access_token, expires_at)
       SELECT sha256(convert_to($1, 'UTF8')), subject, role, sealed_access_token, expires_at FROM sessions WHERE subject = $2`,
      [forged, 'p-sealed'],
    );
    expect((await call(hub, '/bff/session', `pay_hub_session=${forged}`)).status).toBe(401);
    await stop(hub);
  });

  it('serves a session until its end only, and deletes expired ones at the next sign-in', async () => {
    const hub = await replica();
    const { cookie } = await signIn(hub, 'p-expiring');
    clock.now += 29 * MINUTE;
    expect((await call(hub, '/bff/session', cookie)).status).toBe(200);
    clock.now += 1 * MINUTE;
    expect((await call(hub, '/bff/session', cookie)).status).toBe(401);
    expect((await call(hub, '/api/wallet/v1/wallets/p-expiring', cookie)).status).toBe(401);
    expect(await sessionRows('p-expiring')).toHaveLength(1);
    await signIn(hub, 'p-later');
    expect(await sessionRows('p-expiring')).toEqual([]);
    await stop(hub);
  });

  it('lets a request in hand finish when it stops, and accepts no new one', async () => {
    const hub = await replica();
    const { cookie } = await signIn(hub, 'p-held');
    const inHand = call(hub, '/api/wallet/v1/wallets/p-held', cookie);
    await waitFor(
      () => wallet.held.length,
      (count) => count === 1,
      { what: 'the forwarded request reaching the wallet' },
    );
    const stopping = stop(hub);
    await waitFor(
      () =>
        fetch(`${hub.url}/health/live`).then(
          () => 'accepted',
          () => 'refused',
        ),
      (outcome) => outcome === 'refused',
      { what: 'the stopping hub refusing new connections' },
    );
    wallet.held.shift()!();
    const answer = await inHand;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ ok: true });
    await stopping;
  });

  it("ends a session at the access token's expiry when that comes before its lifetime", async () => {
    const store = new SessionStore(database.dataSource, () => clock.now);
    const short = await store.create({ sub: 'p-short', role: 'person' }, 'token-short', 30 * MINUTE, clock.now + 5 * MINUTE);
    expect(short.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await store.get(short.id))?.accessToken).toBe('token-short');
    clock.now += 5 * MINUTE;
    expect(await store.get(short.id)).toBeUndefined();
    expect(await store.get(undefined)).toBeUndefined();
    expect(await store.get('not a session id')).toBeUndefined();
  });

  it('hands an OpenID Connect sign-in in progress to whichever replica gets the callback, once', async () => {
    const hub = await replica();
    const began = new SessionStore(hub.dataSource, () => clock.now);
    const other = new SessionStore(database.dataSource, () => clock.now);
    const state = await began.beginSignIn({ codeVerifier: 'verifier-of-this-sign-in', nonce: 'n-1', returnTo: '/' });
    expect(await other.takeSignIn(state)).toMatchObject({ codeVerifier: 'verifier-of-this-sign-in', nonce: 'n-1', returnTo: '/' });
    expect(await began.takeSignIn(state)).toBeUndefined();

    const late = await began.beginSignIn({ codeVerifier: 'v-2', nonce: 'n-2', returnTo: '/' });
    clock.now += 10 * MINUTE;
    expect(await other.takeSignIn(late)).toBeUndefined();
    await stop(hub);
  });
});
