/**
 * An agent's refund end to end: a person pays (Kafka door → orchestration → PSP simulator →
 * captured → the wallet's ledger), opens a support conversation about that payment, an agent
 * claims it and refunds part of it within what support shows as refundable; payment-orchestration
 * does the refund (support's own service token, the agent's Idempotency-Key), the PSP refunds, the
 * wallet posts the reversal, and the agent sees all of it in the payment's timeline, built by the
 * support service from the events it consumed. Wallet, orchestration and support run in this
 * process on real Kafka and PostgreSQL.
 *
 * An agent's refund reaches support as the Pay Hub sends it (apps/pay-hub/src/hub-server.ts): the
 * agent's token and the hub's approval of exactly that refund (`Refund-Approval`, signed with the
 * hub's key, as the kit's `hubKey`); the desk's refund through the hub itself is the browser test
 * `support-desk`.
 *
 * And as an attacker would: an agent reaching for a payment through another agent's or a closed
 * conversation, and support's own service token (and a case reference it signed) used at
 * orchestration for another payment, another refund or without a case: each refused, nothing written.
 * Code running in support (its key: token and cases) without the hub's approval of the refund — none,
 * one for another payment, amount, Idempotency-Key or agent, one signed by support's key or by the
 * identity provider, an agent's access token in its place, one used already — refunds nothing; and
 * support's refunds stay within the budget (per agent: a count and an amount an hour; all agents:
 * an amount an hour per currency), beyond which nothing is written. An agent's token (the support
 * service's audience alone) gets 401 at orchestration and the wallet: nothing returned or written.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topics } from '@pay/contracts';
import type { RunningService } from '@pay/platform';
import { createService } from '@pay/platform';
import type { ConversationView, SupportConfig } from '@pay/support/tools';
import { supportService } from '@pay/support/tools';
import { Client } from 'pg';
import { dropSchema, testDatabaseUrl, testKafkaCredentials, uniqueName, waitFor } from '@pay/testing';
import type { JWK } from 'jose';
import { exportJWK, generateKeyPair } from 'jose';
import { REFUND_APPROVAL_HEADER, RefundApprovalSigner, SignedServiceTokens, SUPPORT_CASE_HEADER, SupportCaseSigner } from '@pay/auth';
import { supportKeyGrants } from '../dev-keys';
import type { PaymentsPlatform, TestPerson } from './e2e-kit';
import { http, purchaseOf, schemaQuery, startGroupAtEnd, startPaymentsPlatform } from './e2e-kit';

jest.setTimeout(180_000);

interface Timeline {
  paymentId: string;
  payerId: string;
  currency: string;
  captured: string;
  refunded: string;
  refundable: string;
  timeline: Array<{ stage: string; type: string }>;
}

let platform: PaymentsPlatform;
let support: RunningService<SupportConfig>;
let supportSchema: string;
let dir: string;
let payer: TestPerson;
let supportPrivate: JWK;
/** The Pay Hub's approvals (its key, the one orchestration takes them from). */
let approvals: RefundApprovalSigner;

beforeAll(async () => {
  platform = await startPaymentsPlatform({ inProcessOrchestration: false });
  // Support signs its refund requests with a key of its own; orchestration trusts it within its grant.
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `support-${randomUUID()}`;
  const supportPublic = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  supportPrivate = { ...(await exportJWK(privateKey)), kid, alg: 'ES256' };
  await platform.startOrchestration({
    // …and the hub's approvals of agents' refunds (refunds:approve in its grant, the kit's commonEnv).
    AUTH_JWKS: JSON.stringify({ keys: [...platform.idp.jwks.keys, supportPublic, platform.hubKey.publicJwk] }),
    AUTH_KEY_GRANTS: JSON.stringify({ ...(JSON.parse(platform.commonEnv.AUTH_KEY_GRANTS) as object), ...supportKeyGrants(kid) }),
    // Support's refund budget, small enough to reach: 3 refunds and 20.00 USD (or GBP) an agent an
    // hour; all agents 1000.00 USD but 10.00 GBP an hour (the GBP payments are this file's last test's alone).
    SUPPORT_REFUNDS_PER_AGENT_PER_HOUR: '3',
    SUPPORT_REFUND_AMOUNT_PER_AGENT_PER_HOUR: 'USD:2000,GBP:2000',
    SUPPORT_REFUND_AMOUNT_PER_HOUR: 'USD:100000,GBP:1000',
  });

  dir = await mkdtemp(join(tmpdir(), 'support-e2e-'));
  const rolloutPath = join(dir, 'support-rollout.json');
  await writeFile(rolloutPath, JSON.stringify({ countries: [{ country: 'US', apps: ['facebook', 'messenger'] }] }));
  supportSchema = uniqueName('e2e_support');
  const group = uniqueName('support.e2e');
  for (const topic of [Topics.paymentEvents, Topics.ledgerTransactions, Topics.walletEvents]) await startGroupAtEnd(group, topic);
  support = await createService<SupportConfig>(supportService, {
    ...platform.commonEnv,
    ...testKafkaCredentials('support'),
    DB_SCHEMA: supportSchema,
    OUTBOX_RELAY_NAME: 'e2e',
    AUTH_JWKS: JSON.stringify(platform.idp.jwks),
    SUPPORT_SERVICE_TOKEN_SIGNING_JWK: JSON.stringify(supportPrivate),
    PAYMENT_ORCHESTRATION_URL: platform.orchestrationUrl,
    SUPPORT_ROLLOUT_CONFIG_PATH: rolloutPath,
    SUPPORT_CONSUMER_GROUP: group,
  });
  approvals = await RefundApprovalSigner.create(platform.hubKey.privateJwk, { issuer: platform.idp.issuer, audience: platform.idp.audience });
  // After support started: it learns the wallet (and its country) from wallet.events.v1.
  payer = await platform.person();
}, 180_000);

afterAll(async () => {
  await support?.app.close();
  await platform?.stop();
  if (supportSchema) await dropSchema(testDatabaseUrl(), supportSchema).catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const as = (subject: string, role: 'person' | 'support'): Promise<string> => platform.idp.signTestToken({ sub: subject, role });

interface AgentRefund {
  conversationId: string;
  paymentId: string;
  amount: string;
  currency?: string;
  /** The agent's Idempotency-Key (a retry sends the same). */
  key?: string;
}

/** The hub's approval of this agent's refund, as the hub mints it on the agent's click. */
const approvalOf = (agentId: string, refund: AgentRefund & { key: string }): Promise<string> =>
  approvals.sign({
    conversationId: refund.conversationId,
    agentId,
    paymentId: refund.paymentId,
    idempotencyKey: refund.key,
    amount: { amount: refund.amount, currency: refund.currency ?? 'USD' },
  });

/** An agent's refund through support as the Pay Hub sends it: the agent's token and the hub's approval of exactly this refund. */
async function refundThroughSupport(agentId: string, refund: AgentRefund) {
  const key = refund.key ?? randomUUID();
  return http(
    `${support.url}/v1/support/conversations/${refund.conversationId}/refunds`,
    'POST',
    await as(agentId, 'support'),
    { amount: { amount: refund.amount, currency: refund.currency ?? 'USD' }, reason: 'requested_by_customer' },
    { 'idempotency-key': key, [REFUND_APPROVAL_HEADER]: await approvalOf(agentId, { ...refund, key }) },
  );
}

it("lets the assigned agent refund part of a payment through orchestration; the refund, the PSP's answer and the ledger's reversal show in the payment's timeline", async () => {
  // The purchase, captured and posted.
  const requestId = await platform.publishPurchase(purchaseOf(payer, 2_500n));
  const paymentId = await platform.paymentOf(requestId);
  await platform.events.waitFor(paymentId, 'payments.payment.captured');

  // The payer asks for help about it (once support has consumed it), and an agent claims the conversation.
  const person = await as(payer.id, 'person');
  const opened = await waitFor(
    () => http<ConversationView>(`${support.url}/v1/support/conversations`, 'POST', person, { country: 'US', app: 'messenger', paymentId }),
    (answer) => answer.status !== 404,
    { what: 'the payment known to support' },
  );
  expect(opened).toMatchObject({ status: 201, body: { paymentId, status: 'queued' } });
  const conversationId = opened.body.id;
  const agent = await as('agent-e2e', 'support');
  expect((await http(`${support.url}/v1/support/conversations/${conversationId}/claim`, 'POST', agent)).status).toBe(200);
  const timeline = (): Promise<Timeline> =>
    http<Timeline>(`${support.url}/v1/support/conversations/${conversationId}/payment`, 'GET', agent).then((answer) => {
      if (answer.status !== 200) throw new Error(`timeline: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.body;
    });
  // The capture (payments.events.v1) and its posting (ledger.transactions.v1) come on two topics, in either order: wait for both.
  const before = await waitFor(timeline, (view) => view.captured === '2500' && view.timeline.some((entry) => entry.stage === 'ledger'), {
    what: 'the capture and its posting in the timeline',
  });
  expect(before).toMatchObject({ paymentId, payerId: payer.id, currency: 'USD', captured: '2500', refunded: '0', refundable: '2500' });

  // Another agent can neither see nor refund it.
  const stranger = await as('agent-other', 'support');
  expect((await http(`${support.url}/v1/support/conversations/${conversationId}/payment`, 'GET', stranger)).status).toBe(404);
  const refundAs = (agentId: string, amount: string, key = randomUUID()) => refundThroughSupport(agentId, { conversationId, paymentId, amount, key });
  expect((await refundAs('agent-other', '1000')).status).toBe(404);

  // The agent refunds 1000 of 2500; a retry with the same key (the hub approves the retry anew) is the same refund.
  const key = randomUUID();
  const started = await refundAs('agent-e2e', '1000', key);
  expect(started).toMatchObject({ status: 202, body: { paymentId, amount: { amount: '1000', currency: 'USD' } } });
  const refundId = String(started.body.refundId);
  expect(await refundAs('agent-e2e', '1000', key)).toMatchObject({ status: 202, body: { refundId } });

  // Orchestration did it, once: the PSP refunded and the payment says so.
  const refunded = await platform.events.waitFor(paymentId, 'payments.payment.refunded');
  expect(refunded.data).toMatchObject({ refundId, amount: { amount: '1000', currency: 'USD' } });
  expect(platform.events.types(paymentId).filter((type) => type === 'payments.payment.refund-requested')).toHaveLength(1);

  // The agent's timeline shows the refund asked, done and posted; what is left is refundable.
  const after = await waitFor(timeline, (view) => view.refunded === '1000' && view.timeline.filter((entry) => entry.stage === 'ledger').length >= 2, {
    what: 'the refund and its posting in the timeline',
  });
  expect(after).toMatchObject({ captured: '2500', refunded: '1000', refundable: '1500' });
  expect(after.timeline.filter((entry) => entry.stage === 'refund').map((entry) => entry.type)).toEqual([
    'payments.payment.refund-requested',
    'payments.payment.refunded',
  ]);
  // The wallet reversed it in the ledger.
  await waitFor(
    () => platform.walletQuery("SELECT 1 FROM payment_ledger_postings WHERE payment_id = $1 AND movement = 'refund'", [paymentId]),
    (rows) => rows.length === 1,
    { what: 'the refund posting' },
  );

  // Recorded as the agent's action, once; more than is left is refused by support before orchestration.
  const actions = await schemaQuery<{ agent_id: string; details: { refundId: string } }>(
    supportSchema,
    "SELECT agent_id, details FROM agent_actions WHERE conversation_id = $1 AND action = 'refund'",
    [conversationId],
  );
  expect(actions.map((action) => [action.agent_id, action.details.refundId])).toEqual([['agent-e2e', refundId]]);
  expect(await refundAs('agent-e2e', '1501')).toMatchObject({ status: 422, body: { code: 'REFUND_EXCEEDS_REFUNDABLE' } });
});

/** A captured purchase of `payer` and the conversation its payer opened about it (queued). */
async function paidAndAsked(amount: bigint, currency = 'USD'): Promise<{ paymentId: string; conversationId: string }> {
  const requestId = await platform.publishPurchase(purchaseOf(payer, amount, { amount: { amount: amount.toString(), currency } }));
  const paymentId = await platform.paymentOf(requestId);
  await platform.events.waitFor(paymentId, 'payments.payment.captured');
  const person = await as(payer.id, 'person');
  const opened = await waitFor(
    () => http<ConversationView>(`${support.url}/v1/support/conversations`, 'POST', person, { country: 'US', app: 'messenger', paymentId }),
    (answer) => answer.status !== 404,
    { what: 'the payment known to support' },
  );
  expect(opened).toMatchObject({ status: 201, body: { paymentId, status: 'queued' } });
  return { paymentId, conversationId: opened.body.id };
}

it("refuses an agent's refund through another agent's or a closed conversation, and support's own token without this payment's case: nothing is refunded", async () => {
  const agentA = await as('agent-a', 'support');
  const agentB = await as('agent-b', 'support');
  const mine = await paidAndAsked(1_500n);
  const theirs = await paidAndAsked(1_200n);
  const closed = await paidAndAsked(1_100n);
  const desk = (token: string, conversationId: string, action: string, body?: unknown) =>
    http(`${support.url}/v1/support/conversations/${conversationId}/${action}`, 'POST', token, body);
  expect((await desk(agentA, mine.conversationId, 'claim')).status).toBe(200);
  expect((await desk(agentB, theirs.conversationId, 'claim')).status).toBe(200);
  expect((await desk(agentA, closed.conversationId, 'claim')).status).toBe(200);
  // Support has seen every capture (so a refusal below is not "nothing to refund").
  for (const [token, { conversationId }] of [
    [agentA, mine],
    [agentB, theirs],
    [agentA, closed],
  ] as const) {
    await waitFor(
      () => http<Timeline>(`${support.url}/v1/support/conversations/${conversationId}/payment`, 'GET', token),
      (answer) => answer.status === 200 && answer.body.refundable !== '0',
      { what: `the capture of ${conversationId} known to support` },
    );
  }
  expect((await desk(agentA, closed.conversationId, 'close', { reason: 'resolved' })).status).toBe(200);

  // Through support (each with the hub's approval): a conversation claimed by another agent, a closed one of one's own.
  expect(await refundThroughSupport('agent-a', { ...theirs, amount: '500' })).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
  expect(await refundThroughSupport('agent-a', { ...closed, amount: '500' })).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });

  // At orchestration, as if support's token and a case reference it signed for agent A had leaked.
  const claims = { issuer: platform.idp.issuer, audience: platform.idp.audience };
  const supportToken = await (await SignedServiceTokens.create(supportPrivate, { ...claims, subject: 'support', scopes: ['payments:refund'] })).token();
  const cases = await SupportCaseSigner.create(supportPrivate, claims);
  const key = randomUUID();
  const caseOfMine = await cases.sign({
    conversationId: mine.conversationId,
    agentId: 'agent-a',
    paymentId: mine.paymentId,
    idempotencyKey: key,
    amount: { amount: '500', currency: 'USD' },
  });
  // …together with the hub's approval of that refund, as if support had kept it from agent A's request.
  const approvalOfMine = await approvalOf('agent-a', { ...mine, amount: '500', key });
  const refundAt = (paymentId: string, headers: Record<string, string>, amount = '500', token = supportToken) =>
    http(
      `${platform.orchestrationUrl}/v1/payments/${paymentId}/refunds`,
      'POST',
      token,
      { amount: { amount, currency: 'USD' } },
      { [REFUND_APPROVAL_HEADER]: approvalOfMine, ...headers },
    );
  // Support's token alone refunds nothing, not even the payment of a conversation.
  expect(await refundAt(theirs.paymentId, { 'idempotency-key': randomUUID() })).toMatchObject({ status: 403, body: { code: 'SUPPORT_CASE_REFUSED' } });
  expect(await refundAt(mine.paymentId, { 'idempotency-key': key })).toMatchObject({ status: 403, body: { code: 'SUPPORT_CASE_REFUSED' } });
  // A case about one payment does not open another (another agent's, a closed conversation's).
  expect(await refundAt(theirs.paymentId, { 'idempotency-key': key, [SUPPORT_CASE_HEADER]: caseOfMine })).toMatchObject({
    status: 404,
    body: { code: 'PAYMENT_NOT_FOUND' },
  });
  expect(await refundAt(closed.paymentId, { 'idempotency-key': key, [SUPPORT_CASE_HEADER]: caseOfMine })).toMatchObject({ status: 404 });
  // …nor another refund of the same payment: another Idempotency-Key, another amount.
  expect(await refundAt(mine.paymentId, { 'idempotency-key': randomUUID(), [SUPPORT_CASE_HEADER]: caseOfMine })).toMatchObject({
    status: 403,
    body: { code: 'SUPPORT_CASE_REFUSED' },
  });
  expect(await refundAt(mine.paymentId, { 'idempotency-key': key, [SUPPORT_CASE_HEADER]: caseOfMine }, '1500')).toMatchObject({
    status: 403,
    body: { code: 'SUPPORT_CASE_REFUSED' },
  });
  // A case signed by a key support does not hold, or by the identity provider (which has no grant), is no case.
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const forger = await SupportCaseSigner.create({ ...(await exportJWK(privateKey)), kid: supportPrivate.kid, alg: 'ES256' }, claims);
  const forged = await forger.sign({
    conversationId: theirs.conversationId,
    agentId: 'agent-a',
    paymentId: theirs.paymentId,
    idempotencyKey: key,
    amount: { amount: '500', currency: 'USD' },
  });
  expect(await refundAt(theirs.paymentId, { 'idempotency-key': key, [SUPPORT_CASE_HEADER]: forged })).toMatchObject({ status: 403 });
  const byIdp = await platform.idp.signTestToken(
    {
      sub: 'support',
      role: 'service',
      conversation: theirs.conversationId,
      agent: 'agent-a',
      payment: theirs.paymentId,
      idempotency_key: key,
      amount: { amount: '500', currency: 'USD' },
    },
    { typ: 'support-case+jwt', expiresIn: 60 },
  );
  expect(await refundAt(theirs.paymentId, { 'idempotency-key': key, [SUPPORT_CASE_HEADER]: byIdp })).toMatchObject({ status: 403 });
  // An agent's own token is not the support service's, case or not: orchestration does not even take it (the support service's audience alone).
  expect(await refundAt(theirs.paymentId, { 'idempotency-key': key, [SUPPORT_CASE_HEADER]: caseOfMine }, '500', agentA)).toMatchObject({ status: 401 });

  // Nothing was written: no refund of any of the three, no agent's refund recorded.
  const refundEvents = (paymentId: string) =>
    platform.orchestrationQuery("SELECT 1 FROM payment_events WHERE payment_id = $1 AND type ILIKE '%refund%'", [paymentId]);
  for (const { paymentId } of [mine, theirs, closed]) expect(await refundEvents(paymentId)).toEqual([]);
  expect(
    await schemaQuery(supportSchema, "SELECT 1 FROM agent_actions WHERE action = 'refund' AND conversation_id = ANY($1::uuid[])", [
      [mine.conversationId, theirs.conversationId, closed.conversationId],
    ]),
  ).toEqual([]);

  // The case of agent A's own open conversation, through support, still refunds that payment: the control.
  expect(await refundThroughSupport('agent-a', { ...mine, amount: '500' })).toMatchObject({ status: 202, body: { paymentId: mine.paymentId } });
  await platform.events.waitFor(mine.paymentId, 'payments.payment.refunded');
  expect((await refundEvents(mine.paymentId)).length).toBeGreaterThan(0);
  expect(await refundEvents(theirs.paymentId)).toEqual([]);
  expect(await refundEvents(closed.paymentId)).toEqual([]);
});

it("refuses an agent's token at every service but support — as the identity provider issues it, or issued for the shared audience too: 401, nothing returned, nothing written", async () => {
  const { paymentId, conversationId } = await paidAndAsked(1_300n);
  const agent = await as('agent-k', 'support');
  // The same agent at support: the token works there (claim), so the refusals below are about where it is used.
  expect((await http(`${support.url}/v1/support/conversations/${conversationId}/claim`, 'POST', agent)).status).toBe(200);
  const walletBefore = await platform.walletQuery('SELECT ad_measurement_consent, consent_updated_at FROM wallets WHERE person_id = $1', [payer.id]);
  expect(walletBefore).toHaveLength(1);
  const requestId = randomUUID();
  const misissued = await platform.idp.signTestToken({ sub: 'agent-k', role: 'support' }, { audience: [platform.idp.audience, platform.idp.agentAudience] });
  const sharedOnly = await platform.idp.signTestToken({ sub: 'agent-k', role: 'support' }, { audience: platform.idp.audience });
  for (const [what, token] of [
    ['as issued', agent],
    ['for both audiences', misissued],
    ['for the shared audience', sharedOnly],
  ] as const) {
    const calls: Array<[string, string, string, unknown?, Record<string, string>?]> = [
      [`${platform.orchestrationUrl}/v1/payments/${paymentId}`, 'GET', 'the payment'],
      [
        `${platform.orchestrationUrl}/v1/payments/${paymentId}/refunds`,
        'POST',
        'a refund',
        { amount: { amount: '100', currency: 'USD' } },
        { 'idempotency-key': randomUUID() },
      ],
      [`${platform.orchestrationUrl}/v1/payments`, 'POST', 'a payment', purchaseOf(payer, 500n, { requestId }), { 'idempotency-key': requestId }],
      [`${platform.wallet.url}/v1/wallets/${payer.id}/payment-methods`, 'GET', "the payer's methods"],
      [`${platform.wallet.url}/v1/wallets/${payer.id}/consents/ad-measurement`, 'PUT', "the payer's consent", { granted: true }],
    ];
    for (const [url, method, target, body, headers] of calls) {
      const answer = await http(url, method, token, body, headers);
      expect({ what, target, status: answer.status }).toEqual({ what, target, status: 401 });
      expect(JSON.stringify(answer.body)).not.toContain(payer.id);
      expect(JSON.stringify(answer.body)).not.toContain(paymentId);
    }
    // Support itself takes the agent's token only as issued (its audience alone).
    const desk = await http(`${support.url}/v1/support/conversations/${conversationId}/payment`, 'GET', token);
    expect({ what, status: desk.status }).toEqual({ what, status: token === agent ? 200 : 401 });
  }
  // Nothing written: no refund, no payment for the request, the payer's consent as it was.
  expect(await refundTraces(paymentId)).toEqual({ events: 0, steps: 0, postings: 0 });
  expect(await platform.orchestrationQuery('SELECT 1 FROM payments WHERE request_id = $1', [requestId])).toHaveLength(0);
  expect(await platform.walletQuery('SELECT ad_measurement_consent, consent_updated_at FROM wallets WHERE person_id = $1', [payer.id])).toEqual(walletBefore);
});

it('ends what a case allows when its conversation closes: the close waits for the refund in flight, then the case is spent and the agent reads and refunds nothing', async () => {
  const agent = await as('agent-h', 'support');
  const { paymentId, conversationId } = await paidAndAsked(1_000n);
  const desk = (action: string, body?: unknown) => http(`${support.url}/v1/support/conversations/${conversationId}/${action}`, 'POST', agent, body);
  const timeline = () => http<Timeline>(`${support.url}/v1/support/conversations/${conversationId}/payment`, 'GET', agent);
  expect((await desk('claim')).status).toBe(200);
  await waitFor(timeline, (answer) => answer.status === 200 && answer.body.refundable !== '0', { what: 'the capture known to support' });

  // A refund in flight: the conversation's guard held as support holds it while it asks orchestration.
  const inFlight = new Client({ connectionString: testDatabaseUrl() });
  await inFlight.connect();
  try {
    await inFlight.query('BEGIN');
    await inFlight.query("SELECT pg_advisory_xact_lock_shared(hashtextextended('support.conversation:' || $1::text, 0))", [conversationId]);
    const closing = desk('close', { reason: 'refunded' });
    // The close waits for it (its transaction blocked on the guard), the conversation still claimed…
    await waitFor(
      () => inFlight.query("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'advisory'"),
      (result) => (result.rowCount ?? 0) > 0,
      { what: 'the close waiting for the refund in flight' },
    );
    expect(await schemaQuery(supportSchema, 'SELECT status FROM conversations WHERE id = $1', [conversationId])).toEqual([{ status: 'claimed' }]);
    // …while orchestration acts on the case support signed for that refund.
    const claims = { issuer: platform.idp.issuer, audience: platform.idp.audience };
    const supportToken = await (await SignedServiceTokens.create(supportPrivate, { ...claims, subject: 'support', scopes: ['payments:refund'] })).token();
    const key = randomUUID();
    const theCase = await (
      await SupportCaseSigner.create(supportPrivate, claims)
    ).sign({ conversationId, agentId: 'agent-h', paymentId, idempotencyKey: key, amount: { amount: '300', currency: 'USD' } });
    const approval = await approvalOf('agent-h', { conversationId, paymentId, amount: '300', key });
    const refundAt = () =>
      http(
        `${platform.orchestrationUrl}/v1/payments/${paymentId}/refunds`,
        'POST',
        supportToken,
        { amount: { amount: '300', currency: 'USD' } },
        { [REFUND_APPROVAL_HEADER]: approval, [SUPPORT_CASE_HEADER]: theCase, 'idempotency-key': key },
      );
    expect(await refundAt()).toMatchObject({ status: 202, body: { paymentId } });
    await inFlight.query('COMMIT');
    expect((await closing).status).toBe(200);

    // Closed: the same case again (a copy of the request) is refused, though within its lifetime and with the hub's approval…
    expect(await refundAt()).toMatchObject({ status: 403, body: { code: 'SUPPORT_CASE_REFUSED', message: expect.stringContaining('used already') } });
    // …and the agent's read and refund right after the close get nothing.
    expect(await timeline()).toMatchObject({ status: 404 });
    expect(await refundThroughSupport('agent-h', { conversationId, paymentId, amount: '100' })).toMatchObject({ status: 404 });
    // One refund: the one in flight before the close.
    await platform.events.waitFor(paymentId, 'payments.payment.refunded');
    expect(await platform.orchestrationQuery("SELECT 1 FROM payment_events WHERE payment_id = $1 AND type = 'RefundRequested'", [paymentId])).toHaveLength(1);
  } finally {
    await inFlight.end();
  }
});

/** What a refund leaves behind at orchestration and in the wallet: refund events, refund steps, refund postings. */
async function refundTraces(paymentId: string): Promise<{ events: number; steps: number; postings: number }> {
  const [events, steps, postings] = await Promise.all([
    platform.orchestrationQuery("SELECT 1 FROM payment_events WHERE payment_id = $1 AND type ILIKE '%refund%'", [paymentId]),
    platform.orchestrationQuery("SELECT 1 FROM payment_steps WHERE payment_id = $1 AND step LIKE 'refund:%'", [paymentId]),
    platform.walletQuery("SELECT 1 FROM payment_ledger_postings WHERE payment_id = $1 AND movement = 'refund'", [paymentId]),
  ]);
  return { events: events.length, steps: steps.length, postings: postings.length };
}

it("refuses support's key without the hub's approval of the very refund — none, another payment's, amount's, key's or agent's, support's own, the identity provider's, an agent's token, one used already: nothing written", async () => {
  const target = await paidAndAsked(1_800n);
  const other = await paidAndAsked(900n);
  const agentG = await as('agent-g', 'support');
  for (const { conversationId } of [target, other]) {
    expect((await http(`${support.url}/v1/support/conversations/${conversationId}/claim`, 'POST', agentG)).status).toBe(200);
    await waitFor(
      () => http<Timeline>(`${support.url}/v1/support/conversations/${conversationId}/payment`, 'GET', agentG),
      (answer) => answer.status === 200 && answer.body.refundable !== '0',
      { what: `the capture of ${conversationId} known to support` },
    );
  }

  // Code running in support holds its key: it signs its own token and a valid case for agent G's refund of 7.00…
  const claims = { issuer: platform.idp.issuer, audience: platform.idp.audience };
  const supportToken = await (await SignedServiceTokens.create(supportPrivate, { ...claims, subject: 'support', scopes: ['payments:refund'] })).token();
  const cases = await SupportCaseSigner.create(supportPrivate, claims);
  const key = randomUUID();
  const refund = { conversationId: target.conversationId, paymentId: target.paymentId, amount: '700', key };
  const caseOf = () => cases.sign({ ...refund, agentId: 'agent-g', idempotencyKey: key, amount: { amount: '700', currency: 'USD' } });
  const refundWith = async (approval: string | undefined) =>
    http(
      `${platform.orchestrationUrl}/v1/payments/${target.paymentId}/refunds`,
      'POST',
      supportToken,
      { amount: { amount: '700', currency: 'USD' } },
      { 'idempotency-key': key, [SUPPORT_CASE_HEADER]: await caseOf(), ...(approval === undefined ? {} : { [REFUND_APPROVAL_HEADER]: approval }) },
    );
  // …but no approval of it: the hub approved other refunds of agent G's, or none; support cannot sign one.
  const approvalFields = (approval: { conversationId: string; paymentId: string; amount: string; key: string }) => ({
    conversation: approval.conversationId,
    agent: 'agent-g',
    payment: approval.paymentId,
    idempotency_key: approval.key,
    amount: { amount: approval.amount, currency: 'USD' },
    jti: randomUUID(),
  });
  const attempts: Array<[string, string | undefined, RegExp]> = [
    ['no approval', undefined, /Refund-Approval/],
    [
      "the approval of agent G's other payment",
      await approvalOf('agent-g', { ...other, amount: '700', key }),
      /another refund than the support case \(conversation\)/,
    ],
    ['an approval of another amount', await approvalOf('agent-g', { ...refund, amount: '1800' }), /\(amount\)/],
    ['an approval under another Idempotency-Key', await approvalOf('agent-g', { ...refund, key: randomUUID() }), /\(Idempotency-Key\)/],
    ["another agent's approval", await approvalOf('agent-other', refund), /\(agent\)/],
    [
      "one signed with support's key",
      await (
        await RefundApprovalSigner.create(supportPrivate, claims)
      ).sign({ ...refund, agentId: 'agent-g', idempotencyKey: key, amount: { amount: '700', currency: 'USD' } }),
      /not signed by a key registered for it/,
    ],
    [
      'one signed by the identity provider',
      await platform.idp.signTestToken({ sub: 'pay-hub', role: 'service', ...approvalFields(refund) }, { typ: 'refund-approval+jwt', expiresIn: 60 }),
      /not signed by a key registered for it/,
    ],
    ["agent G's own access token", await as('agent-g', 'support'), /"aud" claim/],
    [
      "agent G's token issued for the shared audience",
      await platform.idp.signTestToken({ sub: 'agent-g', role: 'support' }, { audience: platform.idp.audience }),
      /refund-approval\+jwt/,
    ],
  ];
  for (const [what, approval, why] of attempts) {
    const answer = await refundWith(approval);
    expect({ what, status: answer.status, code: answer.body.code }).toEqual({ what, status: 403, code: 'REFUND_APPROVAL_REFUSED' });
    expect(answer.body.message).toMatch(why);
    if (approval) expect(JSON.stringify(answer.body)).not.toContain(approval);
  }
  // Support itself refuses to pass on an approval of another refund, or none, before orchestration is asked.
  const throughSupport = (headers: Record<string, string>) =>
    http(
      `${support.url}/v1/support/conversations/${target.conversationId}/refunds`,
      'POST',
      agentG,
      { amount: { amount: '700', currency: 'USD' }, reason: 'requested_by_customer' },
      { 'idempotency-key': key, ...headers },
    );
  expect(await throughSupport({})).toMatchObject({ status: 403, body: { code: 'REFUND_APPROVAL_REFUSED' } });
  expect(await throughSupport({ [REFUND_APPROVAL_HEADER]: await approvalOf('agent-g', { ...refund, amount: '1800' }) })).toMatchObject({
    status: 403,
    body: { code: 'REFUND_APPROVAL_REFUSED', message: expect.stringContaining('(amount)') },
  });
  // Nothing happened to the payment: no refund event, step or posting, on the topic neither, no idempotency record, no agent's action.
  expect(await refundTraces(target.paymentId)).toEqual({ events: 0, steps: 0, postings: 0 });
  expect(platform.events.types(target.paymentId).filter((type) => type.includes('refund'))).toEqual([]);
  expect(await platform.orchestrationQuery('SELECT 1 FROM idempotency_keys WHERE key = $1', [key])).toEqual([]);
  expect(await schemaQuery(supportSchema, "SELECT 1 FROM agent_actions WHERE action = 'refund' AND conversation_id = $1", [target.conversationId])).toEqual([]);

  // The control: the hub's approval of exactly this refund is taken, once; a copy with a fresh case is spent already.
  const approval = await approvalOf('agent-g', refund);
  expect(await refundWith(approval)).toMatchObject({ status: 202, body: { paymentId: target.paymentId } });
  expect(await refundWith(approval)).toMatchObject({
    status: 403,
    body: { code: 'REFUND_APPROVAL_REFUSED', message: expect.stringContaining('used already') },
  });
  await platform.events.waitFor(target.paymentId, 'payments.payment.refunded');
  expect(await platform.orchestrationQuery("SELECT 1 FROM payment_events WHERE payment_id = $1 AND type = 'RefundRequested'", [target.paymentId])).toHaveLength(
    1,
  );
  expect(await refundTraces(other.paymentId)).toEqual({ events: 0, steps: 0, postings: 0 });
});

it("keeps support's refunds within the budget: an agent's count and amount an hour, all agents' amount an hour; beyond, 429 and nothing written", async () => {
  const claimed = async (agent: string, amount: bigint, currency = 'USD') => {
    const token = await as(agent, 'support');
    const asked = await paidAndAsked(amount, currency);
    expect((await http(`${support.url}/v1/support/conversations/${asked.conversationId}/claim`, 'POST', token)).status).toBe(200);
    await waitFor(
      () => http<Timeline>(`${support.url}/v1/support/conversations/${asked.conversationId}/payment`, 'GET', token),
      (answer) => answer.status === 200 && answer.body.refundable !== '0',
      { what: `the capture of ${asked.conversationId} known to support` },
    );
    const refund = (value: string) => refundThroughSupport(agent, { ...asked, amount: value, currency });
    return { ...asked, refund };
  };
  const requested = (paymentId: string) =>
    platform.orchestrationQuery("SELECT 1 FROM payment_events WHERE payment_id = $1 AND type = 'RefundRequested'", [paymentId]);

  // Agent C: three refunds an hour, the fourth refused (with when to ask again), nothing written for it.
  const c = await claimed('agent-c', 2_500n);
  for (let i = 0; i < 3; i += 1) expect((await c.refund('300')).status).toBe(202);
  const fourth = await c.refund('300');
  expect(fourth).toMatchObject({ status: 429, body: { code: 'SUPPORT_REFUND_BUDGET_EXCEEDED' } });
  expect(fourth.body.message).toMatch(/as many refunds as an agent may in an hour \(3\)/);
  expect(Number(fourth.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(await requested(c.paymentId)).toHaveLength(3);

  // Agent D: 19.00 USD, then 3.00 more would pass 20.00 an hour: refused.
  const d = await claimed('agent-d', 2_500n);
  expect((await d.refund('1900')).status).toBe(202);
  const beyond = await d.refund('300');
  expect(beyond).toMatchObject({ status: 429, body: { code: 'SUPPORT_REFUND_BUDGET_EXCEEDED' } });
  expect(beyond.body.message).toMatch(/this agent's refunds beyond 2000 \(minor units of USD\)/);
  expect(await requested(d.paymentId)).toHaveLength(1);

  // All agents: 10.00 GBP an hour. Agent E refunds 8.00; agent F, with a budget of its own untouched, not 3.00 more.
  const e = await claimed('agent-e', 2_000n, 'GBP');
  const f = await claimed('agent-f', 2_000n, 'GBP');
  expect((await e.refund('800')).status).toBe(202);
  const overall = await f.refund('300');
  expect(overall).toMatchObject({ status: 429, body: { code: 'SUPPORT_REFUND_BUDGET_EXCEEDED' } });
  expect(overall.body.message).toMatch(/all agents' refunds beyond 1000 \(minor units of GBP\)/);
  expect(await refundTraces(f.paymentId)).toEqual({ events: 0, steps: 0, postings: 0 });
  // Agent F's refused refund took nothing from its own budget either (the whole take rolled back)…
  expect(await platform.orchestrationQuery("SELECT bucket FROM rate_limit_buckets WHERE bucket LIKE 'support-refunds:agent:agent-f:%'")).toEqual([]);
  // …and 2.00 GBP still fits everyone's.
  expect((await f.refund('200')).status).toBe(202);

  // The refunds let through were done, and posted once each; the refused ones left nothing.
  await waitFor(
    () => refundTraces(c.paymentId),
    (traces) => traces.postings === 3,
    { what: "agent C's three refunds posted" },
  );
  await waitFor(
    () => refundTraces(d.paymentId),
    (traces) => traces.postings === 1,
    { what: "agent D's refund posted" },
  );
  expect(await requested(c.paymentId)).toHaveLength(3);
  expect(await requested(d.paymentId)).toHaveLength(1);
  expect(await requested(f.paymentId)).toHaveLength(1);
  expect(
    (
      await schemaQuery<{ agent_id: string }>(
        supportSchema,
        "SELECT agent_id FROM agent_actions WHERE action = 'refund' AND conversation_id = ANY($1::uuid[])",
        [[c.conversationId, d.conversationId, e.conversationId, f.conversationId]],
      )
    )
      .map((row) => row.agent_id)
      .sort(),
  ).toEqual(['agent-c', 'agent-c', 'agent-c', 'agent-d', 'agent-e', 'agent-f']);
});
