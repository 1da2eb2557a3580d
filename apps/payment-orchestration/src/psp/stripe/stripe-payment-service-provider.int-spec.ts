/**
 * The Stripe adapter through the real `stripe` SDK, pointed at the PSP simulator over HTTP:
 * authorisation and capture, declines, 5xx and timeouts (with the SDK's own retries), refunds,
 * idempotency, and webhooks (signatures, duplicates, order) fed through the payment domain.
 * Needs no PostgreSQL or Kafka, but opens ports; hence the integration tier.
 */
import { randomUUID } from 'node:crypto';
import { money } from '@pay/contracts';
import type { PspObservation } from '@pay/payments-domain';
import { Payment, planPaymentObservation } from '@pay/payments-domain';
import type { PspSimulator, WebhookReceiver } from '@pay/psp-simulator';
import { signWebhookPayload, startPspSimulator, startWebhookReceiver } from '@pay/psp-simulator';
import type { PspPayment, PspResult } from '../psp.port';
import { WebhookSignatureError } from '../psp.port';
import type { StripeSettings } from './stripe.config';
import { createStripeClient } from './stripe-client';
import { StripePaymentServiceProvider } from './stripe-payment-service-provider';

const SECRET = 'whsec_adapter_test';

let simulator: PspSimulator;
let receiver: WebhookReceiver;

/** The adapter's settings against the simulator of this file. */
function settingsOf(overrides: Partial<StripeSettings> = {}): StripeSettings {
  return {
    secretKey: 'sk_test_adapter',
    webhookSecret: SECRET,
    host: simulator.host,
    port: simulator.port,
    protocol: 'http',
    timeoutMs: 5_000,
    maxNetworkRetries: 0,
    webhookToleranceSeconds: 300,
    simulator: true,
    ...overrides,
  };
}

function adapter(overrides: Partial<StripeSettings> = {}): StripePaymentServiceProvider {
  const settings = settingsOf(overrides);
  return new StripePaymentServiceProvider(createStripeClient(settings), settings);
}

/** Fails the test with the outcome when a call did not succeed. */
function value<T>(result: PspResult<T>): T {
  if (result.outcome !== 'succeeded') throw new Error(`expected success, got ${JSON.stringify(result)}`);
  return result.value;
}

const payment = (paymentMethod: string, overrides: Partial<Parameters<StripePaymentServiceProvider['createPayment']>[0]> = {}) => ({
  idempotencyKey: `${randomUUID()}:authorize`,
  paymentId: randomUUID(),
  amount: money(1250n, 'EUR'),
  paymentMethod,
  customer: 'cus_person42',
  captureMethod: 'manual' as const,
  offSession: true,
  ...overrides,
});

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  simulator = await startPspSimulator({ webhookUrl: receiver.url, webhookSecret: SECRET, holdMs: 15_000 });
});

afterAll(async () => {
  await simulator?.close();
  await receiver?.close();
});

beforeEach(async () => {
  await simulator.webhooks.idle();
  simulator.reset();
  receiver.clear();
});

describe('authorise and capture', () => {
  it('authorises with a saved method (manual capture), then captures: one charge, our key and payment id at Stripe', async () => {
    const psp = adapter();
    const request = payment('pm_card_visa');
    const authorized = value(await psp.createPayment(request));
    expect(authorized).toMatchObject({
      provider: 'stripe',
      providerStatus: 'requires_capture',
      amount: { amount: '1250', currency: 'EUR' },
      paymentId: request.paymentId,
    });
    expect(authorized.observation).toEqual({ stage: 'authorized', reference: authorized.id, amount: 1250n });

    const captured = value(await psp.capturePayment({ idempotencyKey: `${request.paymentId}:capture`, pspPaymentId: authorized.id }));
    expect(captured.observation).toEqual({ stage: 'captured', reference: authorized.id, amount: 1250n });

    expect(simulator.chargesFor(authorized.id)).toEqual([expect.objectContaining({ status: 'succeeded', captured: true, amount_captured: 1250 })]);
    expect(simulator.requestsTo('/v1/payment_intents').map((r) => r.idempotencyKey)).toEqual([request.idempotencyKey, `${request.paymentId}:capture`]);
  });

  it("charges a card token (Stripe's test tokens included) as payment_method_data, since Stripe refuses a token as payment_method", async () => {
    const psp = adapter();
    const authorized = value(await psp.createPayment(payment('tok_visa')));
    expect(authorized.observation).toEqual({ stage: 'authorized', reference: authorized.id, amount: 1250n });
    expect(value(await psp.capturePayment({ idempotencyKey: randomUUID(), pspPaymentId: authorized.id })).observation).toMatchObject({ stage: 'captured' });
    expect(await psp.createPayment(payment('tok_chargeDeclined'))).toMatchObject({ outcome: 'declined', code: 'card_declined' });
  });

  it('captures part of an authorisation', async () => {
    const psp = adapter();
    const authorized = value(await psp.createPayment(payment('pm_card_mastercard')));
    const captured = value(await psp.capturePayment({ idempotencyKey: randomUUID(), pspPaymentId: authorized.id, amount: money(1000n, 'EUR') }));
    expect(captured.observation).toEqual({ stage: 'captured', reference: authorized.id, amount: 1000n });
  });

  it('captures at once with automatic capture', async () => {
    const result = value(await adapter().createPayment(payment('pm_card_visa', { captureMethod: 'automatic' })));
    expect(result.observation).toMatchObject({ stage: 'captured', amount: 1250n });
  });

  it('releases an authorisation by cancelling it', async () => {
    const psp = adapter();
    const authorized = value(await psp.createPayment(payment('pm_card_visa')));
    const canceled = value(await psp.cancelPayment({ idempotencyKey: randomUUID(), pspPaymentId: authorized.id, reason: 'requested_by_customer' }));
    expect(canceled.observation).toEqual({ stage: 'canceled', reference: authorized.id, reason: 'requested' });
  });

  it('asks for the payer when 3-D Secure is needed on-session; declines off-session', async () => {
    const onSession = value(await adapter().createPayment(payment('pm_card_authenticationRequired', { offSession: false })));
    expect(onSession.observation).toEqual({ stage: 'requires_action', reference: onSession.id });
    const offSession = await adapter().createPayment(payment('pm_card_authenticationRequired'));
    expect(offSession).toMatchObject({ outcome: 'declined', code: 'authentication_required', declineCode: 'authentication_required' });
  });
});

describe('a card saved for later (SetupIntent on a customer)', () => {
  /** A card saved as the Pay Hub saves it: a SetupIntent on a new customer, confirmed by the card element; its PaymentMethod and customer. */
  async function savedCard(onCustomer: boolean): Promise<{ paymentMethod: string; customer?: string }> {
    const stripe = createStripeClient(settingsOf());
    const customer = onCustomer ? (await stripe.customers.create({ metadata: { pay_person: 'person-42' } })).id : undefined;
    const intent = await stripe.setupIntents.create({ usage: 'off_session', ...(customer ? { customer } : {}) });
    const confirmed = await fetch(`${simulator.url}/v1/setup_intents/${intent.id}/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        key: 'pk_test_element',
        client_secret: intent.client_secret!,
        'payment_method_data[type]': 'card',
        'payment_method_data[card][number]': '4242424242424242',
        'payment_method_data[card][exp_month]': '12',
        'payment_method_data[card][exp_year]': '34',
        'payment_method_data[card][cvc]': '123',
      }).toString(),
    }).then((response) => response.json() as Promise<{ payment_method: string }>);
    return { paymentMethod: confirmed.payment_method, ...(customer ? { customer } : {}) };
  }

  it('charges it off-session again and again with its customer (customer, payment_method, off_session, confirm)', async () => {
    const psp = adapter();
    const card = await savedCard(true);
    for (let i = 0; i < 3; i += 1) {
      const charged = value(await psp.createPayment(payment(card.paymentMethod, { customer: card.customer, captureMethod: 'automatic' })));
      expect(charged.observation).toMatchObject({ stage: 'captured', amount: 1250n });
    }
    const intents = simulator.snapshot().paymentIntents;
    expect(intents.map((intent) => [intent.customer, intent.payment_method, intent.status])).toEqual(
      Array.from({ length: 3 }, () => [card.customer, card.paymentMethod, 'succeeded']),
    );
  });

  it('is refused without its customer or with another: rejected (nothing charged), never a decline', async () => {
    const psp = adapter();
    const card = await savedCard(true);
    expect(await psp.createPayment(payment(card.paymentMethod, { customer: undefined }))).toMatchObject({ outcome: 'rejected', param: 'customer' });
    const other = await savedCard(true);
    expect(await psp.createPayment(payment(card.paymentMethod, { customer: other.customer }))).toMatchObject({
      outcome: 'rejected',
      code: 'payment_method_unexpected_state',
    });
    expect(simulator.snapshot().paymentIntents).toEqual([]);
  });

  it('pays once only when saved on no customer: the second charge is refused, as Stripe refuses a used-up PaymentMethod', async () => {
    const psp = adapter();
    const card = await savedCard(false);
    expect(value(await psp.createPayment(payment(card.paymentMethod, { customer: undefined }))).observation).toMatchObject({ stage: 'authorized' });
    expect(await psp.createPayment(payment(card.paymentMethod, { customer: undefined }))).toMatchObject({
      outcome: 'rejected',
      code: 'payment_method_unexpected_state',
    });
  });
});

describe('bank accounts (SEPA Direct Debit, ACH)', () => {
  const DAYS_3 = 3 * 24 * 60 * 60 * 1000;
  const mandate = { acceptedAt: new Date('2026-12-01T10:00:00Z'), ipAddress: '203.0.113.7', userAgent: 'PayTest/1.0' };
  const sepa = (iban: string) => ({ scheme: 'sepa_debit' as const, iban, holderName: 'Ana Maria Silva', mandate });
  const ach = (accountNumber: string) => ({
    scheme: 'us_bank_account' as const,
    routingNumber: '110000000',
    accountNumber,
    accountType: 'checking' as const,
    holderName: 'Ana Maria Silva',
    mandate,
  });

  it('debits an IBAN by SEPA Direct Debit under the online mandate the payer accepted: processing for days, then settled', async () => {
    const psp = adapter();
    const debit = value(await psp.createPayment(payment('', { bankAccount: sepa('DE89370400440532013000'), captureMethod: 'automatic', customer: undefined })));
    expect(debit).toMatchObject({ providerStatus: 'processing', amount: { amount: '1250', currency: 'EUR' } });
    expect(debit.observation).toEqual({ stage: 'processing', reference: debit.id, amount: 1250n });
    // Debited under the payer's own acceptance: when, from which address and device.
    const debitMethod = simulator.snapshot().paymentIntents.find((intent) => intent.id === debit.id)?.payment_method;
    expect(simulator.snapshot().mandates.find((m) => m.payment_method === debitMethod)?.customer_acceptance).toEqual({
      type: 'online',
      accepted_at: Math.floor(mandate.acceptedAt.getTime() / 1000),
      online: { ip_address: '203.0.113.7', user_agent: 'PayTest/1.0' },
    });
    expect(simulator.advanceClock(DAYS_3)).toEqual([debit.id]);
    expect(value(await psp.retrievePayment(debit.id)).observation).toEqual({ stage: 'captured', reference: debit.id, amount: 1250n });

    // Weeks later the payer's bank returns it: a failure after it succeeded, marked as a bank debit's.
    simulator.returnDebit(debit.id, 'debit_not_authorized');
    expect(value(await psp.retrievePayment(debit.id)).observation).toEqual({
      stage: 'failed',
      reference: debit.id,
      code: 'debit_not_authorized',
      bankDebit: true,
    });
    expect(() => simulator.returnDebit(debit.id)).toThrow(/only a settled bank debit/);
  });

  it("debits a US account by ACH in USD; Stripe's failing test account fails after 3 days", async () => {
    const psp = adapter();
    const request = payment('', { bankAccount: ach('000222222227'), amount: money(1250n, 'USD'), captureMethod: 'automatic', customer: undefined });
    const debit = value(await psp.createPayment(request));
    expect(debit.observation).toEqual({ stage: 'processing', reference: debit.id, amount: 1250n });
    simulator.advanceClock(DAYS_3);
    expect(value(await psp.retrievePayment(debit.id)).observation).toMatchObject({ stage: 'failed', code: 'insufficient_funds' });
    // The same key replays the first answer: one debit.
    expect(value(await psp.createPayment(request)).id).toBe(debit.id);
  });

  it('debits a US account set up on its customer and verified by micro-deposits (as the wallet saves one); not before it is verified', async () => {
    const stripe = createStripeClient(settingsOf());
    const customer = (await stripe.customers.create()).id;
    const setup = await stripe.setupIntents.create({
      customer,
      allowed_payment_method_types: ['us_bank_account'],
      payment_method_data: {
        type: 'us_bank_account',
        us_bank_account: { routing_number: '110000000', account_number: '000123456789', account_type: 'checking' },
        billing_details: { name: 'Ana Maria Silva' },
      },
      payment_method_options: { us_bank_account: { verification_method: 'microdeposits' } },
      mandate_data: { customer_acceptance: { type: 'offline', offline: {} } },
      confirm: true,
    });
    const saved = { paymentMethod: setup.payment_method as string, customer, amount: money(1250n, 'USD'), savedDebitScheme: 'us_bank_account' as const };
    const psp = adapter();
    expect(await psp.createPayment(payment('', { ...saved, paymentMethod: saved.paymentMethod, captureMethod: 'automatic' }))).toMatchObject({
      outcome: 'rejected',
      code: 'payment_method_unactivated',
    });
    await stripe.setupIntents.verifyMicrodeposits(setup.id, { descriptor_code: 'SM11AA' });
    for (let i = 0; i < 2; i += 1) {
      const debit = value(await psp.createPayment(payment('', { ...saved, paymentMethod: saved.paymentMethod, captureMethod: 'automatic' })));
      expect(debit.observation).toEqual({ stage: 'processing', reference: debit.id, amount: 1250n });
    }
    expect(
      simulator
        .snapshot()
        .paymentIntents.filter((intent) => intent.status === 'processing')
        .map((intent) => intent.payment_method_types),
    ).toEqual([['us_bank_account'], ['us_bank_account']]);
    // A bank debit is not held for later.
    expect(await psp.createPayment(payment('', { ...saved, paymentMethod: saved.paymentMethod, captureMethod: 'manual' }))).toMatchObject({
      outcome: 'rejected',
      code: 'capture_method_not_supported',
    });
  });

  it('debits an IBAN saved on its customer (as the wallet saves one) again and again by its PaymentMethod, under its one mandate', async () => {
    const stripe = createStripeClient({
      secretKey: 'sk_test_adapter',
      host: simulator.host,
      port: simulator.port,
      protocol: 'http',
      timeoutMs: 5_000,
      maxNetworkRetries: 0,
    } as StripeSettings);
    const customer = (await stripe.customers.create()).id;
    const setup = await stripe.setupIntents.create({
      customer,
      allowed_payment_method_types: ['sepa_debit'],
      payment_method_data: {
        type: 'sepa_debit',
        sepa_debit: { iban: 'DE89370400440532013000' },
        billing_details: { name: 'Ana Maria Silva', email: 'ana.silva@example.org' },
      },
      mandate_data: { customer_acceptance: { type: 'online', online: { ip_address: '203.0.113.7', user_agent: 'PayTest/1.0' } } },
      confirm: true,
    });
    const saved = { paymentMethod: setup.payment_method as string, customer, amount: money(1250n, 'EUR'), savedDebitScheme: 'sepa_debit' as const };
    const ids: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      const debit = value(await adapter().createPayment(payment('', { ...saved, captureMethod: 'automatic' })));
      expect(debit.observation).toEqual({ stage: 'processing', reference: debit.id, amount: 1250n });
      ids.push(debit.id);
    }
    const intents = simulator.snapshot().paymentIntents.filter((intent) => ids.includes(intent.id));
    expect(intents.map((intent) => [intent.payment_method, intent.customer, intent.payment_method_types])).toEqual([
      [saved.paymentMethod, customer, ['sepa_debit']],
      [saved.paymentMethod, customer, ['sepa_debit']],
    ]);
    // Under the one mandate of the setup: no new PaymentMethod or mandate per debit.
    expect(
      simulator
        .snapshot()
        .mandates.filter((mandate) => mandate.payment_method === saved.paymentMethod)
        .map((mandate) => mandate.id),
    ).toEqual([setup.mandate]);
  });

  it('is refused as Stripe refuses it: a SEPA debit in USD, an ACH debit in EUR', async () => {
    expect(
      await adapter().createPayment(payment('', { bankAccount: sepa('DE89370400440532013000'), amount: money(1250n, 'USD'), customer: undefined })),
    ).toMatchObject({
      outcome: 'rejected',
    });
    expect(await adapter().createPayment(payment('', { bankAccount: ach('000123456789'), customer: undefined }))).toMatchObject({ outcome: 'rejected' });
  });
});

describe('declines', () => {
  it('is a decline with Stripe codes, and the payment fails by the domain rules', async () => {
    const request = payment('pm_card_chargeDeclinedInsufficientFunds');
    const result = await adapter().createPayment(request);
    expect(result).toMatchObject({ outcome: 'declined', code: 'card_declined', declineCode: 'insufficient_funds', adviceCode: 'try_again_later' });
    if (result.outcome !== 'declined' || !result.payment) throw new Error('a decline carries the PaymentIntent');
    const started = Payment.start({
      type: 'PaymentInitiated',
      paymentId: request.paymentId,
      requestId: randomUUID(),
      kind: 'purchase',
      payerId: 'person-42',
      counterparty: { type: 'merchant', id: 'merchant-7' },
      app: 'instagram',
      country: 'DE',
      amount: 1250n,
      currency: 'EUR',
      captureMethod: 'manual',
    });
    const plan = planPaymentObservation(started.state, 'stripe', result.payment.observation);
    expect(plan.outcome).toBe('advance');
    const failed = plan.outcome === 'advance' ? started.applyAll(plan.events) : started;
    expect(failed.state).toMatchObject({ status: 'failed', failure: { code: 'card_declined', declineCode: 'insufficient_funds' } });
  });

  it.each([
    ['pm_card_chargeDeclinedExpiredCard', 'expired_card', 'expired_card'],
    ['pm_card_chargeDeclinedIncorrectCvc', 'incorrect_cvc', 'incorrect_cvc'],
    ['pm_card_chargeDeclinedStolenCard', 'card_declined', 'stolen_card'],
  ])('%s is declined as %s / %s', async (method, code, declineCode) => {
    expect(await adapter().createPayment(payment(method))).toMatchObject({ outcome: 'declined', code, declineCode });
  });
});

describe('5xx: retryable, never a double charge', () => {
  it("recovers through the SDK's own retries with the same key: one PaymentIntent, one charge", async () => {
    const request = payment('pm_card_5xx');
    const result = value(await adapter({ maxNetworkRetries: 2 }).createPayment(request));
    expect(result.observation.stage).toBe('authorized');
    const requests = simulator.requestsTo('/v1/payment_intents');
    expect(requests).toEqual([
      expect.objectContaining({ idempotencyKey: request.idempotencyKey, status: 500, fault: '500', replayed: false }),
      expect.objectContaining({ idempotencyKey: request.idempotencyKey, status: 200, replayed: true }),
    ]);
    expect(simulator.snapshot().paymentIntents).toHaveLength(1);
    expect(simulator.chargesFor(result.id)).toHaveLength(1);
  });

  it('is `retryable` without SDK retries; our retry with the same key gets the first result', async () => {
    const psp = adapter();
    const request = payment('pm_card_5xx');
    expect(await psp.createPayment(request)).toMatchObject({ outcome: 'retryable', statusCode: 500 });
    const retried = value(await psp.createPayment(request));
    expect(simulator.snapshot().paymentIntents).toHaveLength(1);
    expect(simulator.chargesFor(retried.id)).toHaveLength(1);
  });

  it('is `retryable` when the provider fails before doing anything, and nothing happened', async () => {
    const psp = adapter();
    const authorized = value(await psp.createPayment(payment('pm_card_visa', { captureMethod: 'automatic' })));
    simulator.injectFault({ path: '/v1/refunds', effect: { type: 'error', status: 503 } });
    const refund = { idempotencyKey: randomUUID(), pspPaymentId: authorized.id, refundId: randomUUID(), paymentId: randomUUID(), amount: money(250n, 'EUR') };
    expect(await psp.refundPayment(refund)).toMatchObject({ outcome: 'retryable', statusCode: 503 });
    expect(simulator.snapshot().refunds).toHaveLength(0);
    expect(value(await psp.refundPayment(refund)).observation).toMatchObject({ status: 'succeeded', amount: 250n });
  });
});

describe('unreachable provider', () => {
  it('is `retryable` when the connection is refused: the request never left', async () => {
    const closed = await startWebhookReceiver();
    const port = Number(new URL(closed.url).port);
    await closed.close();
    expect(await adapter({ port }).createPayment(payment('pm_card_visa'))).toEqual({ outcome: 'retryable', reason: 'Stripe unreachable (ECONNREFUSED)' });
  });
});

describe('timeouts: unknown outcome, never a decline', () => {
  it('reports `unknown` when the answer does not come in time; the webhook and a retrieve tell the truth', async () => {
    const psp = adapter({ timeoutMs: 1_000 });
    const request = payment('pm_card_timeout', { captureMethod: 'automatic' });
    const result = await psp.createPayment(request);
    expect(result).toMatchObject({ outcome: 'unknown' });
    expect(result.outcome).not.toBe('declined');

    // The charge happened: the webhook says so, and names the PaymentIntent with our payment id.
    const deliveries = await receiver.waitFor(2);
    const succeeded = deliveries.find((d) => d.type === 'payment_intent.succeeded');
    const event = psp.parseWebhook(succeeded!.rawBody, succeeded!.headers['stripe-signature'] as string);
    if (event.subject.kind !== 'payment') throw new Error('expected a payment webhook');
    expect(event.subject.payment.paymentId).toBe(request.paymentId);

    const truth = value(await psp.retrievePayment(event.subject.payment.id));
    expect(truth.observation).toEqual({ stage: 'captured', reference: event.subject.payment.id, amount: 1250n });
    // Retrying with the same key returns the saved answer at once: still one charge.
    expect(value(await psp.createPayment(request)).id).toBe(truth.id);
    expect(simulator.chargesFor(truth.id)).toHaveLength(1);
  });

  it('recovers through the SDK retry after a timeout, with the same key: one charge', async () => {
    const request = payment('pm_card_timeout');
    const result = value(await adapter({ timeoutMs: 1_000, maxNetworkRetries: 1 }).createPayment(request));
    expect(result.observation.stage).toBe('authorized');
    expect(simulator.requestsTo('/v1/payment_intents').map((r) => [r.idempotencyKey, r.replayed])).toEqual([
      [request.idempotencyKey, false],
      [request.idempotencyKey, true],
    ]);
    expect(simulator.chargesFor(result.id)).toHaveLength(1);
  });
});

describe('refunds', () => {
  async function capturedPayment(): Promise<PspPayment> {
    return value(await adapter().createPayment(payment('pm_card_visa', { captureMethod: 'automatic' })));
  }

  it('refunds partially twice, then the rest, and refuses more', async () => {
    const psp = adapter();
    const charged = await capturedPayment();
    const refund = (amount?: bigint) => ({
      idempotencyKey: randomUUID(),
      pspPaymentId: charged.id,
      refundId: randomUUID(),
      paymentId: charged.paymentId!,
      ...(amount === undefined ? {} : { amount: money(amount, 'EUR') }),
    });
    const first = refund(250n);
    const firstResult = value(await psp.refundPayment(first));
    expect(firstResult).toMatchObject({ pspPaymentId: charged.id, paymentId: charged.paymentId, currency: 'EUR' });
    expect(firstResult.observation).toEqual({ refundId: first.refundId, amount: 250n, status: 'succeeded' });
    expect(value(await psp.refundPayment(refund(500n))).observation.amount).toBe(500n);
    expect(await psp.refundPayment(refund(501n))).toMatchObject({ outcome: 'rejected', code: 'amount_too_large', param: 'amount' });
    expect(value(await psp.refundPayment(refund())).observation.amount).toBe(500n);
    expect(await psp.refundPayment(refund(1n))).toMatchObject({ outcome: 'rejected', code: 'charge_already_refunded' });
  });

  it('refuses to refund an authorisation that was never captured', async () => {
    const psp = adapter();
    const authorized = value(await psp.createPayment(payment('pm_card_visa')));
    expect(
      await psp.refundPayment({ idempotencyKey: randomUUID(), pspPaymentId: authorized.id, refundId: randomUUID(), paymentId: randomUUID() }),
    ).toMatchObject({
      outcome: 'rejected',
      code: 'charge_not_refundable',
    });
  });
});

describe('idempotency', () => {
  it('replays the first answer for the same key and parameters', async () => {
    const psp = adapter();
    const request = payment('pm_card_visa');
    const first = value(await psp.createPayment(request));
    const second = value(await psp.createPayment(request));
    expect(second.id).toBe(first.id);
    expect(simulator.requestsTo('/v1/payment_intents').map((r) => r.replayed)).toEqual([false, true]);
    expect(simulator.snapshot().paymentIntents).toHaveLength(1);
  });

  it('refuses the same key with other parameters as an idempotency conflict', async () => {
    const psp = adapter();
    const request = payment('pm_card_visa');
    value(await psp.createPayment(request));
    expect(await psp.createPayment({ ...request, amount: money(1300n, 'EUR') })).toMatchObject({ outcome: 'idempotency_conflict' });
    expect(simulator.snapshot().paymentIntents).toHaveLength(1);
  });

  it('refuses keys Stripe would refuse, and amounts a double cannot carry, before calling', async () => {
    expect(await adapter().createPayment(payment('pm_card_visa', { idempotencyKey: '' }))).toMatchObject({
      outcome: 'rejected',
      code: 'invalid_idempotency_key',
    });
    expect(await adapter().createPayment(payment('pm_card_visa', { amount: money(2n ** 60n, 'EUR') }))).toMatchObject({
      outcome: 'rejected',
      code: 'amount_out_of_range',
    });
    expect(simulator.snapshot().requests).toHaveLength(0);
  });

  it('maps a refused API key to `rejected`, not to a retry', async () => {
    expect(await adapter({ secretKey: 'sk_live_not_for_simulators' }).createPayment(payment('pm_card_visa'))).toMatchObject({
      outcome: 'rejected',
      code: 'authentication_failed',
    });
  });
});

describe('webhooks', () => {
  async function oneWebhook(): Promise<{ rawBody: Buffer; signature: string }> {
    await adapter().createPayment(payment('pm_card_visa'));
    const [delivery] = await receiver.waitFor(1);
    return { rawBody: delivery.rawBody, signature: delivery.headers['stripe-signature'] as string };
  }

  it("are signed like Stripe's: constructEvent accepts the simulator's signature", async () => {
    const { rawBody, signature } = await oneWebhook();
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const event = adapter().parseWebhook(rawBody, signature);
    expect(event).toMatchObject({ provider: 'stripe', type: 'payment_intent.created', livemode: false, subject: { kind: 'payment' } });
    expect(event.id).toMatch(/^evt_/);
  });

  it('refuses a tampered payload, another secret, an old timestamp and a missing signature', async () => {
    const { rawBody, signature } = await oneWebhook();
    const psp = adapter();
    const tampered = Buffer.from(rawBody.toString('utf8').replace('"amount": 1250', '"amount": 1'));
    expect(tampered.equals(rawBody)).toBe(false);
    expect(() => psp.parseWebhook(tampered, signature)).toThrow(WebhookSignatureError);
    expect(() => adapter({ webhookSecret: 'whsec_someone_else' }).parseWebhook(rawBody, signature)).toThrow(WebhookSignatureError);
    const anHourAgo = signWebhookPayload(rawBody.toString('utf8'), SECRET, Math.floor(Date.now() / 1000) - 3_600);
    expect(() => psp.parseWebhook(rawBody, anHourAgo)).toThrow(/timestamp outside the tolerance zone/i);
    expect(() => psp.parseWebhook(rawBody, undefined)).toThrow(WebhookSignatureError);
    expect(() => psp.parseWebhook(rawBody, 'garbage')).toThrow(WebhookSignatureError);
    // The same bytes freshly signed with the right secret pass: the refusals above are about the signature alone.
    expect(psp.parseWebhook(rawBody, signWebhookPayload(rawBody.toString('utf8'), SECRET)).type).toBe('payment_intent.created');
  });

  it('refuses a test-mode event at a live endpoint and a live event at a test endpoint, even well signed', async () => {
    const { rawBody, signature } = await oneWebhook();
    expect(JSON.parse(rawBody.toString('utf8'))).toMatchObject({ livemode: false });
    expect(() => adapter({ secretKey: 'sk_live_endpoint' }).parseWebhook(rawBody, signature)).toThrow(/test-mode event at a live-mode endpoint/);
    expect(() => adapter({ secretKey: 'rk_live_endpoint' }).parseWebhook(rawBody, signature)).toThrow(WebhookSignatureError);
    const live = rawBody.toString('utf8').replaceAll('"livemode": false', '"livemode": true');
    expect(live).not.toBe(rawBody.toString('utf8'));
    expect(() => adapter().parseWebhook(Buffer.from(live), signWebhookPayload(live, SECRET))).toThrow(/live-mode event at a test-mode endpoint/);
  });

  it('arrive twice and out of order as the simulator promises; the payment still ends captured', async () => {
    const psp = adapter();
    simulator.webhooks.setPolicy({ mode: 'hold' });
    const request = payment('pm_card_visa');
    const authorized = value(await psp.createPayment(request));
    value(await psp.capturePayment({ idempotencyKey: randomUUID(), pspPaymentId: authorized.id }));
    expect(simulator.webhooks.held().map((e) => e.type)).toEqual([
      'payment_intent.created',
      'payment_intent.amount_capturable_updated',
      'payment_intent.succeeded',
    ]);
    expect(receiver.received).toHaveLength(0);

    await simulator.webhooks.release({ order: 'reverse', duplicate: true });
    const deliveries = await receiver.waitFor(6);
    expect(deliveries.map((d) => d.type)).toEqual([
      'payment_intent.succeeded',
      'payment_intent.succeeded',
      'payment_intent.amount_capturable_updated',
      'payment_intent.amount_capturable_updated',
      'payment_intent.created',
      'payment_intent.created',
    ]);
    expect(new Set(deliveries.map((d) => d.id)).size).toBe(3);

    let current = Payment.start({
      type: 'PaymentInitiated',
      paymentId: request.paymentId,
      requestId: randomUUID(),
      kind: 'purchase',
      payerId: 'person-42',
      counterparty: { type: 'merchant', id: 'merchant-7' },
      app: 'instagram',
      country: 'DE',
      amount: 1250n,
      currency: 'EUR',
      captureMethod: 'manual',
    });
    const outcomes: string[] = [];
    for (const delivery of deliveries) {
      const event = psp.parseWebhook(delivery.rawBody, delivery.headers['stripe-signature'] as string);
      if (event.subject.kind !== 'payment') continue;
      const plan = planPaymentObservation(current.state, 'stripe', event.subject.payment.observation);
      outcomes.push(plan.outcome === 'unchanged' ? plan.reason : plan.outcome);
      if (plan.outcome === 'advance') current = current.applyAll(plan.events);
    }
    expect(outcomes).toEqual(['advance', 'already_applied', 'stale', 'stale', 'no_news', 'no_news']);
    expect(current.state).toMatchObject({ status: 'captured', capturedAmount: 1250n, authorizedAmount: 1250n, reference: authorized.id });
  });

  it('a late payment_intent.processing after succeeded changes nothing', async () => {
    const psp = adapter();
    simulator.webhooks.setPolicy({ mode: 'hold' });
    const processing = value(await psp.createPayment(payment('pm_card_processing', { captureMethod: 'automatic' })));
    expect(processing.providerStatus).toBe('processing');
    simulator.completePaymentIntent(processing.id, 'succeeded');
    await simulator.webhooks.release({ order: 'reverse' });
    const observations: PspObservation[] = (await receiver.waitFor(3)).map((d) => {
      const event = psp.parseWebhook(d.rawBody, d.headers['stripe-signature'] as string);
      if (event.subject.kind !== 'payment') throw new Error('expected payment webhooks');
      return event.subject.payment.observation;
    });
    expect(observations.map((o) => o.stage)).toEqual(['captured', 'pending', 'pending']);
  });

  it('are retried by the simulator when the endpoint answers 5xx', async () => {
    receiver.respondWith(500);
    try {
      await adapter().createPayment(payment('pm_card_visa'));
      await simulator.webhooks.idle();
      const attempts = simulator.webhooks.deliveries().filter((d) => d.type === 'payment_intent.created');
      expect(attempts.map((d) => [d.attempt, d.status])).toEqual([
        [1, 500],
        [2, 500],
        [3, 500],
      ]);
    } finally {
      receiver.respondWith(200);
    }
  });
});
