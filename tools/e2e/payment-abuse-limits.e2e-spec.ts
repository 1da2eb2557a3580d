/**
 * Abuse limits of payment creation, through the running services: cumulative step-up (small
 * payments that add up need the payer's PIN or biometrics), the rate limits of the HTTP door
 * per payer and per caller (429 RATE_LIMITED with Retry-After, nothing written), and of the Kafka
 * door per payer and per sender (payments.payment.rejected RATE_LIMITED, nothing else written; the
 * sender is the app backend its token in the record's header authenticates). Real
 * wallet, orchestration, PSP simulator, PostgreSQL and Kafka; low limits so that they are reached.
 */
import { randomUUID } from 'node:crypto';
import { APP_BACKEND_SCOPES } from '@pay/auth';
import { waitFor } from '@pay/testing';
import type { HttpAnswer, PaymentsPlatform, TestPerson } from './e2e-kit';
import { E2E_MERCHANTS, http, purchaseOf, startPaymentsPlatform } from './e2e-kit';

const PER_PAYER = 20;
const PER_CALLER = 60;
const PER_APP_ON_KAFKA = 40;

let platform: PaymentsPlatform;

beforeAll(async () => {
  platform = await startPaymentsPlatform({
    orchestrationEnv: {
      STEP_UP_MAX_UNCONFIRMED_PAYMENTS: '3',
      STEP_UP_CUMULATIVE_AMOUNTS: 'USD:4000',
      PAYMENTS_PER_PAYER_PER_MINUTE: String(PER_PAYER),
      PAYMENTS_PER_CALLER_PER_MINUTE: String(PER_CALLER),
      PURCHASE_REQUESTS_PER_APP_PER_MINUTE: String(PER_APP_ON_KAFKA),
    },
  });
}, 240_000);

afterAll(async () => {
  await platform?.stop();
});

async function pay(body: Record<string, unknown>, key: string = randomUUID(), token?: string): Promise<HttpAnswer & { key: string }> {
  const answer = await http(`${platform.orchestrationUrl}/v1/payments`, 'POST', token ?? (await platform.serviceToken('service', body.app as string)), body, {
    'idempotency-key': key,
  });
  return { ...answer, key };
}

const count = (answers: HttpAnswer[], status: number, code?: string): number =>
  answers.filter((answer) => answer.status === status && (code === undefined || answer.body.code === code)).length;

/** Tokens a bucket of `perMinute` may have refilled while `work` ran: the slack of an exact count. */
async function timed<T>(work: () => Promise<T>): Promise<{ result: T; refill: number }> {
  const started = Date.now();
  const result = await work();
  return { result, refill: Math.ceil(((Date.now() - started) / 60_000) * PER_PAYER) };
}

describe('cumulative step-up', () => {
  let ana: TestPerson;

  beforeAll(async () => {
    ana = await platform.person();
  });

  it('lets exactly the allowed small payments through without a proof when they arrive at once; the rest need one', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, () => pay(purchaseOf(ana, 1_000n))));
    expect(count(answers, 202)).toBe(3);
    expect(count(answers, 403, 'STEP_UP_REQUIRED')).toBe(7);
    expect(answers.find((answer) => answer.status === 403)?.body.message).toMatch(/without confirmation since the last one/);
    const [allowance] = await platform.orchestrationQuery(
      "SELECT unconfirmed_payments, unconfirmed_amount::text AS amount FROM step_up_allowances WHERE payer_id = $1 AND currency = 'USD'",
      [ana.id],
    );
    expect(allowance).toEqual({ unconfirmed_payments: 3, amount: '3000' });
    // Only the three accepted ones exist.
    expect(await platform.orchestrationQuery('SELECT 1 FROM payments WHERE payer_id = $1', [ana.id])).toHaveLength(3);
  });

  it('takes a small payment with a proof, which starts a new allowance; the sum limit counts too', async () => {
    expect(await pay(purchaseOf(ana, 1_000n))).toMatchObject({ status: 403, body: { code: 'STEP_UP_REQUIRED' } });
    expect(await pay(purchaseOf(ana, 1_000n, { stepUpProof: await ana.stepUp(1_000n) }))).toMatchObject({ status: 202 });
    expect(await pay(purchaseOf(ana, 1_000n))).toMatchObject({ status: 202 });
    // 1000 + 3500 would be above 4000 without a proof; 3000 fits.
    expect(await pay(purchaseOf(ana, 3_500n))).toMatchObject({
      status: 403,
      body: { code: 'STEP_UP_REQUIRED', message: expect.stringMatching(/more than 4000 USD/) },
    });
    expect(await pay(purchaseOf(ana, 3_000n))).toMatchObject({ status: 202 });
    // Another payer's allowance is their own.
    const bea = await platform.person();
    expect(await pay(purchaseOf(bea, 1_000n))).toMatchObject({ status: 202 });
  });
});

describe('rate limits of the HTTP door', () => {
  it('takes at most the allowed new payments of one payer; the rest get 429 with Retry-After and leave nothing behind; replays are free', async () => {
    const cleo = await platform.person();
    const { result: answers, refill } = await timed(() => Promise.all(Array.from({ length: PER_PAYER + 5 }, () => pay(purchaseOf(cleo, 1_000n)))));
    const limited = answers.filter((answer) => answer.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(5 - refill);
    expect(limited.length).toBeLessThanOrEqual(5);
    for (const answer of limited) {
      expect(answer.body).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/for this payer/), retryAfterSeconds: expect.any(Number) });
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    // Each of the others was decided (accepted, or refused by cumulative step-up) and is on record.
    expect(count(answers, 202) + count(answers, 403, 'STEP_UP_REQUIRED')).toBe(answers.length - limited.length);
    const limitedKeys = limited.map((answer) => answer.key);
    expect(await platform.orchestrationQuery('SELECT 1 FROM payments WHERE request_id = ANY($1::uuid[])', [limitedKeys])).toEqual([]);
    expect(await platform.orchestrationQuery('SELECT 1 FROM idempotency_keys WHERE key = ANY($1::text[])', [limitedKeys])).toEqual([]);
    // The bucket is empty, but the same request again is a replay: answered as the first time.
    const accepted = answers.find((answer) => answer.status === 202)!;
    const replay = await pay(purchaseOf(cleo, 1_000n), accepted.key);
    expect(replay).toMatchObject({ status: 202, body: accepted.body });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  });

  it("limits one caller's requests, whoever they are for; another caller keeps its own allowance", async () => {
    const messenger = await platform.idp.signTestToken({
      sub: 'messenger-backend',
      role: 'service',
      app: 'messenger',
      merchants: [...E2E_MERCHANTS],
      scope: APP_BACKEND_SCOPES.join(' '),
    });
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: PER_CALLER + 5 }, () => pay(purchaseOf({ id: `nobody-${randomUUID()}` }, 1_000n, { app: 'messenger' }), randomUUID(), messenger)),
    );
    const refill = Math.ceil(((Date.now() - started) / 60_000) * PER_CALLER);
    const limited = answers.filter((answer) => answer.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(5 - refill);
    expect(limited.length).toBeLessThanOrEqual(5);
    for (const answer of limited) expect(answer.body).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/from this caller/) });
    expect(count(answers, 404, 'WALLET_NOT_FOUND')).toBe(answers.length - limited.length);
    // instagram's backend is another caller.
    expect(await pay(purchaseOf(await platform.person(), 1_000n))).toMatchObject({ status: 202 });
  });
});

describe('rate limits of the Kafka door', () => {
  /** Publishes purchase requests at once and waits until each is decided: accepted (a payment) or rejected (its event). */
  async function publishAll(purchases: Record<string, unknown>[]): Promise<{ accepted: string[]; rejected: Map<string, { code: string; message: string }> }> {
    const requestIds = await Promise.all(purchases.map((purchase) => platform.publishPurchase(purchase)));
    return waitFor(
      async () => {
        const payments = await platform.orchestrationQuery<{ request_id: string }>('SELECT request_id FROM payments WHERE request_id = ANY($1::uuid[])', [
          requestIds,
        ]);
        const rejected = new Map<string, { code: string; message: string }>();
        for (const requestId of requestIds) {
          const event = platform.events.of(requestId).find((envelope) => envelope.type === 'payments.payment.rejected');
          if (event) rejected.set(requestId, { code: event.data.code as string, message: event.data.message as string });
        }
        return { accepted: payments.map((row) => row.request_id), rejected };
      },
      (outcome) => outcome.accepted.length + outcome.rejected.size === requestIds.length,
      { what: 'every purchase request decided', timeoutMs: 90_000 },
    );
  }

  const limitedOf = (rejected: Map<string, { code: string; message: string }>) => [...rejected].filter(([, rejection]) => rejection.code === 'RATE_LIMITED');

  it("rejects a payer's new payments beyond the limit with RATE_LIMITED and the reason, and writes nothing else for them", async () => {
    const dana = await platform.person();
    const { result, refill } = await timed(() => publishAll(Array.from({ length: PER_PAYER + 5 }, () => purchaseOf(dana, 1_000n))));
    const limited = limitedOf(result.rejected);
    expect(limited.length).toBeGreaterThanOrEqual(5 - refill);
    expect(limited.length).toBeLessThanOrEqual(5);
    for (const [, rejection] of limited) expect(rejection.message).toMatch(/too many new payments for this payer \(at most 20 a minute\)/);
    // The others were decided by the checks (accepted, or refused by cumulative step-up).
    expect(result.accepted.length + [...result.rejected.values()].filter((rejection) => rejection.code === 'STEP_UP_REQUIRED').length).toBe(
      PER_PAYER + 5 - limited.length,
    );
    const limitedIds = limited.map(([requestId]) => requestId);
    expect(await platform.orchestrationQuery('SELECT 1 FROM idempotency_keys WHERE key = ANY($1::text[])', [limitedIds])).toEqual([]);
    // Every refused request left its key free, and only the accepted ones count against the payer's step-up allowance.
    expect(await platform.orchestrationQuery('SELECT 1 FROM idempotency_keys WHERE key = ANY($1::text[])', [[...result.rejected.keys()]])).toEqual([]);
    expect(await platform.orchestrationQuery('SELECT unconfirmed_payments FROM step_up_allowances WHERE payer_id = $1', [dana.id])).toEqual([
      { unconfirmed_payments: result.accepted.length },
    ]);
  });

  it("throttles a sender that floods the topic, whoever the payers are; another sender's requests are still decided", async () => {
    const { result, refill } = await timed(() =>
      publishAll(Array.from({ length: PER_APP_ON_KAFKA + 5 }, () => purchaseOf({ id: `nobody-${randomUUID()}` }, 1_000n, { app: 'messenger' }))),
    );
    const limited = limitedOf(result.rejected);
    // `timed` counts the payer's refill rate; the sender's is twice as fast.
    expect(limited.length).toBeGreaterThanOrEqual(5 - 2 * refill);
    expect(limited.length).toBeLessThanOrEqual(5);
    for (const [, rejection] of limited) expect(rejection.message).toMatch(/too many purchase requests from service:messenger-backend \(at most 40 a minute\)/);
    // The others were decided by the checks: nobody has a wallet.
    expect([...result.rejected.values()].filter((rejection) => rejection.code !== 'RATE_LIMITED').length).toBe(PER_APP_ON_KAFKA + 5 - limited.length);
    const other = await publishAll([purchaseOf(await platform.person(), 1_000n, { app: 'facebook' })]);
    expect(limitedOf(other.rejected)).toEqual([]);
  });

  it("dead-letters a request whose sender is not the named app's backend, or is not authenticated: it spends no one's allowance", async () => {
    const eve = await platform.person({ apps: ['facebook'] });
    const messenger = `Bearer ${await platform.senderToken('messenger')}`;
    const sent = {
      // messenger's backend naming facebook: the allowance it would spend is facebook's.
      'another app': await platform.publishPurchase(purchaseOf(eve, 1_000n, { app: 'facebook' }), { authorization: messenger }),
      'no token': await platform.publishPurchase(purchaseOf(eve, 1_000n, { app: 'facebook' }), { authorization: '' }),
      "a person's token": await platform.publishPurchase(purchaseOf(eve, 1_000n, { app: 'facebook' }), {
        authorization: `Bearer ${await platform.idp.signTestToken({ sub: eve.id, role: 'person' })}`,
      }),
      'a forged token': await platform.publishPurchase(purchaseOf(eve, 1_000n, { app: 'facebook' }), { authorization: `${messenger.slice(0, -4)}AAAA` }),
    };
    const letters = await waitFor(
      () => platform.deadLettersOf(Object.values(sent)),
      (found) => found.size === Object.keys(sent).length,
      { what: 'the four requests dead-lettered', timeoutMs: 60_000 },
    );
    expect(letters.get(sent['another app'])![0].reason).toMatch(/its token acts for the app "messenger"; it cannot ask for a payment in "facebook"/);
    expect(letters.get(sent['no token'])![0].reason).toMatch(/without its sender's access token/);
    expect(letters.get(sent["a person's token"])![0].reason).toMatch(/is not an app backend's with payments:initiate/);
    expect(letters.get(sent['a forged token'])![0].reason).toMatch(/access token refused/);
    // The sender's credentials stay out of the dead letters.
    for (const [letter] of letters.values()) expect(letter.headers.authorization).toBeUndefined();
    // Nothing was decided or written for them, and the Kafka door's buckets are the senders' own.
    const ids = Object.values(sent);
    expect(await platform.orchestrationQuery('SELECT 1 FROM payments WHERE request_id = ANY($1::uuid[])', [ids])).toEqual([]);
    expect(await platform.orchestrationQuery('SELECT 1 FROM idempotency_keys WHERE key = ANY($1::text[])', [ids])).toEqual([]);
    for (const requestId of ids) expect(platform.events.of(requestId)).toEqual([]);
    const buckets = await platform.orchestrationQuery<{ bucket: string }>(
      "SELECT bucket FROM rate_limit_buckets WHERE bucket LIKE 'purchase-requests:%' ORDER BY bucket",
    );
    expect(buckets.length).toBeGreaterThan(0);
    for (const { bucket } of buckets) expect(bucket).toMatch(/^purchase-requests:sender:service:(instagram|messenger|facebook)-backend$/);
  });
});
