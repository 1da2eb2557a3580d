/**
 * PayPal end to end: a person pays with a saved PayPal account through the same use cases as a
 * card, on real Kafka, PostgreSQL, the wallet and payment-orchestration (in this process), with
 * PayPal's side played by the simulator through the real `@paypal/paypal-server-sdk`. Purchase
 * and refund with the merchant payable and the ledger; a timeout followed by a late webhook; one
 * capture however often the same PayPal-Request-Id is sent; forged and tampered webhooks refused.
 */
import { randomUUID } from 'node:crypto';
import { signPayPalWebhook } from '@pay/psp-simulator';
import { waitFor } from '@pay/testing';
import type { PaymentsPlatform, TestPerson } from './e2e-kit';
import { feeOf, http, purchaseOf, startPaymentsPlatform } from './e2e-kit';

let platform: PaymentsPlatform;

const MERCHANT = 'merchant-e2e';
const merchantPayable = `merchant.${MERCHANT}.payable.USD`;
const paypalClearing = 'system.psp-clearing.paypal.USD';

beforeAll(async () => {
  platform = await startPaymentsPlatform({ simulatorHoldMs: 5_000 });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

async function postings(paymentId: string, movement: 'capture' | 'refund'): Promise<{ amount: string; fee: string }[]> {
  return platform.walletQuery('SELECT amount::text, fee::text FROM payment_ledger_postings WHERE payment_id = $1 AND movement = $2', [paymentId, movement]);
}

async function ledgerBalancesToZero(): Promise<void> {
  const [row] = await platform.walletQuery<{ debits: string; credits: string }>(
    "SELECT COALESCE(sum(amount) FILTER (WHERE direction = 'debit'), 0)::text AS debits, COALESCE(sum(amount) FILTER (WHERE direction = 'credit'), 0)::text AS credits FROM postings WHERE layer = 'posted'",
  );
  expect(row.debits).toBe(row.credits);
}

describe('a PayPal account pays', () => {
  let paula: TestPerson;

  beforeAll(async () => {
    paula = await platform.person({ withoutCard: true, paypal: {} });
  });

  it('a purchase is captured through PayPal (the order is the reference); the wallet posts it once; a refund reverses it', async () => {
    const payableBefore = await platform.balance(merchantPayable);
    const clearingBefore = await platform.balance(paypalClearing);
    const requestId = await platform.publishPurchase(purchaseOf(paula, 3_000n));
    const paymentId = await platform.paymentOf(requestId);
    const captured = await platform.events.waitFor(paymentId, 'payments.payment.captured');
    expect(captured.data).toMatchObject({ paymentId, payerId: paula.id, provider: 'paypal', amount: { amount: '3000', currency: 'USD' } });
    const orderId = captured.data.reference as string;
    expect(platform.simulator.paypal.capturesFor(orderId)).toHaveLength(1);
    expect(platform.simulator.paypal.snapshot().orders.find((order) => order.id === orderId)?.payment_source.paypal.vault_id).toBe(paula.paypal?.vaultToken);

    await waitFor(
      () => postings(paymentId, 'capture'),
      (rows) => rows.length === 1,
      { what: 'the capture posting' },
    );
    await waitFor(
      () => platform.balance(merchantPayable),
      (b) => b === payableBefore + 3_000n - feeOf(3_000n),
      { what: 'the merchant payable' },
    );
    expect(await platform.balance(paypalClearing)).toBe(clearingBefore + 3_000n);

    const refund = await http(
      `${platform.orchestrationUrl}/v1/payments/${paymentId}/refunds`,
      'POST',
      await platform.serviceToken('operator'),
      { amount: { amount: '1000', currency: 'USD' } },
      { 'idempotency-key': randomUUID() },
    );
    expect(refund).toMatchObject({ status: 202, body: { paymentId, status: 'pending' } });
    const refunded = await platform.events.waitFor(paymentId, 'payments.payment.refunded');
    expect(refunded.data).toMatchObject({ amount: { amount: '1000' } });
    const [paypalRefund] = platform.simulator.paypal.snapshot().refunds;
    expect(paypalRefund).toMatchObject({ status: 'COMPLETED', amount: { value: '10.00', currency_code: 'USD' } });
    await waitFor(
      () => postings(paymentId, 'refund'),
      (rows) => rows.length === 1,
      { what: 'the refund posting' },
    );
    await waitFor(
      () => platform.balance(merchantPayable),
      (b) => b === payableBefore + 2_000n - feeOf(3_000n),
      { what: 'the merchant payable after the refund (fee kept)' },
    );
    expect(await platform.balance(paypalClearing)).toBe(clearingBefore + 2_000n);
    // PayPal's own webhooks of both (capture completed, capture refunded) were verified, recorded and changed nothing more.
    await platform.simulator.paypal.webhooks.idle();
    const webhooks = await waitFor(
      () =>
        platform.orchestrationQuery<{ event_type: string; outcome: string | null }>(
          "SELECT event_type, outcome FROM psp_webhook_events WHERE provider = 'paypal' AND payment_id = $1",
          [paymentId],
        ),
      (rows) => rows.some((r) => r.event_type === 'PAYMENT.CAPTURE.REFUNDED') && rows.every((r) => r.outcome !== null),
      { what: 'the PayPal webhooks of the payment, applied' },
    );
    expect(webhooks.map((r) => r.outcome)).not.toContain('conflict');
    await ledgerBalancesToZero();
  });

  it('manual capture: PayPal authorises the order (intent AUTHORIZE), part is captured later and posted; another authorisation is voided', async () => {
    const payableBefore = await platform.balance(merchantPayable);
    const service = await platform.serviceToken();
    const manualPurchase = async (amount: bigint): Promise<{ paymentId: string; orderId: string }> => {
      const answer = await http(`${platform.orchestrationUrl}/v1/payments`, 'POST', service, purchaseOf(paula, amount, { captureMethod: 'manual' }), {
        'idempotency-key': randomUUID(),
      });
      expect(answer.status).toBe(202);
      const paymentId = answer.body.paymentId as string;
      const authorized = await platform.events.waitFor(paymentId, 'payments.payment.authorized');
      expect(authorized.data).toMatchObject({ provider: 'paypal', amount: { amount: amount.toString() } });
      return { paymentId, orderId: authorized.data.reference as string };
    };
    const decide = (paymentId: string, action: 'capture' | 'void', body: Record<string, unknown> = {}) =>
      http(`${platform.orchestrationUrl}/v1/payments/${paymentId}/${action}`, 'POST', service, body, { 'idempotency-key': randomUUID() });

    const held = await manualPurchase(4_000n);
    const order = () => platform.simulator.paypal.snapshot().orders.find((o) => o.id === held.orderId);
    expect(order()).toMatchObject({ intent: 'AUTHORIZE', status: 'COMPLETED' });
    expect(order()?.purchase_units[0].payments?.authorizations?.[0]).toMatchObject({ status: 'CREATED', amount: { value: '40.00' } });
    expect(platform.simulator.paypal.capturesFor(held.orderId)).toHaveLength(0);
    expect(await decide(held.paymentId, 'capture', { amount: { amount: '2500', currency: 'USD' } })).toMatchObject({ status: 202 });
    const captured = await platform.events.waitFor(held.paymentId, 'payments.payment.captured');
    expect(captured.data).toMatchObject({ amount: { amount: '2500' }, authorizedAmount: { amount: '4000' } });
    expect(platform.simulator.paypal.capturesFor(held.orderId)).toEqual([
      expect.objectContaining({ status: 'COMPLETED', amount: { currency_code: 'USD', value: '25.00' } }),
    ]);
    expect(order()?.purchase_units[0].payments?.authorizations?.[0].status).toBe('PARTIALLY_CAPTURED');
    await waitFor(
      () => postings(held.paymentId, 'capture'),
      (rows) => rows.length === 1 && rows[0].amount === '2500',
      { what: 'the capture posting of the captured part' },
    );
    await waitFor(
      () => platform.balance(merchantPayable),
      (b) => b === payableBefore + 2_500n - feeOf(2_500n),
      { what: 'the merchant payable' },
    );
    // The captured part is refunded through the same capture, as for an order captured at once.
    const refund = await http(
      `${platform.orchestrationUrl}/v1/payments/${held.paymentId}/refunds`,
      'POST',
      await platform.serviceToken('operator'),
      {},
      { 'idempotency-key': randomUUID() },
    );
    expect(refund).toMatchObject({ status: 202, body: { amount: { amount: '2500' } } });
    await platform.events.waitFor(held.paymentId, 'payments.payment.refunded');

    const released = await manualPurchase(1_800n);
    expect(await decide(released.paymentId, 'void')).toMatchObject({ status: 202 });
    const canceled = await platform.events.waitFor(released.paymentId, 'payments.payment.canceled');
    expect(canceled.data).toMatchObject({ reason: 'requested' });
    const voided = platform.simulator.paypal.snapshot().orders.find((o) => o.id === released.orderId);
    expect(voided?.purchase_units[0].payments?.authorizations?.[0].status).toBe('VOIDED');
    expect(platform.simulator.paypal.capturesFor(released.orderId)).toHaveLength(0);
    await ledgerBalancesToZero();
  });

  it('disputes: a CUSTOMER.DISPUTE webhook opens one like a chargeback; decided for the buyer it is lost and posted, for the seller won', async () => {
    const disputed = async (amount: bigint): Promise<{ paymentId: string; captureId: string }> => {
      const paymentId = await platform.paymentOf(await platform.publishPurchase(purchaseOf(paula, amount)));
      const captured = await platform.events.waitFor(paymentId, 'payments.payment.captured');
      await waitFor(
        () => postings(paymentId, 'capture'),
        (rows) => rows.length === 1,
        { what: 'the capture posting' },
      );
      const [capture] = platform.simulator.paypal.capturesFor(captured.data.reference as string);
      return { paymentId, captureId: capture.id };
    };
    const lost = await disputed(2_000n);
    const dispute = platform.simulator.paypal.openDispute(lost.captureId, { reason: 'UNAUTHORISED' });
    const opened = await platform.events.waitFor(lost.paymentId, 'payments.payment.dispute-opened');
    expect(opened.data).toMatchObject({ disputeId: dispute.dispute_id, amount: { amount: '2000' }, reason: 'unauthorised' });
    platform.simulator.paypal.resolveDispute(dispute.dispute_id, 'RESOLVED_BUYER_FAVOUR');
    const decided = await platform.events.waitFor(lost.paymentId, 'payments.payment.dispute-lost');
    expect(decided.data).toMatchObject({ disputeId: dispute.dispute_id, amount: { amount: '2000' } });
    await waitFor(
      () => platform.walletQuery("SELECT 1 FROM payment_ledger_postings WHERE payment_id = $1 AND movement = 'dispute_loss'", [lost.paymentId]),
      (rows) => rows.length === 1,
      { what: 'the dispute loss posting' },
    );

    const won = await disputed(1_500n);
    const second = platform.simulator.paypal.openDispute(won.captureId, { amount: 500n });
    await platform.events.waitFor(won.paymentId, 'payments.payment.dispute-opened');
    platform.simulator.paypal.resolveDispute(second.dispute_id, 'RESOLVED_SELLER_FAVOUR');
    await platform.events.waitFor(won.paymentId, 'payments.payment.dispute-won');
    // Every dispute webhook was verified and applied; the won one posted nothing.
    await platform.simulator.paypal.webhooks.idle();
    await waitFor(
      () =>
        platform.orchestrationQuery<{ outcome: string | null }>(
          "SELECT outcome FROM psp_webhook_events WHERE provider = 'paypal' AND object_type = 'dispute' AND payment_id = ANY($1)",
          [[lost.paymentId, won.paymentId]],
        ),
      (rows) => rows.length === 4 && rows.every((r) => r.outcome !== null),
      { what: 'the four dispute webhooks, applied' },
    );
    expect(
      await platform.walletQuery("SELECT 1 FROM payment_ledger_postings WHERE payment_id = $1 AND movement = 'dispute_loss'", [won.paymentId]),
    ).toHaveLength(0);
    // The lost amount went back from the merchant: one dispute-loss posting of the disputed 2000.
    expect(
      await platform.walletQuery("SELECT amount::text FROM payment_ledger_postings WHERE payment_id = $1 AND movement = 'dispute_loss'", [lost.paymentId]),
    ).toEqual([{ amount: '2000' }]);
    await ledgerBalancesToZero();
  });

  it('a timeout, then the late webhook: the payment converges to captured, with one order and one capture', async () => {
    const slow = await platform.person({ withoutCard: true, paypal: { behavesLike: 'vault_paypal_timeout' } });
    platform.simulator.paypal.setWebhookPolicy({ mode: 'hold' });
    try {
      const requestId = await platform.publishPurchase(purchaseOf(slow, 1_700n));
      const paymentId = await platform.paymentOf(requestId);
      const orderRequests = () =>
        Promise.resolve(
          platform.simulator.paypal.snapshot().requests.filter((r) => r.path === '/v2/checkout/orders' && r.requestId === `${paymentId}:authorize`),
        );
      // PayPal did the work; its answer is held past the adapter's timeout (an unknown outcome, never a decline).
      await waitFor(orderRequests, (requests) => requests.some((r) => r.fault === 'hold'), { what: 'the order request held by PayPal' });
      // From now on PayPal's API is out of reach for the retries: only the webhook can tell.
      platform.simulator.injectFault({ path: '/v2/checkout/orders', method: 'POST', effect: { type: 'error', status: 503 }, count: 1_000 });
      await waitFor(orderRequests, (requests) => requests.some((r) => r.fault === '503'), {
        what: 'a retry with the same PayPal-Request-Id, refused by an outage',
      });
      expect(platform.events.types(paymentId)).toEqual(['payments.payment.initiated']);
      // The late webhooks, newest first and each twice.
      await platform.simulator.paypal.webhooks.release({ order: 'reverse', duplicate: true });
      const captured = await platform.events.waitFor(paymentId, 'payments.payment.captured');
      const orderId = captured.data.reference as string;
      expect(platform.simulator.paypal.snapshot().orders.filter((order) => order.purchase_units[0].custom_id === paymentId)).toHaveLength(1);
      expect(platform.simulator.paypal.capturesFor(orderId)).toHaveLength(1);
      await waitFor(
        () => postings(paymentId, 'capture'),
        (rows) => rows.length === 1,
        { what: 'one capture posting' },
      );
      // The step saw the payment settled and stopped asking.
      await waitFor(
        () => platform.orchestrationQuery('SELECT 1 FROM payment_steps WHERE payment_id = $1', [paymentId]),
        (rows) => rows.length === 0,
        { what: 'no step left for the payment' },
      );
      expect(platform.events.types(paymentId).filter((type) => type === 'payments.payment.captured')).toHaveLength(1);
    } finally {
      // Forgets the outage and the held webhooks (and every order: the adapter fetches a new token too).
      platform.simulator.reset();
    }
  });

  it('a duplicate PayPal-Request-Id never captures twice: a 5xx after the work, the retry gets the first order back', async () => {
    const unlucky = await platform.person({ withoutCard: true, paypal: { behavesLike: 'vault_paypal_5xx' } });
    // Webhooks held: the step's retry, not PayPal's webhook, learns the outcome.
    platform.simulator.paypal.setWebhookPolicy({ mode: 'hold' });
    try {
      const requestId = await platform.publishPurchase(purchaseOf(unlucky, 2_100n));
      const paymentId = await platform.paymentOf(requestId);
      const captured = await platform.events.waitFor(paymentId, 'payments.payment.captured');
      const orderId = captured.data.reference as string;
      // (A 401 is an access token PayPal no longer takes: the adapter fetches a new one and sends the request again.)
      const requests = platform.simulator.paypal.snapshot().requests.filter((r) => r.requestId === `${paymentId}:authorize` && r.status !== 401);
      expect(requests.map((r) => [r.status, r.replayed])).toEqual([
        [500, false],
        [201, true],
      ]);
      expect(platform.simulator.paypal.capturesFor(orderId)).toHaveLength(1);
      await platform.simulator.paypal.webhooks.release({ duplicate: true });
      await waitFor(
        () => postings(paymentId, 'capture'),
        (rows) => rows.length === 1,
        { what: 'one capture posting' },
      );
      expect(platform.events.types(paymentId).filter((type) => type === 'payments.payment.captured')).toHaveLength(1);
      await ledgerBalancesToZero();
    } finally {
      platform.simulator.paypal.setWebhookPolicy({ mode: 'immediate' });
    }
  });

  it('refuses a forged or tampered PayPal webhook at the endpoint: 400, nothing recorded', async () => {
    const requestId = await platform.publishPurchase(purchaseOf(paula, 900n));
    const paymentId = await platform.paymentOf(requestId);
    await platform.events.waitFor(paymentId, 'payments.payment.captured');
    await platform.simulator.paypal.webhooks.idle();
    const genuine = platform.simulator.paypal
      .snapshot()
      .events.find((event) => event.event_type === 'PAYMENT.CAPTURE.COMPLETED' && (event.resource as { custom_id?: string }).custom_id === paymentId);
    expect(genuine).toBeDefined();
    const forgedEvent = {
      ...genuine!,
      id: `WH-FORGED-${randomUUID()}`,
      event_type: 'PAYMENT.CAPTURE.DENIED',
      resource: { ...genuine!.resource, status: 'DECLINED' },
    };
    const body = JSON.stringify(forgedEvent);
    const post = (payload: string, headers: Record<string, string>) =>
      fetch(`${platform.orchestrationUrl}/v1/webhooks/paypal`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: payload });
    const certUrl = `${platform.simulator.url}/v1/notifications/certs/CERT-simulator-0001`;
    const signed = signPayPalWebhook(JSON.stringify(genuine), {
      transmissionId: randomUUID(),
      transmissionTime: new Date().toISOString(),
      webhookId: 'SIMULATORWEBHOOK0000000001',
      certUrl,
    });
    // Tampered: a genuine signature over another body.
    const tampered = await post(body, signed);
    expect(tampered.status).toBe(400);
    expect(await tampered.json()).toMatchObject({ code: 'WEBHOOK_SIGNATURE_INVALID' });
    // Forged: signed for another webhook id, or naming a certificate off PayPal's hosts, or not signed at all.
    const otherEndpoint = signPayPalWebhook(body, {
      transmissionId: randomUUID(),
      transmissionTime: new Date().toISOString(),
      webhookId: 'SOMEONEELSE',
      certUrl,
    });
    expect((await post(body, otherEndpoint)).status).toBe(400);
    expect(
      (
        await post(body, {
          ...signPayPalWebhook(body, {
            transmissionId: randomUUID(),
            transmissionTime: new Date().toISOString(),
            webhookId: 'SIMULATORWEBHOOK0000000001',
            certUrl: 'https://evil.example/cert.pem',
          }),
        })
      ).status,
    ).toBe(400);
    expect((await post(body, {})).status).toBe(400);
    const recorded = await platform.orchestrationQuery("SELECT 1 FROM psp_webhook_events WHERE provider = 'paypal' AND event_id = $1", [forgedEvent.id]);
    expect(recorded).toHaveLength(0);
    expect(platform.events.types(paymentId)).not.toContain('payments.payment.failed');
  });
});
