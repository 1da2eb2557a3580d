/**
 * The seeded leak scan (issue 14, "Redaction"): purchases and wallet changes carrying known
 * secrets — a card number, a PIN, an IBAN with its holder, PSP and PayPal tokens, step-up proofs,
 * access tokens, e-mail addresses and phone numbers — go through the wallet and
 * payment-orchestration (real Kafka, PostgreSQL, PSP simulator), through both doors, valid and
 * malformed, and on to history and ad signals. Then every log line the services wrote, every
 * message of every topic the services write (events, funds commands, ledger transactions, ad
 * signals, dead letters, headers included) and every CSV export of history (the person's, the
 * merchant's, the analysts' entries and aggregates) is scanned for each secret: none may appear.
 * The purchase requests topic itself is the apps' input, not scanned (its dead-letter topic is).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { AggregationUnderTest } from '@pay/ad-signal-aggregation/testing';
import { startAggregation } from '@pay/ad-signal-aggregation/testing';
import { APP_BACKEND_SCOPES } from '@pay/auth';
import { deadLetterTopicOf, Topics } from '@pay/contracts';
import type { HistoryUnderTest } from '@pay/history-projection/testing';
import { startHistory } from '@pay/history-projection/testing';
import { testKafka, uniqueName, waitFor } from '@pay/testing';
import type { PaymentsPlatform, TestPerson } from './e2e-kit';
import { E2E_MERCHANTS, http, purchaseOf, startGroupAtEnd, startPaymentsPlatform } from './e2e-kit';

const serviceLogs: string[] = [];

jest.mock('@pay/observability', () => {
  const actual = jest.requireActual<typeof import('@pay/observability')>('@pay/observability');
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      serviceLogs.push(chunk.toString());
      done();
    },
  });
  return {
    ...actual,
    createLogger: (service: string, level?: string, own?: Parameters<typeof actual.createLogger>[2]) => actual.createLogger(service, level, own ?? destination),
  };
});

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
const PHONE = `+44 7700 900${String(parseInt(seed, 16) % 1000).padStart(3, '0')}`;

let platform: PaymentsPlatform;
let history: HistoryUnderTest;
let ads: AggregationUnderTest;
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
  const historyGroup = uniqueName('e2e.leak.history');
  const adsGroup = uniqueName('e2e.leak.ads');
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
  ana = await platform.person({ paypal: {} });
  seedSecret('card number', CARD_NUMBER);
  seedSecret('card number (digits)', CARD_NUMBER.replace(/\s/g, ''));
  seedSecret('IBAN', IBAN);
  seedSecret('IBAN (compact)', IBAN.replace(/\s/g, ''));
  seedSecret('IBAN (lower case)', IBAN.replace(/\s/g, '').toLowerCase());
  seedSecret('account holder', HOLDER);
  seedSecret('e-mail', EMAIL);
  seedSecret('e-mail (local part)', EMAIL.split('@')[0]);
  seedSecret('phone', PHONE);
  seedSecret('phone (digits)', PHONE.replace(/[\s+]/g, ''));
  seedSecret('PSP token', ana.pspToken);
  seedSecret('PayPal vault token', ana.paypal!.vaultToken);
  seedSecret('PayPal e-mail', `${ana.id}@example.com`);
}, 240_000);

afterAll(async () => {
  jest.restoreAllMocks();
  await ads?.stop();
  await history?.stop();
  await platform?.stop();
});

const asPerson = (id: string): Promise<string> => platform.idp.signTestToken({ sub: id, role: 'person' });

async function paymentIdOf(requestId: string): Promise<string> {
  const rows = await waitFor(
    () => platform.orchestrationQuery<{ payment_id: string }>('SELECT payment_id FROM payments WHERE request_id = $1', [requestId]),
    (found) => found.length === 1,
    { what: `payment of ${requestId}`, timeoutMs: 60_000 },
  );
  return rows[0].payment_id;
}

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

/** Which seeded secrets appear in `text`: their names only. */
function leaksIn(text: string): string[] {
  return [
    ...[...secrets].filter(([, value]) => text.includes(value)).map(([name]) => name),
    ...pinPatterns.filter(([, pattern]) => pattern.test(text)).map(([name]) => name),
  ];
}

describe('seeded secrets through the wallet and payment-orchestration', () => {
  it('the wallet takes contact details and a bank account, refuses a raw card number and a wrong PIN', async () => {
    const token = await asPerson(ana.id);
    seedSecret("the person's access token", token);
    const wallet = platform.wallet.url;
    expect((await http(`${wallet}/v1/wallets/${ana.id}/contact`, 'PUT', token, { email: EMAIL, phone: PHONE })).status).toBe(200);
    expect((await http(`${wallet}/v1/wallets/${ana.id}/payment-methods/bank-accounts`, 'POST', token, { iban: IBAN, holderName: HOLDER })).status).toBe(201);
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
    const viaKafka = await paymentIdOf(await platform.publishPurchase(purchaseOf(ana, 9_000n, { stepUpProof: proof, description })));
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

    const viaPayPal = await paymentIdOf(await platform.publishPurchase(purchaseOf(ana, 1_500n, { paymentMethodId: ana.paypal!.methodId })));
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
    expect(found).toEqual({});
    // The scan finds what is there: the apps' own requests carry the secrets they were given...
    expect(leaksIn((await readTopic(platform.purchaseTopic)).join('\n'))).toEqual(
      expect.arrayContaining(['card number', 'IBAN', 'e-mail', 'phone', 'step-up proof', 'step-up proof (dead-lettered)']),
    );
    // ...and the logs scanned are those of this run's payments.
    for (const paymentId of paymentIds) expect(serviceLogs.join('')).toContain(paymentId);
    // The scan sees what it looks for: the topics carried the run's payments.
    expect(scanned).toEqual(
      expect.arrayContaining([
        'payments.events.v1',
        'wallet.events.v1',
        'ledger.transactions.v1',
        ads.aggregatesTopic,
        deadLetterTopicOf(platform.purchaseTopic),
      ]),
    );
  });
});
