/**
 * The seeded leak scan (issue 14, "Redaction"): purchases and wallet changes carrying known
 * secrets — a card number, a PIN, an IBAN with its holder, PSP and PayPal tokens, step-up proofs,
 * access tokens, e-mail addresses and phone numbers — go through the wallet and
 * payment-orchestration (real Kafka, PostgreSQL, PSP simulator), through both doors, valid and
 * malformed, and on to history, ad signals and support (a conversation about a payment, secrets
 * typed into the chat, the agent's desk and the payment's timeline), and through the Pay Hub's
 * server (a person's pages, an agent's queue). Then every log line the services and the hub wrote,
 * every message of every topic the services write (events, funds commands, ledger transactions,
 * ad signals, support events, dead letters, headers included), every CSV export of history (the
 * person's, the merchant's, the analysts' entries and aggregates), what support and the hub
 * answered, and what the PSP simulator received and keeps (its objects, requests and webhook
 * events) is scanned for each secret: none may appear. The purchase requests topic itself is the
 * apps' input, not scanned (its dead-letter topic is). A person's own pages may show their own
 * contact details and account holder; the simulator keeps the PSP's own tokens (it issued them).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { AggregationUnderTest } from '@pay/ad-signal-aggregation/testing';
import { startAggregation } from '@pay/ad-signal-aggregation/testing';
import { APP_BACKEND_SCOPES } from '@pay/auth';
import { loadConfig } from '@pay/config';
import { deadLetterTopicOf, Topics } from '@pay/contracts';
import type { HistoryUnderTest } from '@pay/history-projection/testing';
import { startHistory } from '@pay/history-projection/testing';
import type { RunningPayHub } from '@pay/pay-hub/tools';
import { PayHubConfig, startPayHub } from '@pay/pay-hub/tools';
import { dropSchema, testDatabaseUrl, testKafka, uniqueName, waitFor } from '@pay/testing';
import { io } from 'socket.io-client';
import type { PaymentsPlatform, SupportOnPlatform, TestPerson } from './e2e-kit';
import { E2E_MERCHANTS, freePort, http, purchaseOf, startGroupAtEnd, startPaymentsPlatform, startSupport } from './e2e-kit';
import { serviceLogs } from './service-logs';

jest.mock('@pay/observability', () => jest.requireActual<typeof import('./service-logs')>('./service-logs').observabilityKeepingLogs());

const digits = (count: number): string => Array.from(randomBytes(count), (byte) => String(byte % 10)).join('');

/** A Luhn-valid Visa-like number of this run, grouped as a person would type it. */
function seededCardNumber(): string {
  const body = `4${digits(14)}`;
  let sum = 0;
  for (let i = 0; i < body.length; i += 1) {
    let digit = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return `${body}${(10 - (sum % 10)) % 10}`.replace(/(\d{4})(?=\d)/g, '$1 ');
}

/** A valid British IBAN of this run (ISO 13616 check digits), grouped in fours. */
function seededIban(): string {
  const bban = `BUKB${digits(14)}`;
  const numeric = `${bban}GB00`.replace(/[A-Z]/g, (letter) => String(letter.charCodeAt(0) - 55));
  const check = 98 - Number(BigInt(numeric) % 97n);
  return `GB${String(check).padStart(2, '0')}${bban}`.replace(/(.{4})(?=.)/g, '$1 ');
}

const CARD_NUMBER = seededCardNumber();
const IBAN = seededIban();
const seed = randomBytes(3).toString('hex');
const HOLDER = `Quentin Leakwell ${seed.replace(/\d/g, 'x')}`;
/** The e2e kit's PIN for every person, and a wrong one: as whole numbers (not inside a hex id). */
const PINS = { pin: '730264', 'wrong PIN': '591837' };
const EMAIL = `leak.seed.${seed}@example.org`;
/** The SEPA holder's e-mail, given with the IBAN: the PSP keeps it (as Stripe does), nothing of ours may show it. */
const HOLDER_EMAIL = `sepa.holder.${seed}@example.org`;
const PHONE = `+44 7700 900${String(parseInt(seed, 16) % 1000).padStart(3, '0')}`;

let platform: PaymentsPlatform;
let history: HistoryUnderTest;
let ads: AggregationUnderTest;
let support: SupportOnPlatform;
let hub: RunningPayHub;
let hubSchema: string;
/** What the hub's server logged (its own log function). */
const hubLogs: string[] = [];
/** What support answered a person and an agent, and the hub a person and an agent: bodies as text. */
const supportAnswers: string[] = [];
const hubAnswers: string[] = [];
/** The support conversation about the first payment (the agent reads its timeline through the hub too). */
let conversationId = '';
/** A person's own contact details and account holder: their own pages may show them to them. */
const OWN_DETAILS = new Set(['e-mail', 'e-mail (local part)', 'phone', 'phone (digits)', 'account holder', 'PayPal e-mail']);
/**
 * What the PSP issued or was given to charge: the simulator keeps them, as Stripe and PayPal do
 * (a saved IBAN's PaymentMethod carries its holder's name and e-mail, which SEPA Direct Debit requires; never the IBAN).
 */
const PSP_OWN = new Set(['PSP token', 'PayPal vault token', 'PayPal e-mail', 'account holder', 'SEPA holder e-mail', 'SEPA holder e-mail (local part)']);
let ana: TestPerson;
/** Payments of this run: the logs must show them (the scan read the right logs). */
const paymentIds: string[] = [];
/** What history answered with: CSV exports. */
const exports: string[] = [];
const consoleLines: string[] = [];
/** Every secret of this run, by what it is: the scan reports the name, never the secret. */
const secrets = new Map<string, string>();
const pinPatterns = Object.entries(PINS).map(([name, pin]) => [name, new RegExp(`(?<![0-9A-Za-z])${pin}(?![0-9A-Za-z])`)] as const);

function seedSecret(name: string, value: string): void {
  secrets.set(name, value);
}

beforeAll(async () => {
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void consoleLines.push(args.map(String).join(' ')));
  }
  platform = await startPaymentsPlatform({ logLevel: 'debug', simulatorHoldMs: 5_000 });
  // The projections read the real topics from where they end now: this run's events.
  const historyGroup = uniqueName('history-projection.e2e-leak');
  const adsGroup = uniqueName('ad-signal-aggregation.e2e-leak');
  for (const topic of [Topics.paymentEvents, Topics.ledgerTransactions, Topics.walletEvents]) await startGroupAtEnd(historyGroup, topic);
  for (const topic of [Topics.paymentEvents, Topics.walletEvents]) await startGroupAtEnd(adsGroup, topic);
  history = await startHistory({
    idp: platform.idp,
    topics: { payments: Topics.paymentEvents, ledger: Topics.ledgerTransactions, wallet: Topics.walletEvents },
    env: { HISTORY_CONSUMER_GROUP: historyGroup, LOG_LEVEL: 'debug' },
  });
  ads = await startAggregation({ payments: Topics.paymentEvents, wallet: Topics.walletEvents }, platform.idp, {
    AD_SIGNALS_CONSUMER_GROUP: adsGroup,
    LOG_LEVEL: 'debug',
  });
  // Support reads the real topics from where they end now, and publishes on support.events.v1.
  support = await startSupport(platform, { apps: ['instagram', 'facebook'], env: { LOG_LEVEL: 'debug' } });
  // The Pay Hub's server in front of the wallet, orchestration, history and support; development sign-in.
  hubSchema = uniqueName('e2e_leak_hub');
  const hubPort = await freePort();
  hub = await startPayHub({
    config: loadConfig('pay-hub', PayHubConfig, {
      NODE_ENV: 'test',
      PORT: String(hubPort),
      DATABASE_URL: testDatabaseUrl(),
      DB_SCHEMA: hubSchema,
      HUB_PUBLIC_URL: `http://localhost:${hubPort}`,
      WALLET_URL: platform.wallet.url,
      ORCHESTRATION_URL: platform.orchestrationUrl,
      HISTORY_URL: history.url,
      SUPPORT_URL: support.url,
      HUB_SIGN_IN: 'development',
      HUB_DEV_SIGNING_JWK: '{"kty":"EC","d":"unused"}',
      // Its own key attests the mandates of the bank accounts it saves (the wallet trusts it within its grant).
      HUB_SERVICE_SIGNING_JWK: JSON.stringify(platform.hubKey.privateJwk),
      AUTH_ISSUER: platform.idp.issuer,
      AUTH_AUDIENCE: platform.idp.audience,
    }),
    mintDevToken: (claims) => platform.idp.signTestToken(claims, { expiresIn: 3600 }),
    log: (line) => void hubLogs.push(line),
  });
  ana = await platform.person({ paypal: {} });
  seedSecret('card number', CARD_NUMBER);
  seedSecret('card number (digits)', CARD_NUMBER.replace(/\s/g, ''));
  seedSecret('IBAN', IBAN);
  seedSecret('IBAN (compact)', IBAN.replace(/\s/g, ''));
  seedSecret('IBAN (lower case)', IBAN.replace(/\s/g, '').toLowerCase());
  seedSecret('account holder', HOLDER);
  seedSecret('e-mail', EMAIL);
  seedSecret('e-mail (local part)', EMAIL.split('@')[0]);
  seedSecret('SEPA holder e-mail', HOLDER_EMAIL);
  seedSecret('SEPA holder e-mail (local part)', HOLDER_EMAIL.split('@')[0]);
  seedSecret('phone', PHONE);
  seedSecret('phone (digits)', PHONE.replace(/[\s+]/g, ''));
  seedSecret('PSP token', ana.pspToken);
  seedSecret('PayPal vault token', ana.paypal!.vaultToken);
  seedSecret('PayPal e-mail', `${ana.id}@example.com`);
  seedSecret("the Kafka sender's access token", await platform.senderToken('instagram'));
}, 240_000);

afterAll(async () => {
  jest.restoreAllMocks();
  await hub?.close().catch(() => undefined);
  if (hubSchema) await dropSchema(testDatabaseUrl(), hubSchema).catch(() => undefined);
  await support?.stop();
  await ads?.stop();
  await history?.stop();
  await platform?.stop();
});

const asPerson = (id: string): Promise<string> => platform.idp.signTestToken({ sub: id, role: 'person' });

/** Every message of a topic up to its end as of now: key, value and headers as text. */
async function readTopic(topic: string): Promise<string[]> {
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const expected = offsets.reduce((sum, partition) => sum + (Number(partition.high) - Number(partition.low)), 0);
  if (expected === 0) return [];
  const lines: string[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('leak-scan'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.entries(message.headers ?? {}).map(([name, value]) => `${name}=${String(value)}`);
        lines.push([message.key?.toString() ?? '', message.value?.toString() ?? '', ...headers].join(' | '));
      },
    });
    await waitFor(
      () => lines.length,
      (count) => count >= expected,
      { what: `all ${expected} messages of ${topic}`, timeoutMs: 60_000 },
    );
  } finally {
    await consumer.disconnect();
  }
  return lines;
}

/** Which seeded secrets appear in `text`: their names only; `allowed` names those that may. */
function leaksIn(text: string, allowed: ReadonlySet<string> = new Set()): string[] {
  return [
    ...[...secrets].filter(([name, value]) => !allowed.has(name) && text.includes(value)).map(([name]) => name),
    ...pinPatterns.filter(([, pattern]) => pattern.test(text)).map(([name]) => name),
  ];
}

/** A call to a service as one caller; the body is kept (as text) for the scan. */
async function answer(kept: string[], url: string, token: string, method = 'GET', body?: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  kept.push(text);
  return { status: response.status, text };
}

/** The hub as a browser calls it: its header, the session cookie; the body is kept for the scan. */
async function viaHub(
  path: string,
  cookie?: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; text: string; cookie?: string }> {
  const response = await fetch(`${hub.url}${path}`, {
    method: init.method ?? 'GET',
    redirect: 'manual',
    headers: {
      'x-pay-hub': '1',
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(cookie ? { cookie } : {}),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  hubAnswers.push(text);
  const set = (response.headers.get('set-cookie') ?? '').split(';')[0];
  return { status: response.status, text, ...(set ? { cookie: set } : {}) };
}

/** A chat participant on support's WebSocket (socket.io, namespace /support). */
async function chatAs(token: string): Promise<{ emit: (event: string, payload: unknown) => Promise<Record<string, unknown>>; close: () => void }> {
  const socket = io(`${support.url}/support`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return {
    emit: async (event, payload) => (await socket.emitWithAck(event, payload)) as Record<string, unknown>,
    close: () => void socket.disconnect(),
  };
}

describe('seeded secrets through the wallet and payment-orchestration', () => {
  it('the wallet takes contact details and a bank account, refuses a raw card number and a wrong PIN', async () => {
    const token = await asPerson(ana.id);
    seedSecret("the person's access token", token);
    const wallet = platform.wallet.url;
    expect((await http(`${wallet}/v1/wallets/${ana.id}/contact`, 'PUT', token, { email: EMAIL, phone: PHONE })).status).toBe(200);
    expect(
      (
        await http(
          `${wallet}/v1/wallets/${ana.id}/payment-methods/bank-accounts`,
          'POST',
          token,
          { iban: IBAN, holderName: HOLDER, holderEmail: HOLDER_EMAIL },
          await platform.mandateAttestation(ana.id, { iban: IBAN }),
        )
      ).status,
    ).toBe(201);
    const raw = await http(`${wallet}/v1/wallets/${ana.id}/payment-methods/cards`, 'POST', token, {
      pspToken: CARD_NUMBER.replace(/\s/g, ''),
      brand: 'visa',
      last4: '5556',
      expMonth: 12,
      expYear: new Date().getUTCFullYear() + 2,
      country: 'US',
    });
    expect(raw).toMatchObject({ status: 400, body: { code: 'CARD_NUMBER_REFUSED' } });
    // A wrong PIN (the attempt is logged and published as a fraud signal, never the PIN).
    const refused = await http(`${wallet}/v1/wallets/${ana.id}/step-up/pin`, 'POST', token, {
      pin: PINS['wrong PIN'],
      ceiling: { amount: '100', currency: 'USD' },
    });
    expect(refused.status).toBeGreaterThanOrEqual(400);
  });

  it('captures purchases through both doors, with a step-up proof and free text full of secrets', async () => {
    const proof = await ana.stepUp(9_000n);
    seedSecret('step-up proof', proof);
    const description = `card ${CARD_NUMBER}, mail ${EMAIL}, call ${PHONE}, iban ${IBAN}`;
    const viaKafka = await platform.paymentOf(await platform.publishPurchase(purchaseOf(ana, 9_000n, { stepUpProof: proof, description })));
    await platform.events.waitFor(viaKafka, 'payments.payment.captured', 60_000);
    paymentIds.push(viaKafka);

    const backend = await platform.serviceToken('service', 'instagram');
    seedSecret("an app backend's access token", backend);
    const viaHttp = await http<{ paymentId: string }>(`${platform.orchestrationUrl}/v1/payments`, 'POST', backend, purchaseOf(ana, 2_500n, { description }), {
      'idempotency-key': randomUUID(),
    });
    expect(viaHttp.status).toBe(202);
    await platform.events.waitFor(viaHttp.body.paymentId, 'payments.payment.captured', 60_000);
    paymentIds.push(viaHttp.body.paymentId);

    const viaPayPal = await platform.paymentOf(await platform.publishPurchase(purchaseOf(ana, 1_500n, { paymentMethodId: ana.paypal!.methodId })));
    await platform.events.waitFor(viaPayPal, 'payments.payment.captured', 60_000);
    paymentIds.push(viaPayPal);
  });

  it('dead-letters malformed requests that carry secrets', async () => {
    const proof = await ana.stepUp(5_000n);
    seedSecret('step-up proof (dead-lettered)', proof);
    const invalid = await platform.publishPurchase(
      purchaseOf(ana, 5_000n, { amount: { amount: 'fifty', currency: 'USD' }, stepUpProof: proof, description: `card ${CARD_NUMBER} ${EMAIL}` }),
    );
    const dlq = deadLetterTopicOf(platform.purchaseTopic);
    await waitFor(
      () => readTopic(dlq),
      (lines) => lines.some((line) => line.includes(invalid)),
      { what: 'the malformed request dead-lettered', timeoutMs: 60_000 },
    );
  });

  it("support: a conversation about a payment, secrets typed into the chat, the agent's desk and the timeline", async () => {
    const person = await asPerson(ana.id);
    const agent = await platform.idp.signTestToken({ sub: 'agent-leak-scan', role: 'support' });
    // Support learns the payment from payments.events.v1: open once it has.
    const opened = await waitFor(
      () => answer(supportAnswers, `${support.url}/v1/support/conversations`, person, 'POST', { country: 'US', app: 'instagram', paymentId: paymentIds[0] }),
      (result) => result.status !== 404,
      { what: 'a conversation about the payment opened', timeoutMs: 60_000 },
    );
    expect(opened.status).toBe(201);
    conversationId = (JSON.parse(opened.text) as { id: string }).id;
    expect((await answer(supportAnswers, `${support.url}/v1/support/conversations/${conversationId}/claim`, agent, 'POST', {})).status).toBe(200);
    const personChat = await chatAs(person);
    const agentChat = await chatAs(agent);
    try {
      await personChat.emit('conversation.join', { conversationId });
      await agentChat.emit('conversation.join', { conversationId });
      const send = (text: string) => personChat.emit('message.send', { conversationId, clientMessageId: randomUUID(), text });
      expect(await send(`my card is ${CARD_NUMBER}`)).toMatchObject({ ok: false, code: 'MESSAGE_HAS_CARD_NUMBER' });
      expect(await send(`my PIN is ${PINS.pin}`)).toMatchObject({ ok: false, code: 'MESSAGE_HAS_PIN' });
      expect(await send(`refund to ${IBAN} please`)).toMatchObject({ ok: true, message: { masked: ['iban'] } });
    } finally {
      personChat.close();
      agentChat.close();
    }
    // What the agent sees: the queue, their conversations, the payment's timeline; the person: their export.
    await answer(supportAnswers, `${support.url}/v1/support/queue`, agent);
    await answer(supportAnswers, `${support.url}/v1/support/agents/me/conversations`, agent);
    expect((await answer(supportAnswers, `${support.url}/v1/support/conversations/${conversationId}/payment`, agent)).status).toBe(200);
    const exported = await answer(supportAnswers, `${support.url}/v1/support/persons/${ana.id}/conversations/export`, person);
    expect(exported.text).toContain('[IBAN GB…');
  });

  it("the Pay Hub: a person's pages and an agent's queue through the hub's server", async () => {
    const signIn = async (role: string, sub: string): Promise<string> => {
      const signedIn = await viaHub('/bff/dev-sign-in', undefined, { method: 'POST', body: { role, sub } });
      expect(signedIn.status).toBe(201);
      return signedIn.cookie!;
    };
    const person = await signIn('person', ana.id);
    for (const path of [
      `/api/wallet/v1/wallets/${ana.id}`,
      `/api/wallet/v1/wallets/${ana.id}/payment-methods`,
      `/api/wallet/v1/wallets/${ana.id}/payment-methods/${ana.paypal!.methodId}`,
      `/api/history/v1/history/persons/${ana.id}/entries`,
    ]) {
      expect((await viaHub(path, person)).status).toBe(200);
    }
    // Another person's wallet through the hub: nothing.
    expect((await viaHub(`/api/wallet/v1/wallets/${ana.id}x`, person)).status).toBeGreaterThanOrEqual(400);
    const agent = await signIn('support', 'agent-leak-scan');
    expect((await viaHub('/api/support/v1/support/queue', agent)).status).toBe(200);
    expect((await viaHub('/api/support/v1/support/agents/me/conversations', agent)).status).toBe(200);
    expect((await viaHub(`/api/support/v1/support/conversations/${conversationId}/payment`, agent)).status).toBe(200);
  });

  it("history's CSV exports hold the payments, and ad signals close their windows", async () => {
    const person = await history.as(ana.id, 'person');
    const merchant = await history.as('instagram-backend', 'service', { app: 'instagram', merchants: [...E2E_MERCHANTS], scope: APP_BACKEND_SCOPES.join(' ') });
    const analyst = await history.as('analyst-leak-scan', 'analyst');
    const csv = async (caller: typeof person, path: string): Promise<string> => {
      const response = await fetch(`${history.url}${path}`, { headers: { authorization: `Bearer ${caller.token}` } });
      expect(response.status).toBe(200);
      return response.text();
    };
    // Projected once the person's export lists every payment of the run.
    const own = await waitFor(
      () => csv(person, `/v1/history/persons/${ana.id}/entries/export`),
      (text) => paymentIds.every((paymentId) => text.includes(paymentId)),
      { what: "the run's payments in the person's history", timeoutMs: 60_000 },
    );
    exports.push(own);
    exports.push(await csv(merchant, '/v1/history/merchants/merchant-e2e/entries/export'));
    exports.push(await csv(analyst, '/v1/history/entries/export'));
    exports.push(await csv(analyst, '/v1/history/aggregates/export'));
    await ads.closer.closeDueWindows();
  });

  it('leaves no secret in any log line, event, command, ledger transaction, dead letter, ad signal or CSV export', async () => {
    const admin = testKafka().admin();
    await admin.connect();
    const topics = await admin.listTopics().finally(() => admin.disconnect());
    // The platform's topics (other files' own purchase topics, if any, hold their own requests).
    const scanned = [...topics.filter((topic) => !topic.startsWith('__') && !topic.startsWith('e2e.')), deadLetterTopicOf(platform.purchaseTopic)];
    const found: Record<string, string[]> = {};
    for (const topic of scanned) {
      const leaks = leaksIn((await readTopic(topic)).join('\n'));
      if (leaks.length > 0) found[`topic ${topic}`] = leaks;
    }
    expect(serviceLogs.length).toBeGreaterThan(100);
    const logLeaks = leaksIn(serviceLogs.join(''));
    if (logLeaks.length > 0) found['service logs'] = logLeaks;
    const consoleLeaks = leaksIn(consoleLines.join('\n'));
    if (consoleLeaks.length > 0) found.console = consoleLeaks;
    const exportLeaks = leaksIn(exports.join('\n'));
    if (exportLeaks.length > 0) found['history CSV exports'] = exportLeaks;
    const signalLeaks = leaksIn(JSON.stringify(ads.output.records));
    if (signalLeaks.length > 0) found['ad signals'] = signalLeaks;
    const supportLeaks = leaksIn(supportAnswers.join('\n'));
    if (supportLeaks.length > 0) found["support's answers (person and agent)"] = supportLeaks;
    const hubLeaks = leaksIn(hubAnswers.join('\n'), OWN_DETAILS);
    if (hubLeaks.length > 0) found["the hub's answers"] = hubLeaks;
    const hubLogLeaks = leaksIn(hubLogs.join('\n'));
    if (hubLogLeaks.length > 0) found["the hub's logs"] = hubLogLeaks;
    const simulator = platform.simulator.snapshot();
    const simulatorLeaks = leaksIn(JSON.stringify(simulator), PSP_OWN);
    if (simulatorLeaks.length > 0) found['what the PSP simulator received and keeps'] = simulatorLeaks;
    expect(found).toEqual({});
    // The scan read what it meant to: support's answers hold the conversation and the timeline,
    // the hub's the person's wallet, the simulator the run's charges, the logs support's and the hub's.
    expect(supportAnswers.join('\n')).toContain(paymentIds[0]);
    expect(hubAnswers.join('\n')).toContain(ana.id);
    expect(simulator.paymentIntents.length).toBeGreaterThan(0);
    expect(serviceLogs.join('')).toMatch(/"service":"support"/);
    // The scan finds what is there: the apps' own requests carry the secrets they were given...
    expect(leaksIn((await readTopic(platform.purchaseTopic)).join('\n'))).toEqual(
      expect.arrayContaining(['card number', 'IBAN', 'e-mail', 'phone', 'step-up proof', 'step-up proof (dead-lettered)']),
    );
    // ...the PSP holds the SEPA holder's e-mail the wallet passed on with the IBAN (and no one else does)...
    expect(leaksIn(JSON.stringify(simulator))).toEqual(expect.arrayContaining(['SEPA holder e-mail']));
    // ...and the logs scanned are those of this run's payments.
    for (const paymentId of paymentIds) expect(serviceLogs.join('')).toContain(paymentId);
    // The scan sees what it looks for: the topics carried the run's payments.
    expect(scanned).toEqual(
      expect.arrayContaining([
        'payments.events.v1',
        'wallet.events.v1',
        'ledger.transactions.v1',
        ads.aggregatesTopic,
        Topics.supportEvents,
        deadLetterTopicOf(platform.purchaseTopic),
      ]),
    );
  });
});
