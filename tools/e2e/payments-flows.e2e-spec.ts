/**
 * Payments end to end on real Kafka, PostgreSQL and the PSP simulator, with the real wallet
 * (settings, instruments, step-up proofs, ledger postings, funds commands) and
 * payment-orchestration in this process: purchases from a plain Kafka client and over HTTP,
 * declines, PSP timeouts and late, duplicated and reordered webhooks, every refusal of the checks,
 * idempotency under concurrency, refunds, disputes, transfers from balance, reconciliation —
 * and what each leaves in the ledger.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { APP_BACKEND_SCOPES } from '@pay/auth';
import { PAYMENT_REJECTION_CODES, Topics } from '@pay/contracts';
import { testKafka, waitFor } from '@pay/testing';
import type { PaymentDrivers } from '@pay/payment-orchestration/tools';
import { PAYMENT_DRIVERS } from '@pay/payment-orchestration/tools';
import type { HttpAnswer, PaymentsPlatform, TestPerson } from './e2e-kit';
import { feeOf, http, purchaseOf, startPaymentsPlatform } from './e2e-kit';

let platform: PaymentsPlatform;
let drivers: PaymentDrivers;

const MERCHANT = 'merchant-e2e';
const merchantPayable = `merchant.${MERCHANT}.payable.USD`;

beforeAll(async () => {
  platform = await startPaymentsPlatform();
  drivers = platform.orchestration!.app.get<symbol, PaymentDrivers>(PAYMENT_DRIVERS, { strict: false });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

async function captureEntry(paymentId: string): Promise<{ transaction_id: string; amount: string; fee: string }[]> {
  return platform.walletQuery("SELECT transaction_id, amount::text, fee::text FROM payment_ledger_postings WHERE payment_id = $1 AND movement = 'capture'", [
    paymentId,
  ]);
}

/** The payment's events as orchestration stored them: its source of truth, written with their outbox rows. */
async function storedTypes(paymentId: string): Promise<string[]> {
  return (await platform.orchestrationQuery<{ type: string }>('SELECT type FROM payment_events WHERE payment_id = $1 ORDER BY sequence', [paymentId])).map(
    (r) => r.type,
  );
}

/** Waits until no step of the payment is scheduled: orchestration has nothing left to do for it. */
async function stepsDone(paymentId: string): Promise<void> {
  await waitFor(
    () => drivers.steps.pending(),
    (steps) => !steps.some((s) => s.paymentId === paymentId),
    { what: `the steps of ${paymentId} to finish` },
  );
}

/** Waits until the wallet has handled payments.events.v1 up to where it ends now (its group's committed offsets). */
async function walletCaughtUp(): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(Topics.paymentEvents);
    const behind = async (): Promise<number> => {
      const [committed] = await admin.fetchOffsets({ groupId: platform.groups.walletPayments, topics: [Topics.paymentEvents] });
      const at = new Map(committed.partitions.map((p) => [p.partition, Number(p.offset)]));
      return ends.reduce((sum, end) => sum + Math.max(0, Number(end.high) - (at.get(end.partition) ?? -1)), 0);
    };
    await waitFor(behind, (n) => n === 0, { what: 'the wallet to handle payments.events.v1 up to its end' });
  } finally {
    await admin.disconnect();
  }
}

/** The reconciliation CLI as an operator runs it (a child process: this one serves the simulator and the services meanwhile). */
function reconcileCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [require.resolve('tsx/cli'), 'tools/payments/reconcile.ts', ...args], {
      cwd: resolve(__dirname, '../..'),
      env: { PATH: process.env.PATH, ...platform.orchestrationEnv, LOG_LEVEL: 'silent' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (status) => done({ status, stdout, stderr }));
  });
}

async function ledgerBalancesToZero(): Promise<void> {
  // Every currency's postings sum to zero (debits = credits), whatever happened.
  const [row] = await platform.walletQuery<{ debits: string; credits: string }>(
    "SELECT COALESCE(sum(amount) FILTER (WHERE direction = 'debit'), 0)::text AS debits, COALESCE(sum(amount) FILTER (WHERE direction = 'credit'), 0)::text AS credits FROM postings WHERE layer = 'posted'",
  );
  expect(row.debits).toBe(row.credits);
}

async function postPayment(body: Record<string, unknown>, key: string = randomUUID()): Promise<HttpAnswer> {
  return http(`${platform.orchestrationUrl}/v1/payments`, 'POST', await platform.serviceToken('service', body.app as string), body, { 'idempotency-key': key });
}

describe('a purchase', () => {
  let ana: TestPerson;

  beforeAll(async () => {
    ana = await platform.person();
  });

  it('published on Kafka by a plain client ends as payment.captured, and the wallet posts one balanced ledger transaction', async () => {
    const payableBefore = await platform.balance(merchantPayable);
    const requestId = await platform.publishPurchase(purchaseOf(ana, 2_000n));
    const paymentId = await platform.paymentOf(requestId);
    const captured = await platform.events.waitFor(paymentId, 'payments.payment.captured');
    expect(captured.data).toMatchObject({
      paymentId,
      kind: 'purchase',
      payerId: ana.id,
      counterparty: { type: 'merchant', id: MERCHANT },
      provider: 'stripe',
      amount: { amount: '2000', currency: 'USD' },
    });
    expect(platform.events.types(paymentId)).toEqual(['payments.payment.initiated', 'payments.payment.authorized', 'payments.payment.captured']);
    // The payment's events are caused by the request and share its correlation id.
    expect(new Set(platform.events.of(paymentId).map((e) => e.correlationId)).size).toBe(1);

    const [entry] = await waitFor(
      () => captureEntry(paymentId),
      (rows) => rows.length === 1,
      { what: 'the capture posting' },
    );
    expect(entry).toMatchObject({ amount: '2000', fee: feeOf(2_000n).toString() });
    await waitFor(
      () => platform.balance(merchantPayable),
      (b) => b === payableBefore + 2_000n - feeOf(2_000n),
      { what: 'the merchant payable' },
    );
    await ledgerBalancesToZero();
    expect(platform.simulator.chargesFor(captured.data.reference as string)).toHaveLength(1);
  });

  it('published on Kafka, its outcome is found over HTTP by requestId and payer, by an internal service only', async () => {
    const requestId = await platform.publishPurchase(purchaseOf(ana, 1_250n));
    const lookUp = async (query: string, token: string): Promise<HttpAnswer> => http(`${platform.orchestrationUrl}/v1/payments?${query}`, 'GET', token);
    const service = await platform.serviceToken();
    const found = await waitFor(
      () => lookUp(`requestId=${requestId}&payerId=${ana.id}`, service),
      (answer) => (answer.body.payments as { status: string }[] | undefined)?.[0]?.status === 'captured',
      { what: 'the captured payment, looked up by requestId', timeoutMs: 30_000 },
    );
    expect(found).toMatchObject({
      status: 200,
      body: { payments: [{ requestId, payerId: ana.id, status: 'captured', amount: { amount: '1250', currency: 'USD' }, capturedAmount: { amount: '1250' } }] },
    });
    // Another payer, or a request that is not there: nothing, the same answer for both.
    expect(await lookUp(`requestId=${requestId}&payerId=someone-else`, service)).toMatchObject({ status: 200, body: { payments: [] } });
    expect(await lookUp(`requestId=${randomUUID()}&payerId=${ana.id}`, service)).toMatchObject({ status: 200, body: { payments: [] } });
    // Least privilege: not the payer's own token, not an operator; both fields required.
    expect((await lookUp(`requestId=${requestId}&payerId=${ana.id}`, await platform.idp.signTestToken({ sub: ana.id, role: 'person' }))).status).toBe(403);
    expect((await lookUp(`requestId=${requestId}&payerId=${ana.id}`, await platform.serviceToken('operator'))).status).toBe(403);
    expect(await lookUp(`requestId=${requestId}`, service)).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    expect(await lookUp(`requestId=not-a-uuid&payerId=${ana.id}`, service)).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
  });

  it('with a card saved for later (a PaymentMethod on a Customer), every purchase charges it off-session with its customer', async () => {
    const dana = await platform.person({ savedCard: 'on_customer' });
    const references: string[] = [];
    for (const amount of [1_100n, 1_200n]) {
      const paymentId = await platform.paymentOf(await platform.publishPurchase(purchaseOf(dana, amount)));
      references.push((await platform.events.waitFor(paymentId, 'payments.payment.captured')).data.reference as string);
    }
    const intents = platform.simulator.snapshot().paymentIntents.filter((intent) => references.includes(intent.id));
    const customer = platform.simulator.snapshot().paymentMethods.find((method) => method.id === dana.pspToken)?.customer;
    expect(customer).toMatch(/^cus_/);
    expect(intents.map((intent) => [intent.payment_method, intent.customer, intent.status])).toEqual([
      [dana.pspToken, customer, 'succeeded'],
      [dana.pspToken, customer, 'succeeded'],
    ]);
  });

  it("with a card that asks for 3-D Secure on every payment (Stripe's 4000 0027 6000 3184), the off-session purchase fails authentication_required, posts nothing", async () => {
    const fay = await platform.person({ savedCard: 'on_customer', savedCardNumber: '4000002760003184' });
    const paymentId = await platform.paymentOf(await platform.publishPurchase(purchaseOf(fay, 1_300n)));
    const failed = await platform.events.waitFor(paymentId, 'payments.payment.failed');
    expect(failed.data).toMatchObject({ code: 'authentication_required', declineCode: 'authentication_required' });
    await stepsDone(paymentId);
    expect(await storedTypes(paymentId)).toEqual(['PaymentInitiated', 'Failed']);
    await walletCaughtUp();
    expect(await captureEntry(paymentId)).toHaveLength(0);
    expect(platform.events.types(paymentId)).not.toContain('payments.payment.captured');
  });

  it("with a card authenticated once at setup (Stripe's 4000 0025 0000 3155), the off-session purchase needs no challenge: captured and posted once", async () => {
    const gus = await platform.person({ savedCard: 'on_customer', savedCardNumber: '4000002500003155' });
    const paymentId = await platform.paymentOf(await platform.publishPurchase(purchaseOf(gus, 1_400n)));
    await platform.events.waitFor(paymentId, 'payments.payment.captured');
    await waitFor(
      () => captureEntry(paymentId),
      (rows) => rows.length === 1,
      { what: 'one capture posting' },
    );
  });

  it('with a card saved on no Customer, the PSP charges it once: the next purchase fails with its code, posts nothing', async () => {
    const eli = await platform.person({ savedCard: 'without_customer' });
    const first = await platform.paymentOf(await platform.publishPurchase(purchaseOf(eli, 900n)));
    await platform.events.waitFor(first, 'payments.payment.captured');
    const second = await platform.paymentOf(await platform.publishPurchase(purchaseOf(eli, 900n)));
    const failed = await platform.events.waitFor(second, 'payments.payment.failed');
    expect(failed.data).toMatchObject({ code: 'payment_method_unexpected_state' });
    await stepsDone(second);
    await walletCaughtUp();
    expect(await captureEntry(second)).toHaveLength(0);
  });

  it('declined by the issuer fails with the decline code and posts nothing', async () => {
    const bob = await platform.person({ cardBehavesLike: 'pm_card_chargeDeclined' });
    const requestId = await platform.publishPurchase(purchaseOf(bob, 1_500n));
    const paymentId = await platform.paymentOf(requestId);
    const failed = await platform.events.waitFor(paymentId, 'payments.payment.failed');
    expect(failed.data).toMatchObject({ code: 'card_declined', declineCode: 'generic_decline' });
    // Positive markers instead of a wait: orchestration has nothing left to do, the wallet has read past the failure.
    await stepsDone(paymentId);
    expect(await storedTypes(paymentId)).toEqual(['PaymentInitiated', 'Failed']);
    await walletCaughtUp();
    expect(await captureEntry(paymentId)).toHaveLength(0);
    expect(platform.events.types(paymentId)).not.toContain('payments.payment.captured');
  });

  it('timing out at the PSP is never a decline: a webhook arriving while the call hangs settles it, charged once', async () => {
    const cleo = await platform.person({ cardBehavesLike: 'pm_card_timeout' });
    const requestId = await platform.publishPurchase(purchaseOf(cleo, 3_000n));
    const paymentId = await platform.paymentOf(requestId);
    const captured = await platform.events.waitFor(paymentId, 'payments.payment.captured');
    // The step retried with the same key after the timeout; the PSP answered with the first outcome.
    await waitFor(
      () => drivers.steps.pending(),
      (steps) => !steps.some((s) => s.paymentId === paymentId),
      { what: 'the authorize step to finish' },
    );
    const requests = platform.simulator.requestsTo('/v1/payment_intents').filter((r) => r.idempotencyKey === `${paymentId}:authorize`);
    expect(requests.length).toBeGreaterThanOrEqual(1);
    expect(platform.simulator.chargesFor(captured.data.reference as string)).toHaveLength(1);
    expect(platform.events.types(paymentId)).toEqual(['payments.payment.initiated', 'payments.payment.authorized', 'payments.payment.captured']);
    await waitFor(
      () => captureEntry(paymentId),
      (rows) => rows.length === 1,
      { what: 'one capture posting' },
    );
  });

  it('timing out with webhooks late: the retry converges; the late webhooks, duplicated and reversed, change nothing more', async () => {
    const dora = await platform.person({ cardBehavesLike: 'pm_card_timeout' });
    platform.simulator.webhooks.setPolicy({ mode: 'hold' });
    try {
      const requestId = await platform.publishPurchase(purchaseOf(dora, 3_500n));
      const paymentId = await platform.paymentOf(requestId);
      const captured = await platform.events.waitFor(paymentId, 'payments.payment.captured');
      const replayed = platform.simulator.requestsTo('/v1/payment_intents').filter((r) => r.idempotencyKey === `${paymentId}:authorize`);
      expect(replayed.some((r) => r.replayed)).toBe(true);
      const before = platform.events.of(paymentId).length;
      const stored = await storedTypes(paymentId);
      await platform.simulator.webhooks.release({ order: 'reverse', duplicate: true });
      for (const event of platform.simulator.webhooks.subscribed().filter((e) => JSON.stringify(e).includes(paymentId)))
        await platform.simulator.webhooks.resend(event.id);
      await platform.simulator.webhooks.idle();
      // The positive marker: every webhook delivered twice was applied (an outcome is set in the transaction that applies it).
      const webhooks = await waitFor(
        () =>
          platform.orchestrationQuery<{ outcome: string | null; deliveries: number }>(
            'SELECT outcome, deliveries FROM psp_webhook_events WHERE payment_id = $1',
            [paymentId],
          ),
        (rows) => rows.length > 0 && rows.every((w) => w.outcome !== null && w.deliveries >= 2),
        { what: 'the late webhooks to be applied' },
      );
      expect(webhooks.every((w) => w.outcome === 'unchanged')).toBe(true);
      expect(await storedTypes(paymentId)).toEqual(stored);
      expect(platform.events.of(paymentId)).toHaveLength(before);
      expect(platform.simulator.chargesFor(captured.data.reference as string)).toHaveLength(1);
    } finally {
      platform.simulator.webhooks.setPolicy({ mode: 'immediate' });
    }
  });

  it('stuck at the PSP (processing, webhooks lost) is converged by reconciliation from a retrieve', async () => {
    const eve = await platform.person({ cardBehavesLike: 'pm_card_processing' });
    platform.simulator.webhooks.setPolicy({ mode: 'hold' });
    try {
      const requestId = await platform.publishPurchase(purchaseOf(eve, 4_000n));
      const paymentId = await platform.paymentOf(requestId);
      const [row] = await waitFor(
        () =>
          platform.orchestrationQuery<{ reference: string | null; status: string }>('SELECT reference, status FROM payments WHERE payment_id = $1', [
            paymentId,
          ]),
        (r) => r[0]?.reference !== null,
        { what: 'the PaymentIntent id' },
      );
      expect(row.status).toBe('initiated');
      platform.simulator.completePaymentIntent(row.reference!, 'succeeded');
      const report = await drivers.reconcile.run({ stuckAfterMs: 0 });
      expect(report.advanced).toContainEqual({ paymentId, events: ['Authorized', 'Captured'] });
      await platform.events.waitFor(paymentId, 'payments.payment.captured');
      // A second run finds nothing to do for it.
      const again = await drivers.reconcile.run({ stuckAfterMs: 0 });
      expect(again.advanced.find((a) => a.paymentId === paymentId)).toBeUndefined();
    } finally {
      platform.simulator.webhooks.setPolicy({ mode: 'immediate' });
      await platform.simulator.webhooks.release();
    }
  });
  it('npm run payments:reconcile (tools/payments/reconcile.ts, under tsx) converges a stuck payment and reports it', async () => {
    const fin = await platform.person({ cardBehavesLike: 'pm_card_processing' });
    platform.simulator.webhooks.setPolicy({ mode: 'hold' });
    try {
      const paymentId = await platform.paymentOf(await platform.publishPurchase(purchaseOf(fin, 4_100n)));
      const [row] = await waitFor(
        () => platform.orchestrationQuery<{ reference: string | null }>('SELECT reference FROM payments WHERE payment_id = $1', [paymentId]),
        (r) => r[0]?.reference !== null,
        { what: 'the PaymentIntent id' },
      );
      platform.simulator.completePaymentIntent(row.reference!, 'succeeded');
      const run = await reconcileCli(['--stuck-after', '0']);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const report = JSON.parse(run.stdout) as { advanced: { paymentId: string; events: string[] }[]; conflicts: unknown[] };
      expect(report.advanced).toContainEqual({ paymentId, events: ['Authorized', 'Captured'] });
      await platform.events.waitFor(paymentId, 'payments.payment.captured');
      const usage = await reconcileCli(['--stuck-after', 'soon']);
      expect(usage.status).toBe(2);
      expect(usage.stderr).toMatch(/--stuck-after must be a whole number of seconds from 0 to 31536000; got "soon"/);
    } finally {
      platform.simulator.webhooks.setPolicy({ mode: 'immediate' });
      await platform.simulator.webhooks.release();
    }
  });
});

describe('the checks before money moves', () => {
  let ana: TestPerson;
  let noCard: TestPerson;

  beforeAll(async () => {
    ana = await platform.person({ apps: ['instagram', 'facebook', 'messenger'] });
    noCard = await platform.person({ withoutCard: true });
  });

  const REFUSALS: [string, () => Promise<Record<string, unknown>>, number][] = [
    ['PAY_NOT_AVAILABLE_IN_COUNTRY', async () => purchaseOf(ana, 1_000n, { country: 'BR' }), 403],
    ['PAY_NOT_AVAILABLE_IN_APP', async () => purchaseOf(ana, 1_000n, { country: 'DE', app: 'instagram' }), 403],
    ['PAY_NOT_ACTIVE_IN_APP', async () => purchaseOf(ana, 1_000n, { app: 'whatsapp' }), 403],
    ['WALLET_NOT_FOUND', async () => purchaseOf({ id: 'nobody-here' }, 1_000n), 404],
    ['CURRENCY_NOT_SUPPORTED', async () => purchaseOf(ana, 1_000n, { amount: { amount: '1000', currency: 'JPY' } }), 422],
    ['AMOUNT_BELOW_MINIMUM', async () => purchaseOf(ana, 10n), 422],
    ['AMOUNT_ABOVE_MAXIMUM', async () => purchaseOf(ana, 5_000_000n), 422],
    ['PAYMENT_METHOD_NOT_FOUND', async () => purchaseOf(ana, 1_000n, { paymentMethodId: randomUUID() }), 422],
    ['NO_PREFERRED_METHOD', async () => purchaseOf(noCard, 1_000n), 422],
    ['COUNTERPARTY_NOT_ALLOWED', async () => purchaseOf(ana, 1_000n, { counterparty: { type: 'person', id: 'x' } }), 422],
    ['NON_PROFIT_NOT_REGISTERED', async () => purchaseOf(ana, 1_000n, { kind: 'donation', counterparty: { type: 'non-profit', id: 'np-unknown' } }), 422],
    ['STEP_UP_REQUIRED', async () => purchaseOf(ana, 6_000n), 403],
    ['STEP_UP_AMOUNT_ABOVE_CEILING', async () => purchaseOf(ana, 7_000n, { stepUpProof: await ana.stepUp(6_000n) }), 403],
    ['STEP_UP_PROOF_INVALID', async () => purchaseOf(ana, 6_000n, { stepUpProof: 'not.a.proof' }), 403],
    [
      'CAPTURE_METHOD_NOT_SUPPORTED',
      async () => purchaseOf(ana, 1_000n, { kind: 'transfer', counterparty: { type: 'person', id: noCard.id }, captureMethod: 'manual' }),
      422,
    ],
  ];

  it.each(REFUSALS)('%s: refused on Kafka with payments.payment.rejected, over HTTP with its status and code; nothing moves', async (code, build, status) => {
    const psp = platform.simulator.requestsTo('/v1/payment_intents').length;
    const requestId = await platform.publishPurchase(await build());
    const rejected = await platform.events.waitFor(requestId, 'payments.payment.rejected');
    expect(rejected.data).toMatchObject({ requestId, code });
    const answer = await postPayment(await build());
    expect(answer.status).toBe(status);
    expect(answer.body).toMatchObject({ code, message: expect.any(String) });
    expect(await platform.orchestrationQuery('SELECT 1 FROM payments WHERE request_id = $1', [requestId])).toHaveLength(0);
    expect(platform.simulator.requestsTo('/v1/payment_intents').length).toBe(psp);
  });

  it('covers the codes of the contract that a person can trigger', () => {
    const tested = new Set(REFUSALS.map(([code]) => code));
    const elsewhere = [
      'IDEMPOTENCY_KEY_REUSED',
      'PAYMENT_METHOD_REMOVED',
      'STEP_UP_PROOF_ALREADY_USED',
      'STEP_UP_PROOF_EXPIRED',
      'SELF_TRANSFER',
      'RECIPIENT_NOT_FOUND',
      'PAYMENT_METHOD_NOT_ACCEPTED',
      // The Kafka door's rate limits: payment-abuse-limits.e2e-spec.ts.
      'RATE_LIMITED',
    ];
    expect(PAYMENT_REJECTION_CODES.filter((code) => !tested.has(code) && !elsewhere.includes(code))).toEqual([]);
  });

  it('accepts a step-up proof once: above the threshold with a proof it is captured; the same proof again is refused', async () => {
    const proof = await ana.stepUp(8_000n);
    const first = await platform.publishPurchase(purchaseOf(ana, 8_000n, { stepUpProof: proof }));
    await platform.events.waitFor(await platform.paymentOf(first), 'payments.payment.captured');
    const second = await platform.publishPurchase(purchaseOf(ana, 7_000n, { stepUpProof: proof }));
    expect((await platform.events.waitFor(second, 'payments.payment.rejected')).data.code).toBe('STEP_UP_PROOF_ALREADY_USED');
  });

  it("lets an app's backend confirm with the person's token it was issued (RFC 8693), never with its own: the proof pays above the threshold", async () => {
    const stepUp = (token: string) =>
      http<{ proof?: string }>(`${platform.wallet.url}/v1/wallets/${ana.id}/step-up/pin`, 'POST', token, {
        pin: '730264',
        ceiling: { amount: '8000', currency: 'USD' },
      });
    // Its own token, with every scope it is registered for: nothing of the person.
    const own = await platform.serviceToken('service', 'instagram');
    for (const answer of [await stepUp(own), await http(`${platform.wallet.url}/v1/wallets/${ana.id}`, 'GET', own)]) {
      expect(answer).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
      expect(JSON.stringify(answer.body)).not.toMatch(/proof|paymentMethods|730264/);
    }
    // Another person's token held by the backend: the 404 of nobody.
    expect((await stepUp(await platform.delegatedToken(noCard.id))).status).toBe(404);
    const proof = await stepUp(await platform.delegatedToken(ana.id));
    expect(proof).toMatchObject({ status: 201, body: { proof: expect.any(String) } });
    const paid = await postPayment(purchaseOf(ana, 8_000n, { stepUpProof: proof.body.proof }));
    expect(paid.status).toBe(202);
    await platform.events.waitFor(paid.body.paymentId as string, 'payments.payment.captured');
  });

  it('refuses a removed method (PAYMENT_METHOD_REMOVED) once the wallet says so', async () => {
    const fay = await platform.person();
    const caller = await platform.idp.signTestToken({ sub: fay.id, role: 'person' });
    const removed = await http(`${platform.wallet.url}/v1/wallets/${fay.id}/payment-methods/${fay.methodId}`, 'DELETE', caller);
    expect(removed.status).toBeLessThan(300);
    await waitFor(
      () => platform.orchestrationQuery('SELECT removed FROM wallet_methods WHERE method_id = $1', [fay.methodId]),
      (rows) => rows[0]?.removed === true,
      { what: 'the removal' },
    );
    const answer = await postPayment(purchaseOf(fay, 1_000n, { paymentMethodId: fay.methodId }));
    expect(answer).toMatchObject({ status: 422, body: { code: 'PAYMENT_METHOD_REMOVED' } });
  });

  it('a donation to a registered non-profit is captured and reported as such', async () => {
    const requestId = await platform.publishPurchase(purchaseOf(ana, 1_200n, { kind: 'donation', counterparty: { type: 'non-profit', id: 'np-unicef' } }));
    const captured = await platform.events.waitFor(await platform.paymentOf(requestId), 'payments.payment.captured');
    expect(captured.data).toMatchObject({ kind: 'donation', counterparty: { type: 'non-profit', id: 'np-unicef' } });
  });
});

describe('POST /v1/payments idempotency', () => {
  let gil: TestPerson;

  beforeAll(async () => {
    gil = await platform.person();
  });

  it('replays the first answer for the same key and body, refuses another body (422), and needs a UUID key', async () => {
    const key = randomUUID();
    const first = await postPayment(purchaseOf(gil, 1_000n), key);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ requestId: key, status: 'initiated', amount: { amount: '1000', currency: 'USD' } });
    const again = await postPayment(purchaseOf(gil, 1_000n), key);
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await postPayment(purchaseOf(gil, 1_001n), key)).toMatchObject({ status: 422, body: { code: 'IDEMPOTENCY_KEY_REUSED' } });
    // The Kafka door shares the key space: the same request id there is the same payment.
    await platform.publishPurchase({ requestId: key, ...purchaseOf(gil, 1_000n) });
    await platform.events.waitFor(first.body.paymentId as string, 'payments.payment.captured');
    expect(await platform.orchestrationQuery('SELECT 1 FROM payments WHERE request_id = $1', [key])).toHaveLength(1);
    const missing = await http(`${platform.orchestrationUrl}/v1/payments`, 'POST', await platform.serviceToken(), purchaseOf(gil, 1_000n));
    expect(missing).toMatchObject({ status: 400, body: { code: 'IDEMPOTENCY_KEY_REQUIRED' } });
    const view = await http(`${platform.orchestrationUrl}/v1/payments/${first.body.paymentId as string}`, 'GET', await platform.serviceToken());
    expect(view).toMatchObject({ status: 200, body: { status: 'captured', capturedAmount: { amount: '1000' } } });
  });

  it('makes one payment (one charge) of 50 concurrent duplicates', async () => {
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 50 }, () => postPayment(purchaseOf(gil, 1_100n), key)));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(202));
    expect(new Set(answers.map((a) => String(a.body.paymentId))).size).toBe(1);
    const paymentId = answers[0].body.paymentId as string;
    const captured = await platform.events.waitFor(paymentId, 'payments.payment.captured');
    expect(platform.simulator.chargesFor(captured.data.reference as string)).toHaveLength(1);
    expect(platform.events.types(paymentId).filter((t) => t === 'payments.payment.initiated')).toHaveLength(1);
  });

  it('still reads a payer sent under its former name personId, on both doors, as the same request', async () => {
    const { payerId, ...rest } = purchaseOf(gil, 1_200n);
    const former = { ...rest, personId: payerId };
    const key = randomUUID();
    const first = await postPayment(former, key);
    expect(first.status).toBe(202);
    // The request hash covers the payer, not the field's name: the new name replays the first answer.
    expect(await postPayment(purchaseOf(gil, 1_200n), key)).toMatchObject({ status: 202, body: first.body });
    const captured = await platform.events.waitFor(first.body.paymentId as string, 'payments.payment.captured');
    expect(captured.data).toMatchObject({ payerId: gil.id });
    const requestId = await platform.publishPurchase(former);
    expect((await platform.events.waitFor(await platform.paymentOf(requestId), 'payments.payment.captured')).data).toMatchObject({ payerId: gil.id });
  });

  it('refuses callers that are not services', async () => {
    const person = await platform.idp.signTestToken({ sub: gil.id, role: 'person' });
    const answer = await http(`${platform.orchestrationUrl}/v1/payments`, 'POST', person, purchaseOf(gil, 1_000n), { 'idempotency-key': randomUUID() });
    expect(answer.status).toBe(403);
    expect(
      (await http(`${platform.orchestrationUrl}/v1/payments`, 'POST', undefined, purchaseOf(gil, 1_000n), { 'idempotency-key': randomUUID() })).status,
    ).toBe(401);
  });
});

describe('refunds and disputes', () => {
  let hal: TestPerson;

  beforeAll(async () => {
    hal = await platform.person();
  });

  async function capturedPayment(amount: bigint): Promise<{ paymentId: string; reference: string }> {
    const requestId = await platform.publishPurchase(purchaseOf(hal, amount));
    const paymentId = await platform.paymentOf(requestId);
    const captured = await platform.events.waitFor(paymentId, 'payments.payment.captured');
    await waitFor(
      () => captureEntry(paymentId),
      (rows) => rows.length === 1,
      { what: 'the capture posting' },
    );
    return { paymentId, reference: captured.data.reference as string };
  }

  const refund = async (paymentId: string, amount?: bigint, role: 'service' | 'operator' = 'operator', key = randomUUID()) =>
    http(
      `${platform.orchestrationUrl}/v1/payments/${paymentId}/refunds`,
      'POST',
      await platform.serviceToken(role),
      amount === undefined ? {} : { amount: { amount: amount.toString(), currency: 'USD' } },
      { 'idempotency-key': key },
    );

  it('refunds in parts up to the captured amount; the wallet reverses each; the merchant payable is captures - fees - refunds', async () => {
    const payableBefore = await platform.balance(merchantPayable);
    const { paymentId } = await capturedPayment(5_000n);
    const first = await refund(paymentId, 1_000n, 'service');
    expect(first).toMatchObject({ status: 202, body: { paymentId, status: 'pending', amount: { amount: '1000' } } });
    const second = await refund(paymentId, 1_500n);
    expect(second.status).toBe(202);
    expect(await refund(paymentId, 2_600n)).toMatchObject({ status: 422, body: { code: 'REFUND_EXCEEDS_CAPTURED' } });
    await waitFor(
      () => Promise.resolve(platform.events.types(paymentId).filter((t) => t === 'payments.payment.refunded').length),
      (n) => n === 2,
      { what: 'two refunds' },
    );
    const rest = await refund(paymentId);
    expect(rest).toMatchObject({ status: 202, body: { amount: { amount: '2500' } } });
    const last = await waitFor(
      () => Promise.resolve(platform.events.of(paymentId).filter((e) => e.type === 'payments.payment.refunded')),
      (list) => list.length === 3,
      { what: 'the full refund' },
    );
    expect(last[2].data).toMatchObject({ full: true, refundedTotal: { amount: '5000' } });
    expect(await refund(paymentId, 1n)).toMatchObject({ status: 409, body: { code: 'TRANSITION_NOT_ALLOWED' } });
    await waitFor(
      () => platform.walletQuery("SELECT 1 FROM payment_ledger_postings WHERE payment_id = $1 AND movement = 'refund'", [paymentId]),
      (rows) => rows.length === 3,
      { what: 'three refund postings' },
    );
    // The fee is kept: 5000 captured, fee kept, 5000 refunded.
    await waitFor(
      () => platform.balance(merchantPayable),
      (b) => b === payableBefore - feeOf(5_000n),
      { what: 'the merchant payable after refunds' },
    );
    await ledgerBalancesToZero();
  });

  it("keeps each app's backend to its own merchants' payments and its own app: another gets 404 and moves nothing", async () => {
    const { paymentId } = await capturedPayment(3_000n);
    const own = await platform.serviceToken();
    // Another merchant's backend in the same app, a platform service with every payment scope but no merchant, another app's backend.
    const otherMerchant = await platform.idp.signTestToken({
      sub: 'other-shop',
      role: 'service',
      app: 'instagram',
      merchants: ['merchant-other'],
      scope: APP_BACKEND_SCOPES.join(' '),
    });
    const noMerchant = await platform.idp.signTestToken({ sub: 'platform-service', role: 'service', scope: APP_BACKEND_SCOPES.join(' ') });
    const view = (token: string) => http(`${platform.orchestrationUrl}/v1/payments/${paymentId}`, 'GET', token);
    const refundAs = (token: string) =>
      http(
        `${platform.orchestrationUrl}/v1/payments/${paymentId}/refunds`,
        'POST',
        token,
        { amount: { amount: '100', currency: 'USD' } },
        { 'idempotency-key': randomUUID() },
      );
    for (const token of [otherMerchant, noMerchant]) {
      expect(await view(token)).toMatchObject({ status: 404, body: { code: 'PAYMENT_NOT_FOUND' } });
      expect(await refundAs(token)).toMatchObject({ status: 404, body: { code: 'PAYMENT_NOT_FOUND' } });
    }
    // The same 404 as a payment that does not exist: ids cannot be probed.
    expect((await http(`${platform.orchestrationUrl}/v1/payments/pay_nothing_here`, 'GET', own)).body).toEqual((await view(otherMerchant)).body);
    // Without the scope, a backend of the right merchant is refused by the guard.
    const unscoped = await platform.idp.signTestToken({ sub: 'instagram-backend', role: 'service', app: 'instagram', merchants: ['merchant-e2e'] });
    expect((await view(unscoped)).status).toBe(403);
    expect((await refundAs(unscoped)).status).toBe(403);
    expect(await storedTypes(paymentId)).not.toContain('RefundRequested');
    // Its own merchant's backend sees and refunds it.
    expect(await view(own)).toMatchObject({ status: 200, body: { paymentId, status: 'captured' } });
    expect(await refundAs(own)).toMatchObject({ status: 202, body: { paymentId, status: 'pending' } });
    // One app's backend cannot ask for a payment in another app, nor look up another app's request.
    const facebook = await platform.serviceToken('service', 'facebook');
    const asFacebook = await http(`${platform.orchestrationUrl}/v1/payments`, 'POST', facebook, purchaseOf(await platform.person(), 1_000n), {
      'idempotency-key': randomUUID(),
    });
    expect(asFacebook).toMatchObject({ status: 403, body: { code: 'APP_NOT_ALLOWED' } });
    const [{ request_id: requestId, payer_id: payerId }] = await platform.orchestrationQuery(
      'SELECT request_id, payer_id FROM payments WHERE payment_id = $1',
      [paymentId],
    );
    const lookUp = (token: string) =>
      http(`${platform.orchestrationUrl}/v1/payments?requestId=${requestId as string}&payerId=${payerId as string}`, 'GET', token);
    expect(await lookUp(facebook)).toMatchObject({ status: 200, body: { payments: [] } });
    expect(await lookUp(own)).toMatchObject({ status: 200, body: { payments: [{ paymentId }] } });
  });

  it('takes concurrent refund requests of one payment, each with its own key: none is lost to the race for the next version', async () => {
    const { paymentId } = await capturedPayment(4_000n);
    // Ten writers read the same version at once; all but one lose the race and must run again.
    const answers = await Promise.all(Array.from({ length: 10 }, () => refund(paymentId, 400n)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(202));
    expect(new Set(answers.map((answer) => String(answer.body.refundId))).size).toBe(10);
    const refunded = await waitFor(
      () => Promise.resolve(platform.events.of(paymentId).filter((e) => e.type === 'payments.payment.refunded')),
      (list) => list.length === 10,
      { what: 'ten refunds' },
    );
    expect(refunded.at(-1)?.data).toMatchObject({ full: true, refundedTotal: { amount: '4000' } });
    expect(await refund(paymentId, 1n)).toMatchObject({ status: 409, body: { code: 'TRANSITION_NOT_ALLOWED' } });
  });

  it('replays a refund for the same key, and refunds nobody twice', async () => {
    const { paymentId } = await capturedPayment(2_000n);
    const key = randomUUID();
    const first = await refund(paymentId, 500n, 'operator', key);
    const again = await refund(paymentId, 500n, 'operator', key);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    await platform.events.waitFor(paymentId, 'payments.payment.refunded');
    await stepsDone(paymentId); // the positive marker: no refund is left to run
    expect((await storedTypes(paymentId)).filter((t) => t === 'RefundRequested' || t === 'Refunded')).toEqual(['RefundRequested', 'Refunded']);
    expect(platform.events.types(paymentId).filter((t) => t === 'payments.payment.refunded')).toHaveLength(1);
  });

  it('records a chargeback from the PSP webhooks (payment found by its PaymentIntent id); a lost one is reversed in the ledger', async () => {
    const { paymentId, reference } = await capturedPayment(3_000n);
    const dispute = platform.simulator.openDispute(reference, { reason: 'fraudulent' });
    await platform.events.waitFor(paymentId, 'payments.payment.dispute-opened');
    platform.simulator.closeDispute(dispute.id, 'lost');
    const lost = await platform.events.waitFor(paymentId, 'payments.payment.dispute-lost');
    expect(lost.data).toMatchObject({ disputeId: dispute.id, amount: { amount: '3000' } });
    await waitFor(
      () => platform.walletQuery("SELECT 1 FROM payment_ledger_postings WHERE payment_id = $1 AND movement = 'dispute_loss'", [paymentId]),
      (rows) => rows.length === 1,
      { what: 'the chargeback posting' },
    );
    await ledgerBalancesToZero();
    const view = await http(`${platform.orchestrationUrl}/v1/payments/${paymentId}`, 'GET', await platform.serviceToken('operator'));
    expect(view.body).toMatchObject({ status: 'disputed', dispute: { outcome: 'lost' } });
  });
});

describe('manual capture: authorised now, captured or voided later by the merchant', () => {
  let una: TestPerson;

  beforeAll(async () => {
    una = await platform.person();
  });

  const decide = async (paymentId: string, action: 'capture' | 'void', body: Record<string, unknown> = {}, token?: string, key: string = randomUUID()) =>
    http(`${platform.orchestrationUrl}/v1/payments/${paymentId}/${action}`, 'POST', token ?? (await platform.serviceToken()), body, { 'idempotency-key': key });

  /** A manual purchase over HTTP, once the PSP holds it (authorized, nothing posted). */
  async function authorizedPayment(amount: bigint): Promise<{ paymentId: string; reference: string }> {
    const answer = await postPayment(purchaseOf(una, amount, { captureMethod: 'manual' }));
    expect(answer.status).toBe(202);
    const paymentId = answer.body.paymentId as string;
    const authorized = await platform.events.waitFor(paymentId, 'payments.payment.authorized');
    await stepsDone(paymentId);
    expect(platform.events.types(paymentId)).toEqual(['payments.payment.initiated', 'payments.payment.authorized']);
    return { paymentId, reference: authorized.data.reference as string };
  }

  it('captures part of the authorisation once: the wallet posts what was captured, the PSP charged that much', async () => {
    const payableBefore = await platform.balance(merchantPayable);
    const { paymentId, reference } = await authorizedPayment(3_000n);
    await walletCaughtUp();
    expect(await captureEntry(paymentId)).toHaveLength(0);
    // Another merchant's backend does not find it; more than authorised is refused.
    const otherMerchant = await platform.idp.signTestToken({
      sub: 'other-shop',
      role: 'service',
      app: 'instagram',
      merchants: ['merchant-other'],
      scope: APP_BACKEND_SCOPES.join(' '),
    });
    expect(await decide(paymentId, 'capture', {}, otherMerchant)).toMatchObject({ status: 404, body: { code: 'PAYMENT_NOT_FOUND' } });
    expect(await decide(paymentId, 'void', {}, otherMerchant)).toMatchObject({ status: 404, body: { code: 'PAYMENT_NOT_FOUND' } });
    expect(await decide(paymentId, 'capture', { amount: { amount: '3001', currency: 'USD' } })).toMatchObject({
      status: 422,
      body: { code: 'CAPTURE_EXCEEDS_AUTHORIZED' },
    });
    expect(await decide(paymentId, 'capture', { amount: { amount: '100', currency: 'EUR' } })).toMatchObject({
      status: 422,
      body: { code: 'CURRENCY_MISMATCH' },
    });
    expect((await decide(paymentId, 'capture', {}, undefined, 'not-a-uuid')).status).toBe(400);

    const key = randomUUID();
    const capture = await decide(paymentId, 'capture', { amount: { amount: '2000', currency: 'USD' } }, undefined, key);
    expect(capture).toMatchObject({ status: 202, body: { paymentId, action: 'capture', status: 'pending', amount: { amount: '2000', currency: 'USD' } } });
    const again = await decide(paymentId, 'capture', { amount: { amount: '2000', currency: 'USD' } }, undefined, key);
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await decide(paymentId, 'void', {}, undefined, key)).toMatchObject({ status: 422, body: { code: 'IDEMPOTENCY_KEY_REUSED' } });

    const captured = await platform.events.waitFor(paymentId, 'payments.payment.captured');
    expect(captured.data).toMatchObject({ amount: { amount: '2000' }, authorizedAmount: { amount: '3000' } });
    await stepsDone(paymentId);
    expect(await decide(paymentId, 'void')).toMatchObject({ status: 409, body: { code: 'TRANSITION_NOT_ALLOWED' } });
    expect(await decide(paymentId, 'capture')).toMatchObject({ status: 409, body: { code: 'TRANSITION_NOT_ALLOWED' } });
    const [entry] = await waitFor(
      () => captureEntry(paymentId),
      (rows) => rows.length === 1,
      { what: 'the capture posting' },
    );
    expect(entry).toMatchObject({ amount: '2000', fee: feeOf(2_000n).toString() });
    await waitFor(
      () => platform.balance(merchantPayable),
      (b) => b >= payableBefore + 2_000n - feeOf(2_000n),
      { what: 'the merchant payable' },
    );
    expect(platform.simulator.chargesFor(reference)).toEqual([expect.objectContaining({ amount_captured: 2_000, captured: true })]);
    expect(platform.simulator.requestsTo(`/v1/payment_intents/${reference}/capture`).filter((r) => !r.replayed)).toHaveLength(1);
    await ledgerBalancesToZero();
  });

  it('voided: the hold is released, nothing is charged or posted; a payment captured at once cannot be voided', async () => {
    const { paymentId, reference } = await authorizedPayment(1_500n);
    expect(await decide(paymentId, 'void')).toMatchObject({ status: 202, body: { action: 'void', amount: { amount: '1500' } } });
    const canceled = await platform.events.waitFor(paymentId, 'payments.payment.canceled');
    expect(canceled.data).toMatchObject({ paymentId });
    await stepsDone(paymentId);
    expect(await decide(paymentId, 'capture')).toMatchObject({ status: 409, body: { code: 'TRANSITION_NOT_ALLOWED' } });
    await walletCaughtUp();
    expect(await captureEntry(paymentId)).toHaveLength(0);
    expect(platform.simulator.chargesFor(reference).every((charge) => !charge.captured)).toBe(true);

    const automatic = await platform.paymentOf(await platform.publishPurchase(purchaseOf(una, 1_000n)));
    await platform.events.waitFor(automatic, 'payments.payment.captured');
    expect(await decide(automatic, 'void')).toMatchObject({ status: 409, body: { code: 'CAPTURE_METHOD_AUTOMATIC' } });
  });

  it('left undecided past its window, reconciliation voids it', async () => {
    const { paymentId } = await authorizedPayment(1_200n);
    const report = await drivers.reconcile.run({ stuckAfterMs: 0, authorizationWindowMs: 0 });
    expect(report.pending).toContainEqual({ paymentId, reason: 'manual authorisation undecided past its window: void scheduled' });
    await platform.events.waitFor(paymentId, 'payments.payment.canceled');
    await stepsDone(paymentId);
    expect(await storedTypes(paymentId)).toEqual(['PaymentInitiated', 'Authorized', 'Canceled']);
  });

  it('a bank account cannot be held for later: the payment fails with capture_method_not_supported and posts nothing', async () => {
    // Its only, so preferred, method: a US account, debited by ACH.
    const vic = await platform.person({ withoutCard: true, bankAccount: { routingNumber: '110000000', accountNumber: '000123456789' } });
    const answer = await postPayment(purchaseOf(vic, 1_000n, { captureMethod: 'manual' }));
    expect(answer.status).toBe(202);
    const failed = await platform.events.waitFor(answer.body.paymentId as string, 'payments.payment.failed');
    expect(failed.data).toMatchObject({ code: 'capture_method_not_supported' });
    await walletCaughtUp();
    expect(await captureEntry(answer.body.paymentId as string)).toHaveLength(0);
  });
});

describe('a transfer from wallet balance', () => {
  it('reserves, then posts: the sender pays once, the recipient receives', async () => {
    const [ivy, jon] = [await platform.person(), await platform.person()];
    await platform.topUp(ivy.id, 10_000n);
    const requestId = await platform.publishPurchase({ ...purchaseOf(ivy, 2_500n), kind: 'transfer', counterparty: { type: 'person', id: jon.id } });
    const paymentId = await platform.paymentOf(requestId);
    const captured = await platform.events.waitFor(paymentId, 'payments.payment.captured');
    expect(captured.data).toMatchObject({ kind: 'transfer', provider: 'wallet', amount: { amount: '2500' } });
    expect(platform.events.types(paymentId)).toEqual(['payments.payment.initiated', 'payments.payment.authorized', 'payments.payment.captured']);
    expect(await platform.balance(`person.${ivy.id}.wallet.USD`)).toBe(7_500n);
    expect(await platform.balance(`person.${jon.id}.wallet.USD`)).toBe(2_500n);
    await ledgerBalancesToZero();
  });

  it('fails with insufficient_funds when the balance does not cover it; nothing moves', async () => {
    const [kim, lea] = [await platform.person(), await platform.person()];
    await platform.topUp(kim.id, 1_000n);
    const requestId = await platform.publishPurchase({ ...purchaseOf(kim, 2_500n), kind: 'transfer', counterparty: { type: 'person', id: lea.id } });
    const failed = await platform.events.waitFor(await platform.paymentOf(requestId), 'payments.payment.failed');
    expect(failed.data.code).toBe('insufficient_funds');
    expect(await platform.balance(`person.${kim.id}.wallet.USD`)).toBe(1_000n);
  });

  it('is refunded by the wallet, in parts: the recipient gives back; a part the recipient no longer covers fails and moves nothing', async () => {
    const [oli, pia, quy] = [await platform.person(), await platform.person(), await platform.person()];
    await platform.topUp(oli.id, 10_000n);
    const paymentId = await platform.paymentOf(
      await platform.publishPurchase({ ...purchaseOf(oli, 4_000n), kind: 'transfer', counterparty: { type: 'person', id: pia.id } }),
    );
    await platform.events.waitFor(paymentId, 'payments.payment.captured');
    const refundAs = async (token: string, amount?: bigint) =>
      http(
        `${platform.orchestrationUrl}/v1/payments/${paymentId}/refunds`,
        'POST',
        token,
        amount === undefined ? {} : { amount: { amount: amount.toString(), currency: 'USD' } },
        { 'idempotency-key': randomUUID() },
      );
    const operator = await platform.serviceToken('operator');
    // Least privilege: an app's backend acts for merchants, not for persons: the transfer is not found.
    expect(await refundAs(await platform.serviceToken('service', 'whatsapp'), 100n)).toMatchObject({ status: 404, body: { code: 'PAYMENT_NOT_FOUND' } });

    const first = await refundAs(operator, 1_500n);
    expect(first).toMatchObject({ status: 202, body: { paymentId, status: 'pending', amount: { amount: '1500', currency: 'USD' } } });
    const refunded = await waitFor(
      () => Promise.resolve(platform.events.of(paymentId).filter((e) => e.type === 'payments.payment.refunded')),
      (events) => events.length === 1,
      { what: 'the first refund of the transfer' },
    );
    expect(refunded[0].data).toMatchObject({ refundId: first.body.refundId, provider: 'wallet', amount: { amount: '1500' }, full: false });
    await waitFor(
      () => platform.balance(`person.${oli.id}.wallet.USD`),
      (balance) => balance === 7_500n,
      { what: "the sender's balance after the refund" },
    );
    expect(await platform.balance(`person.${pia.id}.wallet.USD`)).toBe(2_500n);

    // The recipient spends most of it; the rest of the refund (2500) is more than they hold.
    const spent = await platform.paymentOf(
      await platform.publishPurchase({ ...purchaseOf(pia, 2_000n), kind: 'transfer', counterparty: { type: 'person', id: quy.id } }),
    );
    await platform.events.waitFor(spent, 'payments.payment.captured');
    const rest = await refundAs(operator);
    expect(rest).toMatchObject({ status: 202, body: { amount: { amount: '2500' } } });
    const failed = await platform.events.waitFor(paymentId, 'payments.payment.refund-failed');
    expect(failed.data).toMatchObject({ refundId: rest.body.refundId, reason: 'insufficient_funds' });
    expect(await platform.balance(`person.${pia.id}.wallet.USD`)).toBe(500n);
    expect(await platform.balance(`person.${oli.id}.wallet.USD`)).toBe(7_500n);

    // What the recipient still holds can be given back; the refunds never exceed the transfer.
    const last = await refundAs(operator, 500n);
    expect(last.status).toBe(202);
    await waitFor(
      () => Promise.resolve(platform.events.of(paymentId).filter((e) => e.type === 'payments.payment.refunded')),
      (events) => events.length === 2,
      { what: 'the second refund of the transfer' },
    );
    expect(await refundAs(operator, 2_001n)).toMatchObject({ status: 422, body: { code: 'REFUND_EXCEEDS_CAPTURED' } });
    await walletCaughtUp();
    expect(await platform.balance(`person.${oli.id}.wallet.USD`)).toBe(8_000n);
    expect(await platform.balance(`person.${pia.id}.wallet.USD`)).toBe(0n);
    // The wallet's refunded events replay the returns it posted: two reversals, not four.
    const reversals = await platform.walletQuery<{ n: string }>(
      "SELECT count(*)::text AS n FROM journal_entries WHERE kind = 'reversal' AND metadata->>'paymentId' = $1",
      [paymentId],
    );
    expect(reversals[0].n).toBe('2');
    await ledgerBalancesToZero();
  });

  it('refuses a transfer to oneself, to someone without a wallet, or with a card', async () => {
    const max = await platform.person();
    const transfer = (overrides: Record<string, unknown>) => ({
      ...purchaseOf(max, 1_000n),
      kind: 'transfer',
      counterparty: { type: 'person', id: max.id },
      ...overrides,
    });
    expect((await postPayment(transfer({}))).body.code).toBe('SELF_TRANSFER');
    expect((await postPayment(transfer({ counterparty: { type: 'person', id: 'nobody-at-all' } }))).body.code).toBe('RECIPIENT_NOT_FOUND');
    const other = await platform.person();
    expect((await postPayment(transfer({ counterparty: { type: 'person', id: other.id }, paymentMethodId: max.methodId }))).body.code).toBe(
      'PAYMENT_METHOD_NOT_ACCEPTED',
    );
  });
});
