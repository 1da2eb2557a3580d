/**
 * The simulator's HTTP control API, as a test or a person drives the standalone process: faults,
 * webhook policy and release, completing, disputing and failing, state and reset. Plain fetch:
 * what a curl user sends.
 */
import type { PspSimulator } from '../psp-simulator';
import { startPspSimulator } from '../psp-simulator';
import type { WebhookReceiver } from '../webhooks/webhook-receiver';
import { startWebhookReceiver } from '../webhooks/webhook-receiver';

let simulator: PspSimulator;
let receiver: WebhookReceiver;

/** The fields these tests read off answers. */
interface Answer {
  status: number;
  body: { id: string; status?: string; error: { message: string; code?: string }; released: { type: string }[]; paymentIntents: unknown[] };
}

const KEY = { authorization: 'Bearer sk_test_control', 'content-type': 'application/x-www-form-urlencoded' };

async function control(path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${simulator.url}/__control/${path}`, {
    method: body === undefined && path === 'state' ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined && path === 'state' ? {} : { body: JSON.stringify(body ?? {}) }),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

async function api(path: string, form: Record<string, string>, key?: string): Promise<Answer> {
  const response = await fetch(`${simulator.url}${path}`, {
    method: 'POST',
    headers: { ...KEY, ...(key ? { 'idempotency-key': key } : {}) },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  simulator = await startPspSimulator({ webhookUrl: receiver.url, webhookSecret: 'whsec_control' });
});

afterAll(async () => {
  await simulator?.close();
  await receiver?.close();
});

beforeEach(async () => {
  await simulator.webhooks.idle();
  expect((await control('reset')).status).toBe(200);
  receiver.clear();
});

describe('PSP simulator control API', () => {
  it('injects a fault after the work: the answer is lost, the replay tells the truth', async () => {
    expect((await control('faults', { path: '/v1/payment_intents', when: 'after', status: 502 })).status).toBe(200);
    const form = { amount: '500', currency: 'usd', payment_method: 'pm_card_visa', confirm: 'true' };
    expect((await api('/v1/payment_intents', form, 'k-1')).status).toBe(502);
    const replay = await api('/v1/payment_intents', form, 'k-1');
    expect(replay).toMatchObject({ status: 200, body: { status: 'succeeded', amount_received: 500 } });
    expect((await control('state')).body.paymentIntents).toHaveLength(1);
  });

  it("charges Stripe's test payment methods and real-looking ids, and refuses unknown test cards and card numbers", async () => {
    const charge = (paymentMethod: string): Promise<Answer> =>
      api('/v1/payment_intents', { amount: '700', currency: 'usd', payment_method: paymentMethod, confirm: 'true' });
    for (const ok of ['pm_card_visa', 'pm_card_mastercard', 'pm_1QdE2xLkdIwHu7ix0g1N2abc', 'card_1QdE2xLkdIwHu7ix0g1N2abc']) {
      expect({ ok, ...(await charge(ok)) }).toMatchObject({ ok, status: 200, body: { status: 'succeeded' } });
    }
    expect((await charge('pm_card_chargeDeclined')).body.error).toMatchObject({ code: 'card_declined' });
    expect((await charge('pm_card_bogus')).status).toBe(404);
    expect((await charge('4242424242424242')).status).toBe(404);
  });

  it('refuses a card token as payment_method, as Stripe does, and charges it as payment_method_data[card][token]', async () => {
    const asPaymentMethod = await api('/v1/payment_intents', { amount: '700', currency: 'usd', payment_method: 'tok_visa', confirm: 'true' });
    expect(asPaymentMethod).toMatchObject({ status: 404, body: { error: { code: 'resource_missing', message: "No such PaymentMethod: 'tok_visa'" } } });

    const withToken = (token: string, extra: Record<string, string> = {}): Promise<Answer> =>
      api('/v1/payment_intents', {
        amount: '700',
        currency: 'usd',
        'payment_method_data[type]': 'card',
        'payment_method_data[card][token]': token,
        confirm: 'true',
        ...extra,
      });
    for (const ok of ['tok_visa', 'tok_mastercard', 'tok_visa_debit', 'tok_us', 'tok_1N3T00LkdIwHu7ixt44h1F8k']) {
      const answer = await withToken(ok);
      expect({ ok, ...answer }).toMatchObject({ ok, status: 200, body: { status: 'succeeded' } });
      // Stripe made a PaymentMethod of the token: the intent names it, never the token.
      expect((answer.body as unknown as { payment_method: string }).payment_method).toMatch(/^pm_/);
    }
    expect((await withToken('tok_chargeDeclined')).body.error).toMatchObject({ code: 'card_declined' });
    expect((await withToken('4242424242424242')).body.error).toMatchObject({ code: 'resource_missing' });
    expect((await withToken('tok_visa', { payment_method: 'pm_card_visa' })).status).toBe(400);
    expect((await withToken('tok_visa', { 'payment_method_data[type]': 'sepa_debit' })).status).toBe(400);

    // Created without confirming, then confirmed: the PaymentMethod made of the token is the one charged.
    const created = await api('/v1/payment_intents', {
      amount: '700',
      currency: 'usd',
      'payment_method_data[type]': 'card',
      'payment_method_data[card][token]': 'tok_chargeDeclinedInsufficientFunds',
    });
    expect(created.body.status).toBe('requires_confirmation');
    const confirmed = await api(`/v1/payment_intents/${created.body.id}/confirm`, {});
    expect(confirmed.body.error).toMatchObject({ code: 'card_declined' });
  });

  it('holds webhooks and releases them newest first, twice each', async () => {
    await control('webhooks/policy', { mode: 'hold' });
    await api('/v1/payment_intents', { amount: '500', currency: 'usd', payment_method: 'pm_card_visa', confirm: 'true' });
    const released = await control('webhooks/release', { order: 'reverse', duplicate: true });
    expect(released.body.released.map((e) => e.type)).toEqual(['payment_intent.succeeded', 'payment_intent.created']);
    expect((await receiver.waitFor(4)).map((d) => d.type)).toEqual([
      'payment_intent.succeeded',
      'payment_intent.succeeded',
      'payment_intent.created',
      'payment_intent.created',
    ]);
  });

  it('completes 3-D Secure, opens and closes a dispute, and fails a refund', async () => {
    const intent = await api('/v1/payment_intents', { amount: '900', currency: 'eur', payment_method: 'pm_card_authenticationRequired', confirm: 'true' });
    expect(intent.body.status).toBe('requires_action');
    expect((await control(`payment_intents/${intent.body.id}/complete`, { outcome: 'succeeded' })).body).toMatchObject({
      status: 'succeeded',
      amount_received: 900,
    });

    const refund = await api('/v1/refunds', { payment_intent: intent.body.id, amount: '100' });
    expect((await control(`refunds/${refund.body.id}/fail`, {})).body).toMatchObject({ status: 'failed', failure_reason: 'expired_or_canceled_card' });

    const dispute = await control(`payment_intents/${intent.body.id}/dispute`, { reason: 'product_not_received' });
    expect(dispute.body).toMatchObject({ object: 'dispute', amount: 900, status: 'needs_response' });
    expect((await control(`disputes/${dispute.body.id}/close`, { status: 'lost' })).body.status).toBe('lost');
    expect((await api('/v1/refunds', { payment_intent: intent.body.id })).body.error).toMatchObject({ code: 'charge_disputed' });

    await simulator.webhooks.idle();
    expect(simulator.webhooks.events().map((e) => e.type)).toEqual([
      'payment_intent.created',
      'payment_intent.requires_action',
      'payment_intent.succeeded',
      'refund.created',
      'charge.refunded',
      'refund.failed',
      'refund.updated',
      'charge.dispute.created',
      'charge.dispute.closed',
    ]);

    // A card's SetupIntent waiting for its challenge is completed the same way; a finished one is not.
    const setup = await api('/v1/setup_intents', { usage: 'off_session' });
    const secret = (setup.body as unknown as { client_secret: string }).client_secret;
    const challenged = await api(`/v1/setup_intents/${setup.body.id}/confirm`, {
      key: 'pk_test_control',
      client_secret: secret,
      'payment_method_data[type]': 'card',
      'payment_method_data[card][number]': '4000002500003155',
      'payment_method_data[card][exp_month]': '12',
      'payment_method_data[card][exp_year]': '2034',
      'payment_method_data[card][cvc]': '123',
    });
    expect(challenged.body.status).toBe('requires_action');
    expect((await control(`setup_intents/${setup.body.id}/complete`, { outcome: 'failed' })).body).toMatchObject({
      status: 'requires_payment_method',
      last_setup_error: { code: 'setup_intent_authentication_failure' },
    });
    expect((await control(`setup_intents/${setup.body.id}/complete`, { outcome: 'succeeded' })).status).toBe(400);
  });

  it('says what is wrong with a control request', async () => {
    expect(await control('faults', { path: '/v1/refunds' })).toEqual({
      status: 400,
      body: { error: { message: 'give either status (an HTTP error to answer) or holdMs (how long to hold the answer)' } },
    });
    expect((await control('webhooks/policy', { mode: 'sometimes' })).body.error.message).toBe('mode must be immediate or hold');
    expect((await control('nowhere', {})).status).toBe(400);
    expect((await control('payment_intents/pi_missing/complete', {})).status).toBe(404);
  });

  it('refuses requests without a test key, as Stripe does', async () => {
    const response = await fetch(`${simulator.url}/v1/payment_intents`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk_live_x' },
      body: 'amount=1&currency=usd',
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { message: string } }).error.message).toBe('Invalid API Key provided: sk_live_****');
  });
});
