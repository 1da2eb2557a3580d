/**
 * POST /v1/webhooks/stripe on a Nest app built with `rawBody: true`, against real PostgreSQL,
 * fed by the PSP simulator through the real Stripe SDK adapter: signatures verified over the raw
 * bytes, each event recorded once however often and in whatever order it is delivered, and
 * forged, tampered or stale deliveries refused before anything is written. Then the sweep of
 * webhooks not applied, on the same table: each retried when due with backoff, orphans given up
 * after the horizon, and none starving another.
 */
import { money } from '@pay/contracts';
import { randomUUID } from 'node:crypto';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { Global, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { createLogger } from '@pay/observability';
import { LOGGER } from '@pay/platform';
import type { PspSimulator } from '@pay/psp-simulator';
import { signWebhookPayload, startPspSimulator } from '@pay/psp-simulator';
import type { TestSchema } from '@pay/testing';
import { paymentInitiated } from '@pay/payments-domain/testing';
import { createTestSchema } from '@pay/testing';
import { DataSource } from 'typeorm';
import { ApplyPspWebhook } from '../../apply-psp-webhook/apply-psp-webhook';
import { paymentOrchestrationMigrations } from '../../database/migrations';
import { PaymentEventStore } from '../../payments/store/payment-event-store';
import type { PspWebhookEvent } from '../../psp/psp.port';
import type { StripeSettings } from '../../psp/stripe/stripe.config';
import { createStripeClient } from '../../psp/stripe/stripe-client';
import { StripePaymentServiceProvider } from '../../psp/stripe/stripe-payment-service-provider';
import { StripeModule } from '../../psp/stripe/stripe.module';
import { WebhooksModule } from '../webhooks.module';
import { PspWebhookInbox, WEBHOOK_RETRIES } from './psp-webhook-inbox';

const SECRET = 'whsec_endpoint_test';

/** What the platform module gives every service, for a test app. */
@Global()
@Module({})
class TestPlatformModule {
  static with(dataSource: DataSource): DynamicModule {
    const providers = [
      { provide: DataSource, useValue: dataSource },
      { provide: LOGGER, useValue: createLogger('payment-orchestration-test', 'silent') },
    ];
    return { module: TestPlatformModule, providers, exports: providers.map((p) => p.provide) };
  }
}

let schema: TestSchema;
let simulator: PspSimulator;
let app: INestApplication;
let endpoint: string;
let settings: StripeSettings;

async function startApp(rawBody: boolean): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [TestPlatformModule.with(schema.dataSource), WebhooksModule.forRoot(StripeModule.forRoot(settings))],
  }).compile();
  const nest = moduleRef.createNestApplication({ rawBody, logger: false });
  await nest.listen(0, '127.0.0.1');
  return nest;
}

const urlOf = async (nest: INestApplication): Promise<string> => `${(await nest.getUrl()).replace('[::1]', '127.0.0.1')}/v1/webhooks/stripe`;

interface Row {
  event_id: string;
  event_type: string;
  object_type: string;
  object_id: string;
  payment_id: string | null;
  deliveries: number;
  livemode: boolean;
}

const rows = (): Promise<Row[]> =>
  schema.dataSource.query(
    'SELECT event_id, event_type, object_type, object_id, payment_id, deliveries, livemode FROM psp_webhook_events ORDER BY received_at, event_id',
  );

async function createPayment(paymentId = randomUUID()): Promise<string> {
  const psp = new StripePaymentServiceProvider(createStripeClient(settings), settings);
  const result = await psp.createPayment({
    idempotencyKey: `${paymentId}:authorize`,
    paymentId,
    amount: money(4200n, 'EUR'),
    paymentMethod: 'pm_card_visa',
    captureMethod: 'manual',
    offSession: true,
  });
  if (result.outcome !== 'succeeded') throw new Error(JSON.stringify(result));
  return paymentId;
}

async function post(body: string, headers: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  schema = await createTestSchema('it_po_webhooks', paymentOrchestrationMigrations, 4);
  simulator = await startPspSimulator({ webhookSecret: SECRET });
  settings = {
    secretKey: 'sk_test_endpoint',
    webhookSecret: SECRET,
    host: simulator.host,
    port: simulator.port,
    protocol: 'http',
    timeoutMs: 5_000,
    maxNetworkRetries: 0,
    webhookToleranceSeconds: 300,
    simulator: true,
  };
  app = await startApp(true);
  endpoint = await urlOf(app);
  simulator.webhooks.setUrl(endpoint);
});

afterAll(async () => {
  await simulator?.close();
  await app?.close();
  await schema?.drop();
});

beforeEach(async () => {
  await simulator.webhooks.idle();
  simulator.reset();
  await schema.dataSource.query('TRUNCATE psp_webhook_events');
});

describe('POST /v1/webhooks/stripe', () => {
  it('records each signed event once, with the payment it belongs to', async () => {
    const paymentId = await createPayment();
    await simulator.webhooks.idle();
    const recorded = await rows();
    expect(recorded.map((r) => r.event_type)).toEqual(['payment_intent.created', 'payment_intent.amount_capturable_updated']);
    const intent = simulator.snapshot().paymentIntents[0];
    for (const row of recorded)
      expect(row).toMatchObject({ object_type: 'payment_intent', object_id: intent.id, payment_id: paymentId, deliveries: 1, livemode: false });
    expect(simulator.webhooks.deliveries().map((d) => d.status)).toEqual([200, 200]);
  });

  it('answers a redelivery 200 as a duplicate and records nothing new', async () => {
    await createPayment();
    await simulator.webhooks.idle();
    const [first] = simulator.webhooks.events();
    await simulator.webhooks.resend(first.id);
    expect(simulator.webhooks.deliveries().map((d) => d.status)).toEqual([200, 200, 200]);
    const recorded = await rows();
    expect(recorded).toHaveLength(2);
    expect(recorded.find((r) => r.event_id === first.id)?.deliveries).toBe(2);
  });

  it('takes deliveries twice and out of order: one row per event', async () => {
    simulator.webhooks.setPolicy({ mode: 'hold' });
    await createPayment();
    await createPayment();
    const released = await simulator.webhooks.release({ order: 'reverse', duplicate: true });
    expect(released).toHaveLength(4);
    const recorded = await rows();
    expect(recorded).toHaveLength(4);
    expect(recorded.every((r) => r.deliveries === 2)).toBe(true);
    // The newest event was recorded first: arrival order, not Stripe's order.
    expect(recorded[0].event_id).toBe(released[0].id);
  });

  it('applies news its payment lacks; news its row already reflects is recorded as applied (unchanged) by the statement that records it', async () => {
    const store = new PaymentEventStore(schema.dataSource);
    const initiated = (paymentId: string) => paymentInitiated(paymentId, { amount: 4200n });
    const lacking = randomUUID();
    const reflecting = randomUUID();
    await store.append(lacking, 0, [initiated(lacking)]);
    await store.append(reflecting, 0, [initiated(reflecting)]);
    simulator.webhooks.setPolicy({ mode: 'hold' });
    await createPayment(lacking);
    await createPayment(reflecting);
    const intentOf = (paymentId: string): string => simulator.snapshot().paymentIntents.find((intent) => intent.metadata?.payment_id === paymentId)?.id ?? '';
    // The authorize step got there first for this one: its row names the PaymentIntent, authorised.
    await store.append(reflecting, 1, [{ type: 'Authorized', amount: 4200n, provider: 'stripe', reference: intentOf(reflecting) }]);
    await simulator.webhooks.release();

    const outcomes = await schema.dataSource.query<{ payment_id: string; event_type: string; outcome: string; applied: boolean }[]>(
      'SELECT payment_id, event_type, outcome, applied_at IS NOT NULL AS applied FROM psp_webhook_events ORDER BY payment_id, event_type',
    );
    const of = (paymentId: string) =>
      outcomes.filter((row) => row.payment_id === paymentId).map(({ event_type, outcome, applied }) => ({ event_type, outcome, applied }));
    expect(of(lacking)).toEqual([
      { event_type: 'payment_intent.amount_capturable_updated', outcome: 'applied', applied: true },
      { event_type: 'payment_intent.created', outcome: 'unchanged', applied: true },
    ]);
    expect(of(reflecting)).toEqual([
      { event_type: 'payment_intent.amount_capturable_updated', outcome: 'unchanged', applied: true },
      { event_type: 'payment_intent.created', outcome: 'unchanged', applied: true },
    ]);
    expect((await store.load(lacking))?.state).toMatchObject({ status: 'authorized', version: 2, reference: intentOf(lacking) });
    expect((await store.load(reflecting))?.version).toBe(2);
  });

  it("records a bank account's Financial Connections disconnection, verified like any event, and changes nothing (its PaymentMethod still debits, as Stripe documents)", async () => {
    const stripe = createStripeClient(settings);
    const customer = (await stripe.customers.create()).id;
    const session = await stripe.financialConnections.sessions.create({ account_holder: { type: 'customer', customer }, permissions: ['payment_method'] });
    // What the PSP's element does in the person's browser: link the test bank's checking account.
    const linked = await fetch(`${simulator.url}/v1/financial_connections/sessions/${session.id}/link_account`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ key: 'pk_test_endpoint', client_secret: session.client_secret!, account: 'checking' }).toString(),
    });
    const { accounts } = (await linked.json()) as { accounts: { id: string }[] };
    await stripe.financialConnections.accounts.disconnect(accounts[0].id);
    await simulator.webhooks.idle();
    const [event] = simulator.webhooks.events().filter((e) => e.type === 'financial_connections.account.disconnected');
    expect(simulator.webhooks.deliveries().find((delivery) => delivery.eventId === event.id)?.status).toBe(200);
    const recorded = await schema.dataSource.query<{ object_type: string; object_id: string; payment_id: string | null; outcome: string; applied: boolean }[]>(
      'SELECT object_type, object_id, payment_id, outcome, applied_at IS NOT NULL AS applied FROM psp_webhook_events WHERE event_id = $1',
      [event.id],
    );
    expect(recorded).toEqual([
      { object_type: 'financial_connections.account', object_id: accounts[0].id, payment_id: null, outcome: 'ignored', applied: true },
    ]);
    // Unsigned, it is refused like any other.
    const payload = JSON.stringify(event);
    expect((await post(payload, { 'stripe-signature': signWebhookPayload(payload, 'whsec_attacker') })).status).toBe(400);
  });

  it('refuses tampered, foreign, stale and unsigned deliveries with 400, writing nothing', async () => {
    simulator.webhooks.setPolicy({ mode: 'hold' });
    await createPayment();
    const event = simulator.webhooks.held()[0];
    const payload = JSON.stringify(event, null, 2);
    const now = Math.floor(Date.now() / 1000);
    const refusals = [
      await post(payload.replace('"amount": 4200', '"amount": 1'), { 'stripe-signature': signWebhookPayload(payload, SECRET) }),
      await post(payload, { 'stripe-signature': signWebhookPayload(payload, 'whsec_attacker') }),
      await post(payload, { 'stripe-signature': signWebhookPayload(payload, SECRET, now - 3_600) }),
      await post(payload, {}),
    ];
    for (const refusal of refusals) {
      expect(refusal.status).toBe(400);
      expect(refusal.body).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
      expect(JSON.stringify(refusal.body)).not.toContain(SECRET);
    }
    expect(await rows()).toHaveLength(0);
    // The untouched bytes, signed with our secret, are taken: the refusals were about the signature.
    expect(await post(payload, { 'stripe-signature': signWebhookPayload(payload, SECRET) })).toEqual({
      status: 200,
      body: { received: true, duplicate: false },
    });
  });

  it('refuses a body that is not JSON', async () => {
    const response = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'text/plain', 'stripe-signature': 't=1,v1=00' }, body: 'hello' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'UNSUPPORTED_CONTENT_TYPE' });
  });

  it('fails loudly (500, so Stripe retries) when the app was built without rawBody', async () => {
    const withoutRawBody = await startApp(false);
    try {
      const payload = JSON.stringify({ id: 'evt_1', object: 'event' });
      const response = await fetch(await urlOf(withoutRawBody), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': signWebhookPayload(payload, SECRET) },
        body: payload,
      });
      expect(response.status).toBe(500);
      expect(await response.json()).toMatchObject({ code: 'RAW_BODY_UNAVAILABLE' });
    } finally {
      await withoutRawBody.close();
    }
  });
});

describe('webhooks not applied: looked at again when due, with backoff', () => {
  const logger = createLogger('payment-orchestration-test', 'silent');
  let store: PaymentEventStore;
  let inbox: PspWebhookInbox;
  let webhooks: ApplyPspWebhook;

  beforeAll(() => {
    store = new PaymentEventStore(schema.dataSource);
    inbox = new PspWebhookInbox(schema.dataSource);
    webhooks = new ApplyPspWebhook(schema.dataSource, store, inbox, logger);
  });

  /** A PaymentIntent authorised at the PSP, naming our payment `paymentId` (known here or not). */
  const authorizedWebhook = (paymentId: string, eventId = `evt_${randomUUID()}`): PspWebhookEvent => ({
    provider: 'stripe',
    id: eventId,
    type: 'payment_intent.amount_capturable_updated',
    createdAt: new Date(),
    livemode: false,
    subject: {
      kind: 'payment',
      payment: {
        provider: 'stripe',
        id: `pi_${paymentId}`,
        providerStatus: 'requires_capture',
        observation: { stage: 'authorized', reference: `pi_${paymentId}`, amount: 4200n },
        amount: money(4200n, 'EUR'),
        captureMethod: 'manual',
        paymentId,
        metadata: {},
      },
    },
    payload: {},
  });

  const initiate = (paymentId: string) => store.append(paymentId, 0, [paymentInitiated(paymentId, { amount: 4200n })]);

  interface Retry {
    event_id: string;
    attempts: number;
    outcome: string | null;
    applied: boolean;
    /** Seconds from now (the database's) to the next attempt; null: none. */
    next_in_s: number | null;
  }
  const retries = async (): Promise<Map<string, Retry>> => {
    const rows = await schema.dataSource.query<Retry[]>(
      `SELECT event_id, attempts, outcome, applied_at IS NOT NULL AS applied,
              round(extract(epoch FROM next_attempt_at - now()))::int AS next_in_s
         FROM psp_webhook_events`,
    );
    return new Map(rows.map((row) => [row.event_id, row]));
  };
  /** Moves an event's clock back: it arrived `ageMs` ago and is due now. */
  const makeDue = (eventId: string, ageMs = 10_000) =>
    schema.dataSource.query(
      "UPDATE psp_webhook_events SET received_at = now() - $2 * interval '1 millisecond', next_attempt_at = now() - interval '1 millisecond' WHERE event_id = $1",
      [eventId, ageMs],
    );

  it('one recorded but never applied (a crash in between) is due 5 s after it arrived, and the sweep applies it then', async () => {
    const paymentId = randomUUID();
    await initiate(paymentId);
    const event = authorizedWebhook(paymentId);
    const recorded = await inbox.record(event);
    expect(recorded.applied).toBe(false);
    expect(recorded.retryAt!.getTime() - Date.now()).toBeGreaterThan(3_000);
    // Not due yet: the sweep applies nothing, and says when to look again (one statement).
    const early = await webhooks.sweep();
    expect(early.applied).toBe(0);
    expect(early.nextDueAt?.getTime()).toBe(recorded.retryAt!.getTime());
    await makeDue(event.id);
    expect(await webhooks.sweep()).toEqual({ applied: 1 });
    expect((await retries()).get(event.id)).toMatchObject({ applied: true, outcome: 'applied', next_in_s: null });
    expect((await store.load(paymentId))?.state).toMatchObject({ status: 'authorized' });
  });

  it("one that races its payment's step (the PSP's answer not recorded yet) waits for that answer, which marks it applied in its own statement", async () => {
    const paymentId = randomUUID();
    await initiate(paymentId);
    // The authorize step holds its lease while it waits for the PSP.
    await schema.dataSource.query(
      "INSERT INTO payment_steps (payment_id, step, due_at, lease_until) VALUES ($1, 'authorize', now(), now() + interval '1 minute')",
      [paymentId],
    );
    const event = authorizedWebhook(paymentId);
    const recorded = await inbox.record(event);
    expect(recorded).toMatchObject({ firstDelivery: true, applied: false, awaitingAnswer: true });
    expect(recorded.retryAt!.getTime() - Date.now()).toBeLessThanOrEqual(WEBHOOK_RETRIES.answerGraceMs);
    expect((await retries()).get(event.id)).toMatchObject({ outcome: 'awaiting_answer', applied: false });
    // A second delivery meanwhile is still waiting, not applied by its receipt.
    expect(await inbox.record(event)).toMatchObject({ firstDelivery: false, applied: false, awaitingAnswer: true });

    // The step's answer: the same news, appended; the webhook is applied with it, nothing else runs.
    await store.append(paymentId, 1, [{ type: 'Authorized', amount: 4200n, provider: 'stripe', reference: `pi_${paymentId}` }]);
    expect((await retries()).get(event.id)).toMatchObject({ outcome: 'unchanged', applied: true, next_in_s: null });
    expect((await store.load(paymentId))?.version).toBe(2);
  });

  it('ones that raced their answers (recorded while the append ran, unseen by it) are marked applied by one statement of the sweep, their payments not read one by one', async () => {
    const raced = [randomUUID(), randomUUID(), randomUUID()];
    const contradicted = randomUUID();
    const events = new Map<string, PspWebhookEvent>();
    for (const paymentId of [...raced, contradicted]) {
      await initiate(paymentId);
      await schema.dataSource.query(
        "INSERT INTO payment_steps (payment_id, step, due_at, lease_until) VALUES ($1, 'authorize', now(), now() + interval '1 minute')",
        [paymentId],
      );
      const event = authorizedWebhook(paymentId);
      events.set(paymentId, event);
      expect((await inbox.record(event)).awaitingAnswer).toBe(true);
      // The answer's append does not see it: as when the webhook's row committed after the append's statement began.
      await makeDue(event.id);
    }
    for (const paymentId of raced) await store.append(paymentId, 1, [{ type: 'Authorized', amount: 4200n, provider: 'stripe', reference: `pi_${paymentId}` }]);
    await store.append(contradicted, 1, [{ type: 'Authorized', amount: 4200n, provider: 'stripe', reference: `pi_other_${contradicted}` }]);
    for (const event of events.values()) expect((await retries()).get(event.id)).toMatchObject({ outcome: 'awaiting_answer', applied: false });

    const updates = jest.spyOn(store, 'update');
    try {
      expect(await webhooks.sweep()).toEqual({ applied: 4 });
      // Only the webhook its payment contradicts went through the planner.
      expect(updates.mock.calls.map(([paymentId]) => paymentId)).toEqual([contradicted]);
    } finally {
      updates.mockRestore();
    }
    const after = await retries();
    for (const paymentId of raced) expect(after.get(events.get(paymentId)!.id)).toMatchObject({ applied: true, outcome: 'unchanged', next_in_s: null });
    expect(after.get(events.get(contradicted)!.id)).toMatchObject({ applied: true, outcome: 'conflict' });
    for (const paymentId of raced) expect((await store.load(paymentId))?.version).toBe(2);
  });

  it('one that waits for an answer that brings other news, or none, is applied by the sweep when due', async () => {
    const [failedAnswer, noAnswer] = [randomUUID(), randomUUID()];
    for (const paymentId of [failedAnswer, noAnswer]) {
      await initiate(paymentId);
      await schema.dataSource.query(
        "INSERT INTO payment_steps (payment_id, step, due_at, lease_until) VALUES ($1, 'authorize', now(), now() + interval '1 minute')",
        [paymentId],
      );
    }
    const first = authorizedWebhook(failedAnswer);
    const second = authorizedWebhook(noAnswer);
    expect((await inbox.record(first)).awaitingAnswer).toBe(true);
    expect((await inbox.record(second)).awaitingAnswer).toBe(true);
    // An answer the webhook is not news for (another PaymentIntent) leaves it waiting.
    await store.append(failedAnswer, 1, [{ type: 'Authorized', amount: 4200n, provider: 'stripe', reference: 'pi_other' }]);
    expect((await retries()).get(first.id)).toMatchObject({ outcome: 'awaiting_answer', applied: false });

    await makeDue(first.id);
    await makeDue(second.id);
    expect(await webhooks.sweep()).toEqual({ applied: 2 });
    const after = await retries();
    expect(after.get(first.id)).toMatchObject({ applied: true, outcome: 'conflict' });
    expect(after.get(second.id)).toMatchObject({ applied: true, outcome: 'applied' });
    expect((await store.load(noAnswer))?.state).toMatchObject({ status: 'authorized', reference: `pi_${noAnswer}` });
  });

  it('an unmatched one is retried after 5 s, then 10 s, doubling up to an hour; the sweep reads when the next is due', async () => {
    const event = authorizedWebhook(randomUUID());
    await inbox.record(event);
    const wakes: Date[] = [];
    const unwatch = webhooks.watchRetries((at) => wakes.push(at));
    try {
      expect(await webhooks.apply(event)).toBe('unmatched');
      expect((await retries()).get(event.id)).toMatchObject({ attempts: 1, outcome: 'unmatched', applied: false, next_in_s: 5 });
      // This process is told when to look again, so its sweeper need not poll.
      expect(wakes).toHaveLength(1);
      await makeDue(event.id);
      expect(await webhooks.sweep()).toEqual({ applied: 0 });
      expect(wakes).toHaveLength(2);
      expect((await retries()).get(event.id)).toMatchObject({ attempts: 2, next_in_s: 10 });
      await makeDue(event.id);
      await webhooks.sweep();
      expect((await retries()).get(event.id)).toMatchObject({ attempts: 3, next_in_s: 20 });
      await schema.dataSource.query('UPDATE psp_webhook_events SET attempts = 40 WHERE event_id = $1', [event.id]);
      await makeDue(event.id);
      await webhooks.sweep();
      expect((await retries()).get(event.id)).toMatchObject({ attempts: 41, next_in_s: WEBHOOK_RETRIES.maxMs / 1000 });
    } finally {
      unwatch();
    }
  });

  it('an orphan is given up after the horizon: unapplied, unmatched, never due again; reconciliation still applies it once its payment is known', async () => {
    const paymentId = randomUUID();
    const event = authorizedWebhook(paymentId);
    await inbox.record(event);
    await makeDue(event.id, WEBHOOK_RETRIES.horizonMs + 60_000);
    expect(await webhooks.sweep()).toEqual({ applied: 0 });
    expect((await retries()).get(event.id)).toMatchObject({ attempts: 1, outcome: 'unmatched', applied: false, next_in_s: null });
    expect(await inbox.due(10)).toEqual({ events: [] });
    await initiate(paymentId);
    // The timer-driven sweep no longer looks at it; reconciliation (sweepAll) does.
    expect((await webhooks.sweep()).applied).toBe(0);
    expect(await webhooks.sweepAll(10)).toBe(1);
    expect((await retries()).get(event.id)).toMatchObject({ applied: true, outcome: 'applied' });
  });

  it('orphans older than a newer webhook do not starve it: a sweep of 2 at a time takes what is due, the longest due first', async () => {
    const orphans = Array.from({ length: 5 }, () => authorizedWebhook(randomUUID()));
    for (const orphan of orphans) {
      await inbox.record(orphan);
      await makeDue(orphan.id, 3_600_000);
      expect(await webhooks.apply(orphan)).toBe('unmatched'); // pushed back 5 s
    }
    const paymentId = randomUUID();
    await initiate(paymentId);
    const newer = authorizedWebhook(paymentId);
    await inbox.record(newer);
    await makeDue(newer.id);
    // The old query (oldest received first, 2 at a time) would have taken two orphans, every time.
    expect(await webhooks.sweep(2)).toMatchObject({ applied: 1 });
    const after = await retries();
    expect(after.get(newer.id)).toMatchObject({ applied: true, outcome: 'applied' });
    for (const orphan of orphans) expect(after.get(orphan.id)).toMatchObject({ attempts: 1, applied: false });

    // When more are due than a page holds, one sweep goes through them all, page by page.
    for (const orphan of orphans) await makeDue(orphan.id, 3_600_000);
    const swept = await webhooks.sweep(2);
    expect(swept.applied).toBe(0);
    const pushedBack = await retries();
    for (const orphan of orphans) expect(pushedBack.get(orphan.id)).toMatchObject({ attempts: 2, next_in_s: 10 });
  });

  it('a webhook whose apply fails is postponed, with backoff, and holds up none of the others', async () => {
    const paymentId = randomUUID();
    await initiate(paymentId);
    const failing = authorizedWebhook(randomUUID());
    const fine = authorizedWebhook(paymentId);
    for (const event of [failing, fine]) {
      await inbox.record(event);
      await makeDue(event.id);
    }
    const flaky = new ApplyPspWebhook(schema.dataSource, store, inbox, logger);
    const apply = flaky.apply.bind(flaky);
    jest.spyOn(flaky, 'apply').mockImplementation((event) => (event.id === failing.id ? Promise.reject(new Error('bug in the planner')) : apply(event)));
    expect(await flaky.sweep()).toMatchObject({ applied: 1 });
    const after = await retries();
    expect(after.get(fine.id)).toMatchObject({ applied: true });
    expect(after.get(failing.id)).toMatchObject({ applied: false, attempts: 1, outcome: null, next_in_s: 5 });
  });
});
