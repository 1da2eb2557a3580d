/**
 * An agent's refund end to end: a person pays (Kafka door → orchestration → PSP simulator →
 * captured → the wallet's ledger), opens a support conversation about that payment, an agent
 * claims it and refunds part of it within what support shows as refundable; payment-orchestration
 * does the refund (support's own service token, the agent's Idempotency-Key), the PSP refunds, the
 * wallet posts the reversal, and the agent sees all of it in the payment's timeline, built by the
 * support service from the events it consumed. Wallet, orchestration and support run in this
 * process on real Kafka and PostgreSQL.
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
import { dropSchema, testDatabaseUrl, testKafkaCredentials, uniqueName, waitFor } from '@pay/testing';
import { exportJWK, generateKeyPair } from 'jose';
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

beforeAll(async () => {
  platform = await startPaymentsPlatform({ inProcessOrchestration: false });
  // Support signs its refund requests with a key of its own; orchestration trusts it within its grant.
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `support-${randomUUID()}`;
  const supportPublic = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const supportPrivate = { ...(await exportJWK(privateKey)), kid, alg: 'ES256' };
  await platform.startOrchestration({
    AUTH_JWKS: JSON.stringify({ keys: [...platform.idp.jwks.keys, supportPublic] }),
    AUTH_KEY_GRANTS: JSON.stringify({ ...(JSON.parse(platform.commonEnv.AUTH_KEY_GRANTS) as object), ...supportKeyGrants(kid) }),
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

it("lets the assigned agent refund part of a payment through orchestration; the refund, the PSP's answer and the ledger's reversal show in the payment's timeline", async () => {
  // The purchase, captured and posted.
  const requestId = await platform.publishPurchase(purchaseOf(payer, 2_500n));
  const [{ payment_id: paymentId }] = await waitFor(
    () => platform.orchestrationQuery<{ payment_id: string }>('SELECT payment_id FROM payments WHERE request_id = $1', [requestId]),
    (rows) => rows.length === 1,
    { what: `the payment of ${requestId}` },
  );
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
    supportSchema,
    "SELECT agent_id, details FROM agent_actions WHERE conversation_id = $1 AND action = 'refund'",
    [conversationId],
  );
  expect(actions.map((action) => [action.agent_id, action.details.refundId])).toEqual([['agent-e2e', refundId]]);
  expect(await refundAs(agent, '1501')).toMatchObject({ status: 422, body: { code: 'REFUND_EXCEEDS_REFUNDABLE' } });
});
