/**
 * HttpWalletInstruments over real HTTP (node's http client with keep-alive, as in production)
 * against a loopback server standing in for the wallet's `POST /v1/payment-instruments/releases`:
 * concurrent lookups go in one request, each gets its own item's answer, and a request that fails
 * makes every lookup of it unavailable (the wallet's own behaviour is tested in
 * apps/wallet/test/instrument-releases.int-spec.ts, the two together in the e2e purchase tests).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '@pay/testing';
import { HttpWalletInstruments } from './http-wallet-instruments';
import type { InstrumentLookup, InstrumentRequest } from './wallet-instruments';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: { releases: InstrumentRequest[] };
}

type Answer = (body: Seen['body']) => { status: number; body: string } | 'hang';

const METHOD_ID = randomUUID();
const card = { methodId: METHOD_ID, kind: 'card', credentials: { pspToken: 'pm_1QdE2xLkdIwHu7ix0g1N2abc' } };

/** What the stand-in answers each ask, by the payment id's prefix; other ids get 404 PAYMENT_NOT_FOUND. */
function itemsAnswer(body: Seen['body']): { status: number; body: string } {
  return {
    status: 200,
    body: JSON.stringify({
      releases: body.releases.map(({ paymentId }) => {
        if (paymentId.startsWith('found')) return { paymentId, status: 200, instrument: { ...card } };
        if (paymentId.startsWith('broken')) return { paymentId, status: 200, instrument: { ...card, credentials: { pspToken: '4242424242424242' } } };
        if (paymentId.startsWith('captured')) return { paymentId, status: 409, code: 'PAYMENT_NOT_AWAITING_CHARGE', message: 'm' };
        if (paymentId.startsWith('unknown')) return { paymentId, status: 503, code: 'PAYMENT_NOT_KNOWN_YET', message: 'm', retryAfterSeconds: 1 };
        if (paymentId.startsWith('off')) return { paymentId, status: 403, code: 'PAY_NOT_ACTIVE_IN_APP', message: 'm', app: 'facebook' };
        return { paymentId, status: 404, code: 'PAYMENT_NOT_FOUND', message: 'm' };
      }),
    }),
  };
}

describe('HttpWalletInstruments: lookups issued together go to the wallet in one request', () => {
  let server: Server;
  let url: string;
  let seen: Seen[];
  let answer: Answer;
  const hanging: ServerResponse[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Seen['body'];
        seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
        const reply = answer(body);
        if (reply === 'hang') {
          hanging.push(response);
          return;
        }
        response.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
      });
    });
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  beforeEach(() => {
    seen = [];
    answer = itemsAnswer;
  });

  afterAll(async () => {
    for (const response of hanging) response.destroy();
    await new Promise((closed) => server.close(closed));
  });

  const instruments = (batching: ConstructorParameters<typeof HttpWalletInstruments>[3] = {}, timeoutMs = 5_000) =>
    new HttpWalletInstruments(url, { token: () => Promise.resolve('the.service.token') }, timeoutMs, batching);
  const ask = (paymentId: string): InstrumentRequest => ({ paymentId, personId: 'person-1', methodId: METHOD_ID, app: 'facebook' });

  it('sends the lookups of one turn of the event loop in one request, and gives each its own answer', async () => {
    const wallet = instruments();
    const ids = ['found-1', 'captured-1', 'unknown-1', 'off-1', 'stranger-1', 'broken-1', 'found-2'];
    const lookups = await Promise.all(ids.map((id) => wallet.lookup(ask(id))));

    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/payment-instruments/releases' });
    expect(seen[0].headers).toMatchObject({ authorization: 'Bearer the.service.token', 'content-type': 'application/json' });
    expect(seen[0].body).toEqual({ releases: ids.map(ask) });
    expect(lookups.map((lookup) => lookup.outcome)).toEqual(['found', 'refused', 'unavailable', 'refused', 'refused', 'unavailable', 'found']);
    expect(lookups[0]).toEqual({ outcome: 'found', instrument: card });
    expect(lookups[1]).toEqual({ outcome: 'refused', code: 'payment_not_awaiting_charge' });
    expect(lookups[2]).toEqual({ outcome: 'unavailable', reason: 'wallet answered 503 PAYMENT_NOT_KNOWN_YET' });
    expect(lookups[3]).toEqual({ outcome: 'refused', code: 'pay_not_active_in_app' });
    expect(lookups[4]).toEqual({ outcome: 'refused', code: 'payment_not_found' });
    // One item that breaks the PaymentInstrument contract spoils only itself, and its reason names no value.
    expect((lookups[5] as { reason: string }).reason).toMatch(/breaks the PaymentInstrument contract: .*credentials.pspToken/);
    expect(JSON.stringify(lookups[5])).not.toContain('4242424242424242');
  });

  it('sends a lone lookup at once, and lookups issued while a request is out as the next request', async () => {
    const wallet = instruments({ maxConcurrentRequests: 1 });
    expect(await wallet.lookup(ask('found-alone'))).toMatchObject({ outcome: 'found' });
    expect(seen.map((s) => s.body.releases.length)).toEqual([1]);

    // The first request hangs until released; three lookups issued meanwhile (in different turns) wait and go together.
    answer = (body) => (body.releases[0].paymentId === 'found-first' ? 'hang' : itemsAnswer(body));
    const first = wallet.lookup(ask('found-first'));
    await new Promise((turn) => setImmediate(turn));
    const next = [wallet.lookup(ask('found-a'))];
    await new Promise((turn) => setImmediate(turn));
    next.push(wallet.lookup(ask('found-b')), wallet.lookup(ask('captured-c')));
    // The first request reaches the wallet and hangs there; the three lookups issued meanwhile must not have
    // gone out on their own: the request list below, exact once all are answered, would show them.
    await waitFor(
      () => hanging.length,
      (held) => held === 1,
      { what: 'the first request held by the wallet' },
    );
    expect(seen.map((s) => s.body.releases.map((r) => r.paymentId))).toEqual([['found-alone'], ['found-first']]);
    hanging.shift()?.writeHead(200, { 'content-type': 'application/json' }).end(itemsAnswer(seen[1].body).body);
    expect(await first).toMatchObject({ outcome: 'found' });
    expect((await Promise.all(next)).map((lookup) => lookup.outcome)).toEqual(['found', 'found', 'refused']);
    expect(seen.map((s) => s.body.releases.map((r) => r.paymentId))).toEqual([['found-alone'], ['found-first'], ['found-a', 'found-b', 'captured-c']]);
  });

  it('splits more lookups than a request takes into several requests', async () => {
    const wallet = instruments({ maxBatchSize: 3 });
    const ids = Array.from({ length: 7 }, (_, i) => `found-${i}`);
    const lookups = await Promise.all(ids.map((id) => wallet.lookup(ask(id))));
    expect(lookups.every((lookup) => lookup.outcome === 'found')).toBe(true);
    expect(seen.flatMap((s) => s.body.releases.map((r) => r.paymentId)).sort()).toEqual([...ids].sort());
    expect(Math.max(...seen.map((s) => s.body.releases.length))).toBe(3);
  });

  const failures: Array<[string, Answer, RegExp]> = [
    ['a 5xx', () => ({ status: 500, body: '{"code":"INTERNAL"}' }), /^wallet answered 500 INTERNAL$/],
    ['a 401', () => ({ status: 401, body: '{"code":"UNAUTHENTICATED"}' }), /^wallet answered 401 UNAUTHENTICATED$/],
    ['a 403 of the whole request (the token lacks the scope)', () => ({ status: 403, body: '{"code":"FORBIDDEN"}' }), /^wallet answered 403 FORBIDDEN$/],
    ['an answer that is not JSON', () => ({ status: 200, body: '<html>' }), /breaks the InstrumentReleasesResponse contract/],
    ['an answer without an item per ask', () => ({ status: 200, body: '{"releases":[]}' }), /2 releases were asked for, 0 answered/],
    [
      'items in another order',
      (body) => {
        const items = (JSON.parse(itemsAnswer(body).body) as { releases: unknown[] }).releases.reverse();
        return { status: 200, body: JSON.stringify({ releases: items }) };
      },
      /answers another payment than the one asked for/,
    ],
    ['no answer in time', () => 'hang', /^wallet unreachable: /],
  ];

  it.each(failures)('makes every lookup of the request unavailable on %s', async (_what, failing, reason) => {
    answer = failing;
    const wallet = instruments({}, 300);
    const lookups: InstrumentLookup[] = await Promise.all([wallet.lookup(ask('found-1')), wallet.lookup(ask('captured-1'))]);
    expect(seen).toHaveLength(1);
    for (const lookup of lookups) {
      expect(lookup.outcome).toBe('unavailable');
      expect((lookup as { reason: string }).reason).toMatch(reason);
    }
  });

  it('makes every lookup unavailable when the wallet cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((listening) => closed.listen(0, '127.0.0.1', listening));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    const wallet = new HttpWalletInstruments(`http://127.0.0.1:${port}`, { token: () => Promise.resolve(undefined) }, 1_000);
    const lookups = await Promise.all([wallet.lookup(ask('found-1')), wallet.lookup(ask('found-2'))]);
    expect(lookups.map((lookup) => [lookup.outcome, (lookup as { reason: string }).reason])).toEqual([
      ['unavailable', expect.stringMatching(/^wallet unreachable: .*ECONNREFUSED/)],
      ['unavailable', expect.stringMatching(/^wallet unreachable: .*ECONNREFUSED/)],
    ]);
  });
});
