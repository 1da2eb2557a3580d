/**
 * The PayPal adapter through the real `@paypal/paypal-server-sdk`, pointed at the PSP simulator
 * (the SDK's httpsAgent, ADR 0011): OAuth and its refresh, single-step orders with a vaulted
 * PayPal account, declines, 5xx and timeouts retried with the same PayPal-Request-Id (never a
 * second capture), refunds, look-ups, and webhooks verified with the certificate. Needs no
 * PostgreSQL or Kafka, but opens ports; hence the integration tier.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { PspSimulator, ReceivedWebhook, WebhookReceiver } from '@pay/psp-simulator';
import { signPayPalWebhook, startPspSimulator, startWebhookReceiver } from '@pay/psp-simulator';
import { waitFor } from '@pay/testing';
import { money } from '@pay/contracts';
import type { CreatePaymentRequest, PspResult } from '../psp.port';
import { WebhookSignatureError } from '../psp.port';
import { createPayPalAdapter } from '../psp.module';
import type { PayPalSettings } from './paypal.config';
import { PAYPAL_SIMULATOR_SETTINGS } from './paypal.config';
import type { PayPalPaymentServiceProvider } from './paypal-payment-service-provider';

let simulator: PspSimulator;
let receiver: WebhookReceiver;

function settings(overrides: Partial<PayPalSettings> = {}): PayPalSettings {
  return {
    clientId: PAYPAL_SIMULATOR_SETTINGS.clientId,
    clientSecret: PAYPAL_SIMULATOR_SETTINGS.clientSecret,
    webhookId: PAYPAL_SIMULATOR_SETTINGS.webhookId,
    environment: 'sandbox',
    apiUrl: simulator.url,
    timeoutMs: 2_000,
    maxRetries: 0,
    webhookToleranceSeconds: 300,
    certUrlPrefixes: [`${simulator.url}/v1/notifications/certs/`],
    simulator: true,
    ...overrides,
  };
}

const adapter = (overrides: Partial<PayPalSettings> = {}): PayPalPaymentServiceProvider => createPayPalAdapter(settings(overrides));

function value<T>(result: PspResult<T>): T {
  if (result.outcome !== 'succeeded') throw new Error(`expected success, got ${JSON.stringify(result)}`);
  return result.value;
}

const purchase = (vaultId: string, overrides: Partial<CreatePaymentRequest> = {}): CreatePaymentRequest => {
  const paymentId = randomUUID();
  return {
    idempotencyKey: `${paymentId}:authorize`,
    paymentId,
    amount: money(1250n, 'EUR'),
    paymentMethod: vaultId,
    captureMethod: 'automatic',
    offSession: true,
    ...overrides,
  };
};

/** The webhooks received for one order (its captures name it; its refunds name our payment in custom_id). */
const deliveriesOf = (type: string): ReceivedWebhook[] =>
  receiver.received.filter((delivery) => (JSON.parse(delivery.rawBody.toString('utf8')) as { event_type: string }).event_type === type);

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  simulator = await startPspSimulator({ holdMs: 10_000, paypal: { webhookUrl: receiver.url } });
});

afterAll(async () => {
  await simulator?.close();
  await receiver?.close();
});

beforeEach(() => {
  simulator.reset();
  receiver.clear();
});

describe('PayPal adapter (SDK -> simulator)', () => {
  it('pays with a vaulted PayPal account in one call: the order is the reference, captured for the amount', async () => {
    const request = purchase('vault_paypal_ok');
    const payment = value(await adapter().createPayment(request));
    expect(payment).toMatchObject({
      provider: 'paypal',
      providerStatus: 'COMPLETED',
      amount: { amount: '1250', currency: 'EUR' },
      paymentId: request.paymentId,
    });
    expect(payment.observation).toEqual({ stage: 'captured', reference: payment.id, amount: 1250n });
    expect(simulator.paypal.capturesFor(payment.id)).toHaveLength(1);
    const create = simulator.paypal.snapshot().requests.find((r) => r.path === '/v2/checkout/orders');
    expect(create?.requestId).toBe(request.idempotencyKey);
    // Look-up: the same truth from GET.
    expect(value(await adapter().retrievePayment(payment.id)).observation).toEqual(payment.observation);
  });

  it('captures an order PayPal leaves APPROVED, with <key>:capture', async () => {
    const request = purchase('vault_paypal_capture_later', { amount: money(1500n, 'JPY') });
    const payment = value(await adapter().createPayment(request));
    expect(payment.observation).toEqual({ stage: 'captured', reference: payment.id, amount: 1500n });
    const paths = simulator.paypal.snapshot().requests.map((r) => `${r.path} ${r.requestId ?? ''}`);
    expect(paths).toContain(`/v2/checkout/orders/${payment.id}/capture ${request.idempotencyKey}:capture`);
  });

  it('manual capture: authorises (intent AUTHORIZE), captures part once however often the key is sent, voids another; a voided one cannot be captured', async () => {
    const request = purchase('vault_paypal_ok', { captureMethod: 'manual', amount: money(4000n, 'USD') });
    const held = value(await adapter().createPayment(request));
    expect(held).toMatchObject({ captureMethod: 'manual', observation: { stage: 'authorized', reference: held.id, amount: 4000n } });
    expect(simulator.paypal.capturesFor(held.id)).toHaveLength(0);
    const capture = { idempotencyKey: `${request.paymentId}:capture`, pspPaymentId: held.id, amount: money(2500n, 'USD') };
    const captured = value(await adapter().capturePayment(capture));
    expect(captured.observation).toEqual({ stage: 'captured', reference: held.id, amount: 2500n });
    expect(value(await adapter().capturePayment(capture)).observation).toEqual(captured.observation);
    expect(simulator.paypal.capturesFor(held.id)).toHaveLength(1);
    // The authorisation is spent: a void now is refused by PayPal, and the order still reads as captured.
    expect(await adapter().cancelPayment({ idempotencyKey: `${request.paymentId}:void`, pspPaymentId: held.id })).toMatchObject({ outcome: 'rejected' });
    expect(value(await adapter().retrievePayment(held.id)).observation).toEqual(captured.observation);

    const other = purchase('vault_paypal_ok', { captureMethod: 'manual' });
    const released = value(await adapter().createPayment(other));
    const voided = value(await adapter().cancelPayment({ idempotencyKey: `${other.paymentId}:void`, pspPaymentId: released.id }));
    expect(voided.observation).toEqual({ stage: 'canceled', reference: released.id, reason: 'requested' });
    expect(await adapter().capturePayment({ idempotencyKey: `${other.paymentId}:capture`, pspPaymentId: released.id })).toMatchObject({ outcome: 'rejected' });
    expect(simulator.paypal.capturesFor(released.id)).toHaveLength(0);
    // An order captured at once holds nothing to void.
    const automatic = value(await adapter().createPayment(purchase('vault_paypal_ok')));
    expect(await adapter().cancelPayment({ idempotencyKey: `${randomUUID()}:void`, pspPaymentId: automatic.id })).toMatchObject({
      outcome: 'rejected',
      code: 'not_supported',
    });
  });

  it('reads declines as declines: INSTRUMENT_DECLINED, PAYER_ACTION_REQUIRED', async () => {
    expect(await adapter().createPayment(purchase('vault_paypal_declined'))).toEqual({ outcome: 'declined', code: 'instrument_declined' });
    expect(await adapter().createPayment(purchase('vault_paypal_payer_action'))).toEqual({ outcome: 'declined', code: 'payer_action_required' });
    expect(simulator.paypal.snapshot().captures).toHaveLength(0);
  });

  it('a duplicate PayPal-Request-Id never captures twice: a 5xx after the work, then the retry gets the first order', async () => {
    const request = purchase('vault_paypal_5xx');
    const first = await adapter().createPayment(request);
    expect(first).toMatchObject({ outcome: 'retryable', statusCode: 500 });
    const again = value(await adapter().createPayment(request));
    const third = value(await adapter().createPayment(request));
    expect(third.id).toBe(again.id);
    expect(simulator.paypal.snapshot().orders).toHaveLength(1);
    expect(simulator.paypal.capturesFor(again.id)).toHaveLength(1);
    expect(simulator.paypal.snapshot().requests.filter((r) => r.replayed)).toHaveLength(2);
  });

  it('a timeout is unknown, never a decline; the retry with the same key learns the outcome, one capture', async () => {
    const request = purchase('vault_paypal_timeout');
    const first = await adapter({ timeoutMs: 1_000 }).createPayment(request);
    expect(first.outcome).toBe('unknown');
    const settled = value(await adapter().createPayment(request));
    expect(settled.observation.stage).toBe('captured');
    expect(simulator.paypal.capturesFor(settled.id)).toHaveLength(1);
  });

  it('the same key with another request is an idempotency conflict, not a second payment', async () => {
    const request = purchase('vault_paypal_ok');
    value(await adapter().createPayment(request));
    expect(await adapter().createPayment({ ...request, amount: money(999n, 'EUR') })).toMatchObject({ outcome: 'idempotency_conflict' });
    expect(simulator.paypal.snapshot().orders).toHaveLength(1);
  });

  it('fetches a new OAuth token when PayPal stops taking the one it gave', async () => {
    const psp = adapter();
    value(await psp.createPayment(purchase('vault_paypal_ok')));
    expect(simulator.paypal.snapshot().tokensIssued).toBe(1);
    simulator.paypal.revokeAccessTokens();
    value(await psp.createPayment(purchase('vault_paypal_ok')));
    expect(simulator.paypal.snapshot().tokensIssued).toBe(2);
    // Wrong client credentials are ours to fix: rejected, not retried forever as if PayPal were down.
    expect(await adapter({ clientSecret: 'wrong' }).createPayment(purchase('vault_paypal_ok'))).toMatchObject({
      outcome: 'rejected',
      code: 'authentication_failed',
    });
  });

  it('refunds the capture (partly, then the rest) with the key as PayPal-Request-Id, and looks refunds up', async () => {
    const request = purchase('vault_paypal_ok');
    const payment = value(await adapter().createPayment(request));
    const refundId = randomUUID();
    const refundRequest = {
      idempotencyKey: `${request.paymentId}:refund:${refundId}`,
      pspPaymentId: payment.id,
      refundId,
      paymentId: request.paymentId,
      amount: money(250n, 'EUR'),
    };
    const refund = value(await adapter().refundPayment(refundRequest));
    expect(refund).toMatchObject({ provider: 'paypal', paymentId: request.paymentId, observation: { refundId, amount: 250n, status: 'succeeded' } });
    // Sent again (a retry after a lost answer): the first refund, not a second one.
    expect(value(await adapter().refundPayment(refundRequest)).id).toBe(refund.id);
    const tooMuch = randomUUID();
    expect(
      await adapter().refundPayment({
        ...refundRequest,
        idempotencyKey: `${request.paymentId}:refund:${tooMuch}`,
        refundId: tooMuch,
        amount: money(1001n, 'EUR'),
      }),
    ).toMatchObject({ outcome: 'rejected', code: 'refund_amount_exceeded' });
    const rest = randomUUID();
    const second = value(
      await adapter().refundPayment({ ...refundRequest, idempotencyKey: `${request.paymentId}:refund:${rest}`, refundId: rest, amount: undefined }),
    );
    expect(second.observation).toMatchObject({ refundId: rest, amount: 1000n, status: 'succeeded' });
    expect(simulator.paypal.snapshot().refunds).toHaveLength(2);
    expect(value(await adapter().retrieveRefund(refund.id)).observation).toEqual(refund.observation);
    const more = randomUUID();
    expect(
      await adapter().refundPayment({ ...refundRequest, idempotencyKey: `${request.paymentId}:refund:${more}`, refundId: more, amount: money(1n, 'EUR') }),
    ).toMatchObject({
      outcome: 'rejected',
      code: 'capture_fully_refunded',
    });
  });

  it('verifies webhooks with the certificate: the capture, the refund, each read into our words', async () => {
    const request = purchase('vault_paypal_ok');
    const payment = value(await adapter().createPayment(request));
    const refundId = randomUUID();
    value(
      await adapter().refundPayment({
        idempotencyKey: `${request.paymentId}:refund:${refundId}`,
        pspPaymentId: payment.id,
        refundId,
        paymentId: request.paymentId,
      }),
    );
    await simulator.paypal.webhooks.idle();
    const [captured] = deliveriesOf('PAYMENT.CAPTURE.COMPLETED');
    const event = await adapter().verifyWebhook(captured.rawBody, captured.headers);
    expect(event).toMatchObject({ provider: 'paypal', type: 'PAYMENT.CAPTURE.COMPLETED', livemode: false });
    expect(event.subject).toEqual({
      kind: 'payment',
      payment: expect.objectContaining({
        id: payment.id,
        paymentId: request.paymentId,
        observation: { stage: 'captured', reference: payment.id, amount: 1250n },
      }),
    });
    const [refunded] = deliveriesOf('PAYMENT.CAPTURE.REFUNDED');
    const refundEvent = await adapter().verifyWebhook(refunded.rawBody, refunded.headers);
    expect(refundEvent.subject).toMatchObject({
      kind: 'refund',
      refund: { paymentId: request.paymentId, observation: { refundId, amount: 1250n, status: 'succeeded' } },
    });
  });

  it('refuses forged and tampered webhooks: another key, another body, another webhook id, a foreign certificate URL, an old one', async () => {
    value(await adapter().createPayment(purchase('vault_paypal_ok')));
    await simulator.paypal.webhooks.idle();
    const [delivery] = deliveriesOf('PAYMENT.CAPTURE.COMPLETED');
    const headers = delivery.headers as Record<string, string>;
    const psp = adapter();
    const refused = (body: Buffer, h: Record<string, string>): Promise<unknown> => psp.verifyWebhook(body, h);

    const tampered = Buffer.from(delivery.rawBody.toString('utf8').replace('"12.50"', '"99.50"'));
    expect(tampered.equals(delivery.rawBody)).toBe(false);
    await expect(refused(tampered, headers)).rejects.toThrow(WebhookSignatureError);

    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = signPayPalWebhook(delivery.rawBody.toString('utf8'), {
      transmissionId: randomUUID(),
      transmissionTime: new Date().toISOString(),
      webhookId: PAYPAL_SIMULATOR_SETTINGS.webhookId,
      certUrl: headers['paypal-cert-url'],
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    });
    await expect(refused(delivery.rawBody, forged)).rejects.toThrow(/signature does not match/);

    await expect(adapter({ webhookId: 'SOMEONEELSESWEBHOOK' }).verifyWebhook(delivery.rawBody, headers)).rejects.toThrow(WebhookSignatureError);
    await expect(refused(delivery.rawBody, { ...headers, 'paypal-cert-url': 'https://evil.example/v1/notifications/certs/CERT-1' })).rejects.toThrow(
      /not a PayPal certificate URL/,
    );
    await expect(refused(delivery.rawBody, { ...headers, 'paypal-cert-url': `${simulator.url}/v1/notifications/certs/../../../evil` })).rejects.toThrow(
      WebhookSignatureError,
    );
    const anHourAgo = new Date(Date.now() - 3_600_000).toISOString();
    const old = signPayPalWebhook(delivery.rawBody.toString('utf8'), {
      transmissionId: randomUUID(),
      transmissionTime: anHourAgo,
      webhookId: PAYPAL_SIMULATOR_SETTINGS.webhookId,
      certUrl: headers['paypal-cert-url'],
    });
    await expect(refused(delivery.rawBody, old)).rejects.toThrow(/tolerance/);
    await expect(refused(delivery.rawBody, { ...headers, 'paypal-transmission-sig': '' })).rejects.toThrow(WebhookSignatureError);
    // The genuine one still passes.
    await expect(psp.verifyWebhook(delivery.rawBody, headers)).resolves.toMatchObject({ type: 'PAYMENT.CAPTURE.COMPLETED' });
  });

  it('a pending capture is pending until PayPal settles it; its webhook then says captured', async () => {
    const payment = value(await adapter().createPayment(purchase('vault_paypal_pending')));
    expect(payment.observation).toEqual({ stage: 'pending', reference: payment.id });
    const [capture] = simulator.paypal.capturesFor(payment.id);
    simulator.paypal.completeCapture(capture.id, 'COMPLETED');
    await waitFor(
      () => deliveriesOf('PAYMENT.CAPTURE.COMPLETED').length,
      (count) => count === 1,
      { what: 'the capture-completed webhook', timeoutMs: 10_000 },
    );
    const [delivery] = deliveriesOf('PAYMENT.CAPTURE.COMPLETED');
    expect((await adapter().verifyWebhook(delivery.rawBody, delivery.headers)).subject).toMatchObject({
      kind: 'payment',
      payment: { observation: { stage: 'captured', reference: payment.id, amount: 1250n } },
    });
  });
});
