/**
 * An agent's refund end to end: a person pays (Kafka door → orchestration → PSP simulator →
 * captured → the wallet's ledger), opens a support conversation about that payment, an agent
 * claims it and refunds part of it within what support shows as refundable; payment-orchestration
 * does the refund (support's own service token, the agent's Idempotency-Key), the PSP refunds, the
 * wallet posts the reversal, and the agent sees all of it in the payment's timeline, built by the
 * support service from the events it consumed. Wallet, orchestration and support run in this
 * process on real Kafka and PostgreSQL.
 *
 * And as an attacker would: an agent reaching for a payment through another agent's or a closed
 * conversation, and support's own service token (and a case reference it signed) used at
 * orchestration for another payment, another refund or without a case: each refused, nothing written.
 */
import { randomUUID } from 'node:crypto';
import type { ConversationView } from '@pay/support/tools';
import { waitFor } from '@pay/testing';
import { exportJWK, generateKeyPair } from 'jose';
import { SignedServiceTokens, SUPPORT_CASE_HEADER, SupportCaseSigner } from '@pay/auth';
import type { PaymentsPlatform, SupportOnPlatform, TestPerson } from './e2e-kit';
import { http, purchaseOf, schemaQuery, startPaymentsPlatform, startSupport } from './e2e-kit';

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
let support: SupportOnPlatform;
let payer: TestPerson;

beforeAll(async () => {
  platform = await startPaymentsPlatform({ inProcessOrchestration: false });
  support = await startSupport(platform, { apps: ['facebook', 'messenger'], refunds: true });
  // After support started: it learns the wallet (and its country) from wallet.events.v1.
  payer = await platform.person();
}, 180_000);

afterAll(async () => {
  await support?.stop();
  await platform?.stop();
});

const as = (subject: string, role: 'person' | 'support'): Promise<string> => platform.idp.signTestToken({ sub: subject, role });

/** A captured purchase of `payer` and the conversation its payer opened about it (queued). */
async function paidAndAsked(amount: bigint): Promise<{ paymentId: string; conversationId: string }> {
  const paymentId = await platform.paymentOf(await platform.publishPurchase(purchaseOf(payer, amount)));
  await platform.events.waitFor(paymentId, 'payments.payment.captured');
  // Once support has consumed it, the payer asks for help about it.
  const person = await as(payer.id, 'person');
  const opened = await waitFor(
    () => http<ConversationView>(`${support.url}/v1/support/conversations`, 'POST', person, { country: 'US', app: 'messenger', paymentId }),
    (answer) => answer.status !== 404,
    { what: 'the payment known to support' },
  );
  expect(opened).toMatchObject({ status: 201, body: { paymentId, status: 'queued' } });
  return { paymentId, conversationId: opened.body.id };
}

it("lets the assigned agent refund part of a payment through orchestration; the refund, the PSP's answer and the ledger's reversal show in the payment's timeline", async () => {
  // The purchase, captured and posted; the payer asks for help about it, and an agent claims the conversation.
  const { paymentId, conversationId } = await paidAndAsked(2_500n);
  const agent = await as('agent-e2e', 'support');
  expect((await http(`${support.url}/v1/support/conversations/${conversationId}/claim`, 'POST', agent)).status).toBe(200);
  const timeline = (): Promise<Timeline> =>
    http<Timeline>(`${support.url}/v1/support/conversations/${conversationId}/payment`, 'GET', agent).then((answer) => {
      if (answer.status !== 200) throw new Error(`timeline: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.body;
    });
  const before = await waitFor(timeline, (view) => view.timeline.some((entry) => entry.stage === 'ledger'), {
    what: 'the capture and its posting in the timeline',
  });
  expect(before).toMatchObject({ paymentId, payerId: payer.id, currency: 'USD', captured: '2500', refunded: '0', refundable: '2500' });

  // Another agent can neither see nor refund it.
  const stranger = await as('agent-other', 'support');
  expect((await http(`${support.url}/v1/support/conversations/${conversationId}/payment`, 'GET', stranger)).status).toBe(404);
  const refundAs = (token: string, amount: string, key = randomUUID()) =>
    http(
      `${support.url}/v1/support/conversations/${conversationId}/refunds`,
      'POST',
      token,
      { amount: { amount, currency: 'USD' }, reason: 'requested_by_customer' },
      { 'idempotency-key': key },
    );
  expect((await refundAs(stranger, '1000')).status).toBe(404);

  // The agent refunds 1000 of 2500; a retry with the same key is the same refund.
  const key = randomUUID();
  const started = await refundAs(agent, '1000', key);
  expect(started).toMatchObject({ status: 202, body: { paymentId, amount: { amount: '1000', currency: 'USD' } } });
  const refundId = String(started.body.refundId);
  expect(await refundAs(agent, '1000', key)).toMatchObject({ status: 202, body: { refundId } });

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
    support.schema,
    "SELECT agent_id, details FROM agent_actions WHERE conversation_id = $1 AND action = 'refund'",
    [conversationId],
  );
  expect(actions.map((action) => [action.agent_id, action.details.refundId])).toEqual([['agent-e2e', refundId]]);
  expect(await refundAs(agent, '1501')).toMatchObject({ status: 422, body: { code: 'REFUND_EXCEEDS_REFUNDABLE' } });
});

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

  const refundThrough = (token: string, conversationId: string, amount = '500') =>
    http(
      `${support.url}/v1/support/conversations/${conversationId}/refunds`,
      'POST',
      token,
      { amount: { amount, currency: 'USD' }, reason: 'requested_by_customer' },
      { 'idempotency-key': randomUUID() },
    );
  // Through support: a conversation claimed by another agent, a closed one of one's own.
  expect(await refundThrough(agentA, theirs.conversationId)).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
  expect(await refundThrough(agentA, closed.conversationId)).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });

  // At orchestration, as if support's token and a case reference it signed for agent A had leaked.
  const claims = { issuer: platform.idp.issuer, audience: platform.idp.audience };
  const supportPrivate = support.refundKey!;
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
  const refundAt = (paymentId: string, headers: Record<string, string>, amount = '500', token = supportToken) =>
    http(`${platform.orchestrationUrl}/v1/payments/${paymentId}/refunds`, 'POST', token, { amount: { amount, currency: 'USD' } }, headers);
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
  // An agent's own token is not the support service's, case or not.
  expect(await refundAt(theirs.paymentId, { 'idempotency-key': key, [SUPPORT_CASE_HEADER]: caseOfMine }, '500', agentA)).toMatchObject({ status: 403 });

  // Nothing was written: no refund of any of the three, no agent's refund recorded.
  const refundEvents = (paymentId: string) =>
    platform.orchestrationQuery("SELECT 1 FROM payment_events WHERE payment_id = $1 AND type ILIKE '%refund%'", [paymentId]);
  for (const { paymentId } of [mine, theirs, closed]) expect(await refundEvents(paymentId)).toEqual([]);
  expect(
    await schemaQuery(support.schema, "SELECT 1 FROM agent_actions WHERE action = 'refund' AND conversation_id = ANY($1::uuid[])", [
      [mine.conversationId, theirs.conversationId, closed.conversationId],
    ]),
  ).toEqual([]);

  // The case of agent A's own open conversation, through support, still refunds that payment: the control.
  expect(await refundThrough(agentA, mine.conversationId)).toMatchObject({ status: 202, body: { paymentId: mine.paymentId } });
  await platform.events.waitFor(mine.paymentId, 'payments.payment.refunded');
  expect((await refundEvents(mine.paymentId)).length).toBeGreaterThan(0);
  expect(await refundEvents(theirs.paymentId)).toEqual([]);
  expect(await refundEvents(closed.paymentId)).toEqual([]);
});
