/**
 * Bank debits end to end (issue 16, items 1 and 4): real Kafka, PostgreSQL, the wallet,
 * orchestration, history and the PSP simulator. The person saves a bank account through the
 * wallet API — an IBAN (SEPA Direct Debit, in EUR) or a US account (ACH, in USD) — and pays with
 * it: orchestration routes it to Stripe's debit of that account (the simulator sees a
 * `sepa_debit` or `us_bank_account` PaymentIntent under a mandate), which is `processing` for
 * days; the simulator's bank answers after 3 simulated days (the test moves its clock). Settled:
 * the capture posts once and the pending layer empties. Failed late (Stripe's failing test
 * accounts): everything the debit posted is reversed, and the person's history says so
 * throughout. Every currency's postings sum to zero and the journal's hash chain verifies.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { APP_BACKEND_SCOPES } from '@pay/auth';
import { Topics } from '@pay/contracts';
import type { HistoryUnderTest } from '@pay/history-projection/testing';
import { startHistory } from '@pay/history-projection/testing';
import { sqlOfPool } from '@pay/platform';
import { testDatabaseUrl, uniqueName, waitFor } from '@pay/testing';
import { SecretBox, secretContext } from '@pay/wallet/tools';
import { DataSource } from 'typeorm';
import type { PaymentsPlatform, PersonOptions, TestPerson } from './e2e-kit';
import { E2E_MERCHANTS, feeOf, http, purchaseOf, startGroupAtEnd, startPaymentsPlatform } from './e2e-kit';

const ROOT = resolve(__dirname, '../..');
const DAY = 24 * 60 * 60 * 1000;
const MERCHANT = 'merchant-e2e';
const payable = (currency: string): string => `merchant.${MERCHANT}.payable.${currency}`;
/** The wallet's fee on a business that loses a chargeback (its PAYMENT_DISPUTE_FEE_MINOR default). */
const DISPUTE_FEE = 1_500n;
const merchantPending = (currency: string): string => `merchant.${MERCHANT}.pending.${currency}`;

/** How each kind of bank account is saved and paid from: where Pay is live for it, its currency, Stripe's debit type. */
interface BankDebitCase {
  readonly name: string;
  readonly account: NonNullable<PersonOptions['bankAccount']>;
  readonly person: Pick<PersonOptions, 'country' | 'apps'>;
  readonly purchase: { app: string; country: string; currency: string };
  readonly stripeType: string;
}

// Stripe's test accounts: DE89… and 000123456789 settle; DE62…001 and 000222222227 fail (insufficient funds).
const sepa = (iban: string): BankDebitCase => ({
  name: 'an IBAN (SEPA Direct Debit, EUR)',
  account: { iban },
  person: { country: 'DE', apps: ['facebook', 'messenger'] },
  purchase: { app: 'facebook', country: 'DE', currency: 'EUR' },
  stripeType: 'sepa_debit',
});
const ach = (accountNumber: string): BankDebitCase => ({
  name: 'a US account (ACH, USD)',
  account: { routingNumber: '110000000', accountNumber },
  person: { country: 'US', apps: ['instagram', 'facebook'] },
  purchase: { app: 'instagram', country: 'US', currency: 'USD' },
  stripeType: 'us_bank_account',
});

/** A US account linked at its bank (Financial Connections): verified at once, debited by ACH like one verified by micro-deposits. */
const linked = (account: 'checking' | 'insufficient_funds'): BankDebitCase => ({
  name: 'a US account linked at its bank (Financial Connections, ACH, USD)',
  account: { linkedAtBank: account },
  person: { country: 'US', apps: ['instagram', 'facebook'] },
  purchase: { app: 'instagram', country: 'US', currency: 'USD' },
  stripeType: 'us_bank_account',
});

let platform: PaymentsPlatform;
let history: HistoryUnderTest;
const historyGroup = uniqueName('history-projection.e2e-debits');

beforeAll(async () => {
  platform = await startPaymentsPlatform();
  for (const topic of [Topics.paymentEvents, Topics.ledgerTransactions, Topics.walletEvents]) await startGroupAtEnd(historyGroup, topic);
  history = await startHistory({
    idp: platform.idp,
    topics: { payments: Topics.paymentEvents, ledger: Topics.ledgerTransactions, wallet: Topics.walletEvents },
    env: { HISTORY_CONSUMER_GROUP: historyGroup },
  });
}, 180_000);

afterAll(async () => {
  await history?.stop();
  await platform?.stop();
});

const status = async (paymentId: string): Promise<string | undefined> =>
  (await platform.orchestrationQuery<{ status: string }>('SELECT status FROM payments WHERE payment_id = $1', [paymentId]))[0]?.status;

/** The status of the payment's entry in the person's own history, as the person reads it. */
async function historyStatus(person: TestPerson, paymentId: string): Promise<string | undefined> {
  const caller = await history.as(person.id, 'person');
  const page = await caller.get<{ entries: { paymentId: string; kind: string; status: string }[] }>(`/v1/history/persons/${person.id}/entries?limit=50`);
  return page.body.entries?.find((entry) => entry.paymentId === paymentId && entry.kind === 'purchase')?.status;
}

const movements = async (paymentId: string): Promise<string[]> =>
  (await platform.walletQuery<{ movement: string }>('SELECT movement FROM payment_ledger_postings WHERE payment_id = $1 ORDER BY posted_at', [paymentId])).map(
    (row) => row.movement,
  );

/** Waits until the wallet has posted `movement` for the payment. */
const posted = (paymentId: string, movement: string, what: string): Promise<string[]> =>
  waitFor(
    () => movements(paymentId),
    (m) => m.includes(movement),
    { what },
  );

/** Waits until the person's own history shows the payment with `expected` status. */
const shownInHistory = (person: TestPerson, paymentId: string, expected: string, what: string): Promise<string | undefined> =>
  waitFor(
    () => historyStatus(person, paymentId),
    (s) => s === expected,
    { what },
  );

/** A person whose only (so preferred) method is this bank account, saved through the wallet API. */
const personWith = (debit: BankDebitCase): Promise<TestPerson> => platform.person({ ...debit.person, withoutCard: true, bankAccount: debit.account });

/** The PaymentIntent at the simulator (Stripe's API, as a support engineer would look it up). */
async function paymentIntentOf(paymentId: string): Promise<{ payment_method_types: string[]; currency: string; status: string }> {
  const answer = await http<{ payment_method_types: string[]; currency: string; status: string }>(
    `${platform.simulator.url}/v1/payment_intents/${await referenceOf(paymentId)}`,
    'GET',
    'sk_test_e2e',
  );
  expect(answer.status).toBe(200);
  return answer.body;
}

const referenceOf = async (paymentId: string): Promise<string> =>
  (await platform.orchestrationQuery<{ reference: string }>('SELECT reference FROM payments WHERE payment_id = $1', [paymentId]))[0].reference;

/** A purchase paid by debit, until the wallet posted it as pending and history shows it processing. */
async function debitPurchase(person: TestPerson, debit: BankDebitCase, amount: bigint): Promise<string> {
  const { app, country, currency } = debit.purchase;
  const paymentId = await platform.paymentOf(
    await platform.publishPurchase(
      purchaseOf(person, amount, { app, country, amount: { amount: amount.toString(), currency }, paymentMethodId: person.bankAccount?.methodId }),
    ),
  );
  await platform.events.waitFor(paymentId, 'payments.payment.processing');
  expect(await status(paymentId)).toBe('processing');
  expect(await paymentIntentOf(paymentId)).toMatchObject({ payment_method_types: [debit.stripeType], currency: currency.toLowerCase(), status: 'processing' });
  await posted(paymentId, 'debit_pending', 'the pending posting');
  await shownInHistory(person, paymentId, 'processing', 'history to show processing');
  return paymentId;
}

/** Debits equal credits in every currency, and the journal's hash chain verifies (`npm run ledger:verify`). */
async function ledgerHolds(): Promise<void> {
  const sums = await platform.walletQuery<{ currency: string; balance: string }>(
    "SELECT currency, sum(CASE direction WHEN 'debit' THEN amount ELSE -amount END)::text AS balance FROM postings WHERE layer = 'posted' GROUP BY currency",
  );
  expect(sums.length).toBeGreaterThan(0);
  expect(sums.filter((sum) => sum.balance !== '0')).toEqual([]);
  const verify = await promisify(execFile)(resolve(ROOT, 'node_modules/.bin/tsx'), ['tools/ledger/verify.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, DATABASE_URL: testDatabaseUrl(), LEDGER_SCHEMA: platform.walletSchema },
  });
  expect(verify.stdout).toMatch(/^verified [0-9]+ entries$/m);
}

describe('a US account verified by micro-deposits', () => {
  it('is refused for payment until its owner verifies it (bank_account_unverified, nothing posted, nothing at the PSP); then it debits', async () => {
    const debit = ach('000123456789');
    const person = await platform.person({ ...debit.person, withoutCard: true, bankAccount: { ...debit.account, unverified: true } });
    const methodId = person.bankAccount!.methodId;
    const { app, country, currency } = debit.purchase;
    const purchase = (amount: bigint) =>
      purchaseOf(person, amount, { app, country, amount: { amount: amount.toString(), currency }, paymentMethodId: methodId });
    const personToken = await platform.idp.signTestToken({ sub: person.id, role: 'person' });
    const method = async () =>
      (await http<{ id: string; verification?: string }[]>(`${platform.wallet.url}/v1/wallets/${person.id}/payment-methods`, 'GET', personToken)).body.find(
        (m) => m.id === methodId,
      );
    expect(await method()).toMatchObject({ verification: 'pending' });

    const refused = await platform.paymentOf(await platform.publishPurchase(purchase(1_000n)));
    expect((await platform.events.waitFor(refused, 'payments.payment.failed')).data).toMatchObject({ code: 'bank_account_unverified' });
    expect(await referenceOf(refused)).toBeFalsy();
    expect(await movements(refused)).toEqual([]);

    // The person reads the descriptor code on their statement; a wrong one first.
    const verify = (body: unknown) =>
      http(`${platform.wallet.url}/v1/wallets/${person.id}/payment-methods/${methodId}/microdeposits`, 'POST', personToken, body);
    expect(await verify({ descriptorCode: 'SM12AB' })).toMatchObject({ status: 400, body: { code: 'MICRODEPOSITS_MISMATCH' } });
    expect(await verify({ descriptorCode: 'SM11AA' })).toMatchObject({ status: 200, body: { verification: 'verified' } });

    const paid = await debitPurchase(person, debit, 1_000n);
    platform.simulator.advanceClock(3 * DAY);
    await platform.events.waitFor(paid, 'payments.payment.captured');
    await posted(paid, 'capture', 'the capture posting');
  });
});

describe("the payer's mandate", () => {
  const accepted = { textVersion: 'debit-mandate-2026-01', ipAddress: '203.0.113.7', userAgent: 'PayTest/1.0 (iPhone; iOS 18.0)' };
  const debited: string[] = [];

  // Their debits settle and post before the next tests, which count what settles and the merchant's balances.
  afterAll(async () => {
    if (!platform || debited.length === 0) return;
    platform.simulator.advanceClock(3 * DAY);
    for (const paymentId of debited) {
      await platform.events.waitFor(paymentId, 'payments.payment.captured');
      await posted(paymentId, 'capture', `the capture posting of ${paymentId}`);
    }
  });

  /** The mandate the simulator made for the debit's PaymentMethod, as Stripe would show it. */
  async function mandateOf(paymentId: string): Promise<unknown> {
    const reference = await referenceOf(paymentId);
    const state = platform.simulator.snapshot();
    const paymentMethod = state.paymentIntents.find((intent) => intent.id === reference)?.payment_method;
    return state.mandates.find((mandate) => mandate.payment_method === paymentMethod)?.customer_acceptance;
  }

  it.each([sepa('DE89370400440532013000'), ach('000123456789')])(
    '$name: the acceptance recorded when the account was saved goes with the debit, online with its IP address and user agent',
    async (debit) => {
      const before = Math.floor(Date.now() / 1000);
      const person = await platform.person({ ...debit.person, withoutCard: true, bankAccount: { ...debit.account, mandate: accepted } });
      const paymentId = await debitPurchase(person, debit, 1_000n);
      debited.push(paymentId);
      const acceptance = (await mandateOf(paymentId)) as { type: string; accepted_at: number; online?: unknown };
      expect(acceptance).toMatchObject({ type: 'online', online: { ip_address: accepted.ipAddress, user_agent: accepted.userAgent } });
      // When the wallet recorded it (its clock), not when the debit was made.
      expect(acceptance.accepted_at).toBeGreaterThanOrEqual(before - 1);
      expect(acceptance.accepted_at).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
      // Without the hub's attestation of the payer's acceptance no account is saved, so none is debited (no offline claim).
      const token = await platform.idp.signTestToken({ sub: person.id, role: 'person' });
      const route = 'iban' in debit.account ? 'bank-accounts' : 'us-bank-accounts';
      const refused = await http(`${platform.wallet.url}/v1/wallets/${person.id}/payment-methods/${route}`, 'POST', token, {
        ...debit.account,
        ...('iban' in debit.account ? { holderEmail: 'ana.silva@example.com' } : { accountType: 'checking' }),
        holderName: 'Ana Maria Silva',
      });
      expect(refused).toMatchObject({ status: 403, body: { code: 'MANDATE_NOT_ATTESTED' } });
    },
  );

  it('an IBAN is saved once at the PSP: each purchase debits its one PaymentMethod on its customer, under its one mandate, never the IBAN again', async () => {
    const debit = sepa('DE89370400440532013000');
    const person = await personWith(debit);
    const first = await debitPurchase(person, debit, 1_100n);
    const second = await debitPurchase(person, debit, 1_200n);
    debited.push(first, second);
    const state = platform.simulator.snapshot();
    const setup = state.setupIntents.find((intent) => intent.metadata.pay_method === person.bankAccount!.methodId)!;
    expect(setup).toMatchObject({ status: 'succeeded', payment_method_types: ['sepa_debit'], customer: expect.stringMatching(/^cus_/) });
    for (const paymentId of [first, second]) {
      const reference = await referenceOf(paymentId);
      expect(state.paymentIntents.find((intent) => intent.id === reference)).toMatchObject({
        payment_method: setup.payment_method,
        customer: setup.customer,
        payment_method_types: ['sepa_debit'],
      });
    }
    expect(state.mandates.filter((mandate) => mandate.payment_method === setup.payment_method).map((mandate) => mandate.id)).toEqual([setup.mandate]);
  });
});

/**
 * Puts a saved IBAN in the shape the wallet kept IBANs before the PSP held bank accounts (ADR
 * 0011): the IBAN, holder and mandate sealed in the vault, no PaymentMethod or customer of its own.
 */
async function keepAsBeforePaymentMethods(person: TestPerson): Promise<void> {
  const app = platform.wallet.service!.app;
  const [secrets, sql] = [app.get(SecretBox), sqlOfPool(app.get(DataSource))];
  const methodId = person.bankAccount!.methodId;
  const [row] = await platform.walletQuery<{ secret: string }>('SELECT secret FROM payment_methods WHERE id = $1', [methodId]);
  const {
    pspToken: _pspToken,
    customer: _customer,
    ...kept
  } = JSON.parse(await secrets.open(sql, row.secret, secretContext.method(methodId))) as Record<string, string>;
  expect(kept).toMatchObject({ iban: expect.any(String), mandateTextVersion: expect.any(String) });
  const sealed = await secrets.seal(sql, person.id, JSON.stringify(kept), secretContext.method(methodId));
  await platform.walletQuery('UPDATE payment_methods SET secret = $2 WHERE id = $1', [methodId, sealed]);
}

describe('an IBAN saved before the PSP held bank accounts', () => {
  it('is shown to be saved again, and not debited (the PSP needs the holder e-mail it never carried): the payment fails bank_account_needs_resaving, nothing reaches the PSP or the ledger, history says failed', async () => {
    const debit = sepa('DE89370400440532013000');
    const person = await personWith(debit);
    const methodOf = async () =>
      (
        await http<{ needsResaving?: boolean }>(
          `${platform.wallet.url}/v1/wallets/${person.id}/payment-methods/${person.bankAccount!.methodId}`,
          'GET',
          await platform.idp.signTestToken({ sub: person.id, role: 'person' }),
        )
      ).body;
    expect(await methodOf()).not.toHaveProperty('needsResaving');
    await keepAsBeforePaymentMethods(person);
    // The person sees why, on the method, before paying with it.
    expect(await methodOf()).toMatchObject({ needsResaving: true });
    const { app, country, currency } = debit.purchase;
    const paymentId = await platform.paymentOf(
      await platform.publishPurchase(
        purchaseOf(person, 1_300n, { app, country, amount: { amount: '1300', currency }, paymentMethodId: person.bankAccount?.methodId }),
      ),
    );
    const failed = await platform.events.waitFor(paymentId, 'payments.payment.failed');
    expect(failed.data).toMatchObject({ code: 'bank_account_needs_resaving' });
    expect(failed.data).not.toHaveProperty('declineCode');
    expect(platform.simulator.requestsTo('/v1/payment_intents').filter((request) => request.idempotencyKey === `${paymentId}:authorize`)).toEqual([]);
    expect(await movements(paymentId)).toEqual([]);
    await waitFor(
      () => historyStatus(person, paymentId),
      (seen) => seen === 'failed',
      { what: "the person's history to show the payment failed" },
    );
  });
});

describe('a purchase paid from a saved bank account', () => {
  afterAll(async () => {
    if (platform) await ledgerHolds();
  });

  it.each([sepa('DE89370400440532013000'), ach('000123456789'), linked('checking')])(
    '$name: processing -> settled after 3 simulated days; the capture posts once and the pending layer empties',
    async (debit) => {
      const person = await personWith(debit);
      const { currency } = debit.purchase;
      const payableBefore = await platform.balance(payable(currency));
      const pendingBefore = await platform.balance(merchantPending(currency));
      const paymentId = await debitPurchase(person, debit, 3_000n);
      expect(await platform.balance(merchantPending(currency))).toBe(pendingBefore + 3_000n);
      expect(await platform.balance(payable(currency))).toBe(payableBefore);

      expect(platform.simulator.advanceClock(2 * DAY)).toEqual([]);
      expect(await status(paymentId)).toBe('processing');
      expect(platform.simulator.advanceClock(1 * DAY)).toHaveLength(1);

      await platform.events.waitFor(paymentId, 'payments.payment.captured');
      await posted(paymentId, 'capture', 'the capture posting');
      await shownInHistory(person, paymentId, 'captured', 'history to show captured');
      expect(await movements(paymentId)).toEqual(['debit_pending', 'capture']);
      expect(await platform.balance(payable(currency))).toBe(payableBefore + 3_000n - feeOf(3_000n));
      expect(await platform.balance(merchantPending(currency))).toBe(pendingBefore);
      await ledgerHolds();
    },
  );

  it.each([sepa('DE62370400440532013001'), ach('000222222227'), linked('insufficient_funds')])(
    '$name: processing -> failed after 3 simulated days; everything is reversed and the history says failed',
    async (debit) => {
      const person = await personWith(debit);
      const { currency } = debit.purchase;
      const payableBefore = await platform.balance(payable(currency));
      const pendingBefore = await platform.balance(merchantPending(currency));
      const paymentId = await debitPurchase(person, debit, 2_500n);

      expect(platform.simulator.advanceClock(3 * DAY)).toHaveLength(1);
      const failed = await platform.events.waitFor(paymentId, 'payments.payment.failed');
      expect(failed.data).toMatchObject({ code: 'insufficient_funds' });
      await posted(paymentId, 'debit_failed', 'the reversal of the pending posting');
      await shownInHistory(person, paymentId, 'failed', 'history to show failed');
      expect(await movements(paymentId)).toEqual(['debit_pending', 'debit_failed']);
      expect(await platform.balance(merchantPending(currency))).toBe(pendingBefore);
      expect(await platform.balance(payable(currency))).toBe(payableBefore);
      expect(await status(paymentId)).toBe('failed');
      await ledgerHolds();
    },
  );

  it('an IBAN debit returned by the bank weeks after it settled: a chargeback the bank decided takes the money back from the merchant, once', async () => {
    const debit = sepa('DE89370400440532013000');
    const person = await personWith(debit);
    const payableBefore = await platform.balance(payable('EUR'));
    const paymentId = await debitPurchase(person, debit, 4_000n);
    expect(platform.simulator.advanceClock(3 * DAY)).toHaveLength(1);
    await platform.events.waitFor(paymentId, 'payments.payment.captured');
    await posted(paymentId, 'capture', 'the capture posting');

    const reference = await referenceOf(paymentId);
    platform.simulator.advanceClock(20 * DAY);
    platform.simulator.returnDebit(reference, 'debit_not_authorized');
    const lost = await platform.events.waitFor(paymentId, 'payments.payment.dispute-lost');
    expect(lost.data).toMatchObject({ disputeId: `return_${reference}`, amount: { amount: '4000', currency: 'EUR' } });
    await posted(paymentId, 'dispute_loss', 'the return posting');
    expect(await movements(paymentId)).toEqual(['debit_pending', 'capture', 'dispute_loss']);
    // The merchant gave back the payment and pays the chargeback fee; our fee on the purchase is kept.
    expect(await platform.balance(payable('EUR'))).toBe(payableBefore - feeOf(4_000n) - DISPUTE_FEE);
    expect(await status(paymentId)).toBe('disputed');
    await shownInHistory(person, paymentId, 'disputed', 'history to show the return as a lost dispute');
    // Its chargeback entry says why the bank took the money back.
    const page = await (await history.as(person.id, 'person')).get<{ entries: HistoryEntryView[] }>(`/v1/history/persons/${person.id}/entries?limit=50`);
    expect(page.body.entries.find((entry) => entry.paymentId === paymentId && entry.kind === 'chargeback')).toMatchObject({
      status: 'charged_back',
      failureCode: 'debit_not_authorized',
    });
    await ledgerHolds();
  });
});

/** The entry of the payment in the person's own history, and in the merchant's (as its app's backend reads it). */
async function historyEntries(person: TestPerson, paymentId: string): Promise<{ person?: HistoryEntryView; merchant?: HistoryEntryView }> {
  const personCaller = await history.as(person.id, 'person');
  const merchantCaller = await history.as('instagram-backend', 'service', {
    app: 'instagram',
    merchants: [...E2E_MERCHANTS],
    scope: APP_BACKEND_SCOPES.join(' '),
  });
  const find = (page: { body: { entries?: HistoryEntryView[] } }) =>
    page.body.entries?.find((entry) => entry.paymentId === paymentId && entry.kind === 'purchase');
  return {
    person: find(await personCaller.get<{ entries: HistoryEntryView[] }>(`/v1/history/persons/${person.id}/entries?limit=50`)),
    merchant: find(await merchantCaller.get<{ entries: HistoryEntryView[] }>(`/v1/history/merchants/${MERCHANT}/entries?limit=200`)),
  };
}
/** What the simulator's bank may return a settled debit with (Stripe's codes). */
type DebitReturnCode = NonNullable<Parameters<PaymentsPlatform['simulator']['returnDebit']>[1]>;

interface HistoryEntryView {
  paymentId: string;
  kind: string;
  status: string;
  failureCode: string | null;
}

/** What the wallet told of this method's mark (`wallet.payment-method.marked-unusable` in its outbox, each event once). */
const marksTold = async (methodId: string): Promise<{ reason: string; paymentId: string }[]> =>
  (
    await platform.walletQuery<{ data: { reason: string; paymentId: string } }>(
      "SELECT payload->'data' AS data FROM outbox WHERE payload->>'type' = 'wallet.payment-method.marked-unusable' AND payload->'data'->>'methodId' = $1 ORDER BY position",
      [methodId],
    )
  ).map(({ data }) => ({ reason: data.reason, paymentId: data.paymentId }));

interface SavedMethodInHistory {
  id: string;
  preferred: boolean;
  removedAt: string | null;
  unusableReason: string | null;
}

/** The person's saved methods as history keeps them (its copy, from wallet.events.v1), as the person reads them. */
async function methodsInHistory(person: TestPerson): Promise<SavedMethodInHistory[]> {
  const answer = await (await history.as(person.id, 'person')).get<{ paymentMethods: SavedMethodInHistory[] }>(`/v1/history/persons/${person.id}/profile`);
  expect(answer.status).toBe(200);
  return answer.body.paymentMethods;
}

/** The saved method as its owner sees it in the wallet. */
async function methodAsOwnerSees(person: TestPerson): Promise<{ id: string; status: string; unusableReason?: string } | undefined> {
  const token = await platform.idp.signTestToken({ sub: person.id, role: 'person' });
  const answer = await http<{ id: string; status: string; unusableReason?: string }[]>(
    `${platform.wallet.url}/v1/wallets/${person.id}/payment-methods`,
    'GET',
    token,
  );
  expect(answer.status).toBe(200);
  return answer.body.find((method) => method.id === person.bankAccount!.methodId);
}

describe("a bank account whose debit the payer's bank refuses late", () => {
  afterAll(async () => {
    if (platform) await ledgerHolds();
  });

  /** A purchase from the person's bank account, after the first debit failed: its payment id once it failed or went processing. */
  async function purchaseAgain(person: TestPerson, debit: BankDebitCase, amount: bigint): Promise<string> {
    const { app, country, currency } = debit.purchase;
    return platform.paymentOf(
      await platform.publishPurchase(
        purchaseOf(person, amount, { app, country, amount: { amount: amount.toString(), currency }, paymentMethodId: person.bankAccount?.methodId }),
      ),
    );
  }

  /** The first debit fails late with `code`: reversed once; the person's and the merchant's history say failed, and why. */
  async function failsLate(person: TestPerson, paymentId: string, code: string): Promise<void> {
    const failed = await platform.events.waitFor(paymentId, 'payments.payment.failed');
    expect(failed.data).toMatchObject({ code });
    await posted(paymentId, 'debit_failed', 'the reversal of the pending posting');
    expect(await movements(paymentId)).toEqual(['debit_pending', 'debit_failed']);
    const seen = await waitFor(
      () => historyEntries(person, paymentId),
      (entries) => entries.person?.status === 'failed' && entries.merchant?.status === 'failed',
      { what: "the person's and the merchant's history to show the debit failed" },
    );
    expect(seen.person).toMatchObject({ status: 'failed', failureCode: code });
    expect(seen.merchant).toMatchObject({ status: 'failed', failureCode: code });
  }

  it.each([
    { debit: ach('000111111113'), code: 'account_closed' },
    { debit: ach('000111111116'), code: 'no_account' },
  ])(
    '$code (a US account, ACH): reversed once, history says failed with $code, the account is unusable and a new purchase from it fails bank_account_unusable before the PSP',
    async ({ debit, code }) => {
      const person = await personWith(debit);
      const { currency } = debit.purchase;
      const pendingBefore = await platform.balance(merchantPending(currency));
      const payableBefore = await platform.balance(payable(currency));
      const paymentId = await debitPurchase(person, debit, 2_200n);
      expect(await methodAsOwnerSees(person)).not.toHaveProperty('unusableReason');

      expect(platform.simulator.advanceClock(3 * DAY)).toHaveLength(1);
      await failsLate(person, paymentId, code);
      expect(await platform.balance(merchantPending(currency))).toBe(pendingBefore);
      expect(await platform.balance(payable(currency))).toBe(payableBefore);
      // The person sees the account needs replacing (it stays listed, active, for history).
      expect(await methodAsOwnerSees(person)).toMatchObject({ status: 'active', unusableReason: code });
      // The wallet told it once, and history's copy of the person's methods shows it.
      expect(await marksTold(person.bankAccount!.methodId)).toEqual([{ reason: code, paymentId }]);
      await waitFor(
        () => methodsInHistory(person),
        (methods) => methods.some((method) => method.id === person.bankAccount!.methodId && method.unusableReason === code),
        { what: "history's copy of the person's methods to show the mark" },
      );

      const again = await purchaseAgain(person, debit, 1_000n);
      expect((await platform.events.waitFor(again, 'payments.payment.failed')).data).toMatchObject({ code: 'bank_account_unusable' });
      expect(await referenceOf(again)).toBeFalsy();
      expect(platform.simulator.requestsTo('/v1/payment_intents').filter((request) => request.idempotencyKey === `${again}:authorize`)).toEqual([]);
      expect(await movements(again)).toEqual([]);
      const refusal = await waitFor(
        () => historyEntries(person, again),
        (entries) => entries.person?.status === 'failed',
        { what: "the person's history to show the refused purchase" },
      );
      expect(refusal.person).toMatchObject({ failureCode: 'bank_account_unusable' });
    },
  );

  it("an IBAN's debit the bank refuses on command (debit_not_authorized: the mandate was revoked): the account is unusable", async () => {
    const debit = sepa('DE89370400440532013000');
    const person = await personWith(debit);
    const paymentId = await debitPurchase(person, debit, 1_900n);
    platform.simulator.completePaymentIntent(await referenceOf(paymentId), 'failed', 'debit_not_authorized');
    await failsLate(person, paymentId, 'debit_not_authorized');
    expect(await methodAsOwnerSees(person)).toMatchObject({ status: 'active', unusableReason: 'debit_not_authorized' });
    const again = await purchaseAgain(person, debit, 1_000n);
    expect((await platform.events.waitFor(again, 'payments.payment.failed')).data).toMatchObject({ code: 'bank_account_unusable' });
    expect(await movements(again)).toEqual([]);
  });

  it('insufficient_funds (a US account, ACH): history says so, and the account stays usable: the next purchase is debited', async () => {
    const debit = ach('000222222227');
    const person = await personWith(debit);
    const paymentId = await debitPurchase(person, debit, 2_100n);
    expect(platform.simulator.advanceClock(3 * DAY)).toHaveLength(1);
    await failsLate(person, paymentId, 'insufficient_funds');
    expect(await methodAsOwnerSees(person)).not.toHaveProperty('unusableReason');
    expect(await marksTold(person.bankAccount!.methodId)).toEqual([]);
    // The wallet releases it again: the next purchase reaches the bank (processing), and fails there as the test account does.
    const again = await debitPurchase(person, debit, 1_000n);
    expect(platform.simulator.advanceClock(3 * DAY)).toHaveLength(1);
    await failsLate(person, again, 'insufficient_funds');
  });
  /** A debit that settled (captured, posted), then returned by the bank weeks later with `code`: recorded as a chargeback lost at once, posted once. */
  async function settledThenReturned(person: TestPerson, debit: BankDebitCase, amount: bigint, code: DebitReturnCode): Promise<string> {
    const paymentId = await debitPurchase(person, debit, amount);
    expect(platform.simulator.advanceClock(3 * DAY)).toHaveLength(1);
    await platform.events.waitFor(paymentId, 'payments.payment.captured');
    await posted(paymentId, 'capture', 'the capture posting');
    expect(await methodAsOwnerSees(person)).not.toHaveProperty('unusableReason');
    platform.simulator.advanceClock(20 * DAY);
    platform.simulator.returnDebit(await referenceOf(paymentId), code);
    expect((await platform.events.waitFor(paymentId, 'payments.payment.dispute-opened')).data).toMatchObject({ reason: code });
    await platform.events.waitFor(paymentId, 'payments.payment.dispute-lost');
    // The wallet applies dispute-opened before dispute-lost (one partition, in order): once the return is posted, the mark is decided.
    await posted(paymentId, 'dispute_loss', 'the return posting');
    expect(await movements(paymentId)).toEqual(['debit_pending', 'capture', 'dispute_loss']);
    return paymentId;
  }

  it('account_closed found weeks after the debit settled (a US account, ACH, returned by its bank): the account is unusable once, told once, history shows it, and a new purchase fails bank_account_unusable before the PSP', async () => {
    const debit = ach('000123456789');
    const person = await personWith(debit);
    const methodId = person.bankAccount!.methodId;
    const paymentId = await settledThenReturned(person, debit, 2_300n, 'account_closed');
    expect(await methodAsOwnerSees(person)).toMatchObject({ status: 'active', unusableReason: 'account_closed' });
    expect(await marksTold(methodId)).toEqual([{ reason: 'account_closed', paymentId }]);
    await waitFor(
      () => methodsInHistory(person),
      (methods) => methods.some((method) => method.id === methodId && method.unusableReason === 'account_closed'),
      { what: "history's copy of the person's methods to show the mark" },
    );

    const again = await purchaseAgain(person, debit, 1_000n);
    expect((await platform.events.waitFor(again, 'payments.payment.failed')).data).toMatchObject({ code: 'bank_account_unusable' });
    expect(await referenceOf(again)).toBeFalsy();
    expect(await movements(again)).toEqual([]);
    // Still told once: the refused purchase changed nothing.
    expect(await marksTold(methodId)).toEqual([{ reason: 'account_closed', paymentId }]);
  });

  it('insufficient_funds found after the debit settled: returned and posted once, the account stays usable (nothing told) and the next purchase is debited', async () => {
    const debit = ach('000123456789');
    const person = await personWith(debit);
    await settledThenReturned(person, debit, 2_400n, 'insufficient_funds');
    expect(await methodAsOwnerSees(person)).not.toHaveProperty('unusableReason');
    expect(await marksTold(person.bankAccount!.methodId)).toEqual([]);
    const again = await debitPurchase(person, debit, 1_000n);
    expect(platform.simulator.advanceClock(3 * DAY)).toHaveLength(1);
    await platform.events.waitFor(again, 'payments.payment.captured');
    await posted(again, 'capture', 'the capture posting of the next purchase');
  });

  it('the IBAN saved again under a new mandate after its mandate was revoked: it replaces the unusable method (removed, one method listed, preferred), history shows both, and purchases are debited again', async () => {
    const iban = 'DE89370400440532013000';
    const debit = sepa(iban);
    const person = await personWith(debit);
    const oldId = person.bankAccount!.methodId;
    const failedId = await debitPurchase(person, debit, 1_700n);
    platform.simulator.completePaymentIntent(await referenceOf(failedId), 'failed', 'debit_not_authorized');
    await failsLate(person, failedId, 'debit_not_authorized');
    expect(await methodAsOwnerSees(person)).toMatchObject({ unusableReason: 'debit_not_authorized' });

    // The person saves the same account again, as the Pay Hub does: a new mandate accepted and attested.
    const token = await platform.idp.signTestToken({ sub: person.id, role: 'person' });
    const saved = await http<{ id: string; preferred: boolean; unusableReason?: string }>(
      `${platform.wallet.url}/v1/wallets/${person.id}/payment-methods/bank-accounts`,
      'POST',
      token,
      { iban, holderName: 'Ana Maria Silva', holderEmail: `${person.id}.sepa@example.com` },
      await platform.mandateAttestation(person.id, { iban }),
    );
    expect(saved.status).toBe(201);
    const newId = saved.body.id;
    expect(newId).not.toBe(oldId);
    expect(saved.body).toMatchObject({ preferred: true });
    expect(saved.body).not.toHaveProperty('unusableReason');
    const listed = await http<{ id: string; status: string; preferred: boolean; unusableReason?: string }[]>(
      `${platform.wallet.url}/v1/wallets/${person.id}/payment-methods?includeRemoved=true`,
      'GET',
      token,
    );
    const bankAccounts = listed.body.filter((method) => method.status === 'active');
    expect(bankAccounts.map((method) => ({ id: method.id, preferred: method.preferred, unusableReason: method.unusableReason }))).toEqual([
      { id: newId, preferred: true, unusableReason: undefined },
    ]);
    expect(listed.body.find((method) => method.id === oldId)).toMatchObject({ status: 'removed', unusableReason: 'debit_not_authorized' });
    // History keeps the old one, removed, with its mark, beside the new one.
    await waitFor(
      () => methodsInHistory(person),
      (methods) =>
        methods.some((m) => m.id === oldId && m.removedAt !== null && m.unusableReason === 'debit_not_authorized') &&
        methods.some((m) => m.id === newId && m.removedAt === null && m.unusableReason === null && m.preferred),
      { what: "history's copy to show the old account removed and the new one preferred" },
    );

    // Orchestration knows the new method from wallet.events.v1; a purchase from it (the preferred method) is debited and settles.
    await waitFor(
      () => platform.orchestrationQuery('SELECT method_id FROM wallet_methods WHERE method_id = $1', [newId]),
      (rows) => rows.length === 1,
      { what: "the new method in orchestration's read model" },
    );
    const { app, country, currency } = debit.purchase;
    const paid = await platform.paymentOf(await platform.publishPurchase(purchaseOf(person, 1_000n, { app, country, amount: { amount: '1000', currency } })));
    await platform.events.waitFor(paid, 'payments.payment.processing');
    expect(platform.simulator.advanceClock(3 * DAY)).toHaveLength(1);
    await platform.events.waitFor(paid, 'payments.payment.captured');
    await posted(paid, 'capture', 'the capture posting of the purchase from the account saved again');
    const [release] = await platform.walletQuery<{ method_id: string }>(
      "SELECT method_id FROM instrument_releases WHERE payment_id = $1 AND outcome = 'released'",
      [paid],
    );
    expect(release.method_id).toBe(newId);
  });
});
