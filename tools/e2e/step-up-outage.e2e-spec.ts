/**
 * A wallet outage seen by step-up: orchestration cannot fetch the wallet's public step-up keys
 * (`STEP_UP_JWKS_URL` points at a stand-in that forwards to the real wallet, and that the test
 * stops or makes answer 503). A valid proof is then neither accepted nor refused: the HTTP door
 * answers 503 STEP_UP_KEYS_UNAVAILABLE with Retry-After and keeps the Idempotency-Key free, the
 * Kafka door retries the message for as long as the outage lasts (never dead-lettered); nothing is
 * written or published meanwhile, and both pay once the keys answer again. Real wallet, orchestration, PSP simulator, PostgreSQL and Kafka.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deadLetterTopicOf } from '@pay/contracts';
import { testKafka, waitFor } from '@pay/testing';
import type { HttpAnswer, PaymentsPlatform, TestPerson } from './e2e-kit';
import { http, purchaseOf, startPaymentsPlatform } from './e2e-kit';

/** Stands between orchestration and the wallet's `/.well-known/step-up-jwks.json`. */
class KeyUrlStandIn {
  /** `forward`: the wallet's answer; `503`: a failing gateway in front of a down wallet. */
  mode: 'forward' | '503' = 'forward';
  requests = 0;
  walletUrl = '';
  private server?: Server;

  private constructor(readonly port: number) {}

  static async start(): Promise<KeyUrlStandIn> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const standIn = new KeyUrlStandIn(port);
    await standIn.listen();
    return standIn;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/.well-known/step-up-jwks.json`;
  }

  /** Listens (again) on its port. */
  async listen(): Promise<void> {
    const server = createServer((request, response) => void this.answer(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.server = server;
  }

  /** Nothing listens any more: connections are refused, like a wallet that is down. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async answer(_request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.requests += 1;
    if (this.mode === '503') {
      response.writeHead(503, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ code: 'UNAVAILABLE', message: 'upstream down' }));
      return;
    }
    const upstream = await fetch(`${this.walletUrl}/.well-known/step-up-jwks.json`);
    response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    response.end(await upstream.text());
  }
}

let platform: PaymentsPlatform;
let keys: KeyUrlStandIn;
let ana: TestPerson;

beforeAll(async () => {
  keys = await KeyUrlStandIn.start();
  platform = await startPaymentsPlatform({ orchestrationEnv: { STEP_UP_JWKS_URL: keys.url } });
  keys.walletUrl = platform.wallet.url;
  ana = await platform.person();
}, 120_000);

afterAll(async () => {
  await platform?.stop();
  await keys?.stop();
});

async function postPayment(body: Record<string, unknown>, key: string): Promise<HttpAnswer> {
  return http(`${platform.orchestrationUrl}/v1/payments`, 'POST', await platform.serviceToken('service', body.app as string), body, { 'idempotency-key': key });
}

/** What orchestration holds for a request id: its payment, its idempotency record, the proofs it used, and anything in the outbox about it. */
async function tracesOf(requestId: string, proofIds: string[] = []): Promise<Record<string, number>> {
  const count = async (sql: string, parameters: unknown[]): Promise<number> => Number((await platform.orchestrationQuery<{ n: string }>(sql, parameters))[0].n);
  return {
    payments: await count('SELECT count(*) AS n FROM payments WHERE request_id = $1', [requestId]),
    idempotencyKeys: await count('SELECT count(*) AS n FROM idempotency_keys WHERE key = $1', [requestId]),
    proofsUsed: await count('SELECT count(*) AS n FROM step_up_proofs_used WHERE proof_id = ANY($1)', [proofIds]),
    outbox: await count("SELECT count(*) AS n FROM outbox WHERE message_key = $1 OR payload->'data'->>'requestId' = $1", [requestId]),
  };
}

const NOTHING = { payments: 0, idempotencyKeys: 0, proofsUsed: 0, outbox: 0 };

async function messagesIn(topic: string): Promise<number> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

function proofIdOf(proof: string): string {
  return (JSON.parse(Buffer.from(proof.split('.')[1], 'base64url').toString()) as { jti: string }).jti;
}

describe("the wallet's step-up keys out of reach", () => {
  // The HTTP request of the outage, sent again after it.
  const httpKey = randomUUID();
  let httpProof: string;

  it('over HTTP: a valid proof gets 503 STEP_UP_KEYS_UNAVAILABLE with Retry-After, nothing is written or published, and the key stays free', async () => {
    httpProof = await ana.stepUp(8_000n);
    await keys.stop();

    const answer = await postPayment(purchaseOf(ana, 8_000n, { stepUpProof: httpProof }), httpKey);
    expect(answer.status).toBe(503);
    expect(answer.body).toEqual({ code: 'STEP_UP_KEYS_UNAVAILABLE', message: expect.stringMatching(/try again/) });
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    // Asked again during the outage: the same answer, still nothing decided.
    expect((await postPayment(purchaseOf(ana, 8_000n, { stepUpProof: httpProof }), httpKey)).status).toBe(503);
    expect(await tracesOf(httpKey, [proofIdOf(httpProof)])).toEqual(NOTHING);

    // What does not depend on the wallet's keys is answered as usual meanwhile: a payment below
    // the threshold is accepted, a proof that is not a proof at all is refused.
    const small = await postPayment(purchaseOf(ana, 1_000n), randomUUID());
    expect(small.status).toBe(202);
    const junkKey = randomUUID();
    expect(await postPayment(purchaseOf(ana, 8_000n, { stepUpProof: 'not.a.proof' }), junkKey)).toMatchObject({
      status: 403,
      body: { code: 'STEP_UP_PROOF_INVALID' },
    });
    expect((await platform.events.waitFor(junkKey, 'payments.payment.rejected')).data.code).toBe('STEP_UP_PROOF_INVALID');
    await platform.events.waitFor(small.body.paymentId as string, 'payments.payment.captured');
    // By now the relay has published everything written before (the captured payment came after the 503s): nothing about the 503s.
    expect(platform.events.of(httpKey)).toEqual([]);
  });

  it("on Kafka: the request is retried while the keys answer 503, for longer than the inbox's retry budget, not dead-lettered, nothing written or published meanwhile, and paid once they answer", async () => {
    keys.mode = '503';
    keys.requests = 0;
    await keys.listen();
    const proof = await ana.stepUp(9_000n);
    const requestId = await platform.publishPurchase(purchaseOf(ana, 9_000n, { stepUpProof: proof }));

    // More failed attempts than an ordinary failure gets before its dead letter (5, about 3 s of
    // backoff): an outage is waited out (backoff growing to 30 s), not counted...
    const started = Date.now();
    await waitFor(
      () => keys.requests,
      (n) => n >= 7,
      { what: 'seven attempts at the step-up keys', timeoutMs: 45_000 },
    );
    expect(Date.now() - started).toBeGreaterThan(3_000);
    // ...and left nothing behind: no payment, no consumed proof, no payments.payment.rejected, no dead letter.
    expect(await tracesOf(requestId, [proofIdOf(proof)])).toEqual(NOTHING);
    expect(platform.events.of(requestId)).toEqual([]);
    expect(await messagesIn(deadLetterTopicOf(platform.purchaseTopic))).toBe(0);

    keys.mode = 'forward';
    const paymentId = await platform.paymentOf(requestId);
    const captured = await platform.events.waitFor(paymentId, 'payments.payment.captured');
    expect(captured.data).toMatchObject({ paymentId, payerId: ana.id, amount: { amount: '9000', currency: 'USD' } });
    expect(platform.events.types(paymentId)).toEqual(['payments.payment.initiated', 'payments.payment.authorized', 'payments.payment.captured']);
    expect(platform.events.of(requestId)).toEqual([]);
    expect(await tracesOf(requestId, [proofIdOf(proof)])).toMatchObject({ payments: 1, idempotencyKeys: 1, proofsUsed: 1 });
  });

  it('over HTTP after the outage: the same request with the same key and proof is accepted and paid, once', async () => {
    const answer = await postPayment(purchaseOf(ana, 8_000n, { stepUpProof: httpProof }), httpKey);
    expect(answer.status).toBe(202);
    expect(answer.headers.get('idempotent-replayed')).toBeNull();
    expect(answer.body).toMatchObject({ requestId: httpKey, status: 'initiated', amount: { amount: '8000', currency: 'USD' } });
    const paymentId = answer.body.paymentId as string;
    await platform.events.waitFor(paymentId, 'payments.payment.captured');

    const again = await postPayment(purchaseOf(ana, 8_000n, { stepUpProof: httpProof }), httpKey);
    expect(again).toMatchObject({ status: 202, body: answer.body });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await tracesOf(httpKey, [proofIdOf(httpProof)])).toMatchObject({ payments: 1, idempotencyKeys: 1, proofsUsed: 1 });
    expect(platform.events.of(httpKey)).toEqual([]);
  });
});

it('documents the 503 and its Retry-After in the OpenAPI of POST /v1/payments', async () => {
  const document = await http<{
    paths: Record<string, Record<string, { responses: Record<string, { description: string; headers?: Record<string, unknown> }> }>>;
  }>(`${platform.orchestrationUrl}/docs/json`, 'GET', undefined);
  expect(document.status).toBe(200);
  const unavailable = document.body.paths['/v1/payments'].post.responses['503'];
  expect(unavailable.description).toMatch(/STEP_UP_KEYS_UNAVAILABLE/);
  expect(unavailable.headers).toHaveProperty('Retry-After');
});
