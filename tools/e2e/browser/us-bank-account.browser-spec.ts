/**
 * A US bank account (ACH) added and verified in the Pay Hub, in headless Chromium against the real
 * services (wallet, orchestration, PSP simulator, Kafka, PostgreSQL): the person types the routing
 * and account number, account type and holder, reads the ACH authorisation and accepts it (*Save*
 * stays disabled until then); the wallet sets the account up at the PSP, which sends micro-deposits;
 * the methods list shows it waiting, a wrong code is refused, the code from the deposit verifies it.
 * Or linked instantly at its bank in the PSP's Financial Connections flow (framed), verified at once.
 * The account number travels in the one request body that saves it: never in an address, the
 * browser's console, the services' or the hub's logs, or what the PSP keeps. Screenshots go to
 * reports/browser/. Without Chromium the tier is skipped, saying why and how to install it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { findChromium, reportSkipped } from './chromium';
import type { HubStack } from './hub-kit';
import { ARTEFACTS_DIR, startHubStack } from './hub-kit';
import { serviceLogs } from '@pay/testing/service-logs';
import { waitFor } from '@pay/testing';
import { http, purchaseOf } from '../e2e-kit';

jest.mock('@pay/observability', () => jest.requireActual<typeof import('@pay/testing/service-logs')>('@pay/testing/service-logs').observabilityKeepingLogs());

const CHROMIUM = findChromium();
if (!CHROMIUM) reportSkipped('us-bank-account.browser-spec.ts');
const describeWithBrowser = CHROMIUM ? describe : describe.skip;

jest.setTimeout(240_000);

/** An account number of this run (12 digits; Stripe's failing test account is another), so a leak is this test's. */
const ACCOUNT_NUMBER = `0009${Array.from(randomBytes(8), (byte) => String(byte % 10)).join('')}`;
const ROUTING_NUMBER = '110000000';

describeWithBrowser('a US bank account in the Pay Hub', () => {
  let stack: HubStack;
  const hubLogs: string[] = [];
  const personId = `hub-ach-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    stack = await startHubStack(CHROMIUM!, { hubLog: (line) => void hubLogs.push(line), logLevel: 'debug' });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTEFACTS_DIR, `${name}.png`), fullPage: true });

  /** A person signed in, on the methods page, with a US wallet opened. */
  async function onMethodsPage(page: Page, person: string): Promise<void> {
    await page.goto(stack.hubUrl);
    await page.getByLabel('Sign in as').selectOption('person');
    await page.getByLabel('Id').fill(person);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText(`Signed in as ${person}`).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Payment methods' }).click();
    await page.getByRole('heading', { level: 1, name: 'Payment methods' }).waitFor();
    await page.getByLabel('Country').fill('US');
    await page.getByRole('button', { name: 'Open wallet' }).click();
  }

  /**
   * Types a US account's numbers into the methods page, accepts the ACH authorisation (*Save* is
   * disabled until then; `authorizationShot` names a screenshot of the form just before saving) and saves it.
   */
  async function saveByNumbers(page: Page, accountNumber: string, label: string, authorizationShot?: string): Promise<void> {
    const form = page.getByRole('form', { name: 'Add a US bank account' });
    await form.getByLabel('Routing number').fill(ROUTING_NUMBER);
    await form.getByLabel('Account number').fill(accountNumber);
    await form.getByLabel('Account type').selectOption('savings');
    await form.getByLabel('Account holder').fill('Ana Maria Silva');
    await form.getByLabel('Name (optional)').fill(label);
    const authorization = form.getByRole('region', { name: 'ACH debit authorization' });
    await authorization.getByText(/authorise Pay Platform .* to debit this account by ACH/).waitFor();
    const save = form.getByRole('button', { name: 'Save US bank account' });
    await expect(save.isDisabled()).resolves.toBe(true);
    await authorization.getByLabel('I authorize these ACH debits').check();
    if (authorizationShot) await shot(page, authorizationShot);
    await save.click();
    await page.getByRole('status').filter({ hasText: 'US bank account saved' }).waitFor();
  }

  it('adds the account under the ACH authorisation, refuses a wrong micro-deposit code, verifies the right one; the number is in no address or log', async () => {
    const context = await stack.browser.newContext({ baseURL: stack.hubUrl });
    const page = await context.newPage();
    const consoleLines: string[] = [];
    page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => consoleLines.push(`pageerror: ${error.message}`));
    const requests: Array<{ url: string; method: string; headers: string; body: string }> = [];
    context.on('request', (request) =>
      requests.push({ url: request.url(), method: request.method(), headers: JSON.stringify(request.headers()), body: request.postData() ?? '' }),
    );
    const addresses: string[] = [];
    page.on('framenavigated', (frame) => addresses.push(frame.url()));

    await onMethodsPage(page, personId);

    await saveByNumbers(page, ACCOUNT_NUMBER, 'Household account', 'us-bank-account-authorization');

    // Saved pending, set up at the PSP on a customer of its own, waiting for the micro-deposits.
    const saved = page.getByRole('region', { name: 'Saved methods' });
    const item = saved.locator('li', { hasText: 'Household account' });
    await item.getByText('Bank account •••• ' + ACCOUNT_NUMBER.slice(-4) + ', waiting for its micro-deposits to be confirmed').waitFor();
    const [row] = await stack.platform.walletQuery<{ id: string; verification: string }>(
      "SELECT id, verification FROM payment_methods WHERE person_id = $1 AND kind = 'bank_account'",
      [personId],
    );
    expect(row.verification).toBe('pending');
    const setup = stack.platform.simulator.snapshot().setupIntents.find((intent) => intent.metadata.pay_method === row.id);
    expect(setup).toMatchObject({ status: 'requires_action', next_action: { type: 'verify_with_microdeposits' } });
    await shot(page, 'us-bank-account-pending');

    // A wrong code: refused, the account still waits; the right one (the simulator's deposit says SM11AA) verifies it.
    const verify = page.getByRole('form', { name: 'Verify Household account' });
    await verify.getByLabel('Code from the deposit').fill('SM99ZZ');
    await verify.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('alert').filter({ hasText: 'that is not what was sent' }).waitFor();
    await verify.getByLabel('Code from the deposit').fill('SM11AA');
    await verify.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('status').filter({ hasText: 'Bank account verified' }).waitFor();
    await item.getByText('Verified').waitFor();
    await expect(page.getByRole('form', { name: 'Verify Household account' }).count()).resolves.toBe(0);
    expect((await stack.platform.walletQuery<{ verification: string }>('SELECT verification FROM payment_methods WHERE id = $1', [row.id]))[0]).toEqual({
      verification: 'verified',
    });
    expect(stack.platform.simulator.snapshot().setupIntents.find((intent) => intent.id === setup!.id)).toMatchObject({ status: 'succeeded' });
    await shot(page, 'us-bank-account-verified');

    // The number went in one request body, to the hub's save, and nowhere else the browser sent or showed.
    const carrying = requests.filter((request) => [request.url, request.headers, request.body].some((text) => text.includes(ACCOUNT_NUMBER)));
    expect(carrying.map((request) => [request.method, new URL(request.url).pathname])).toEqual([['POST', '/bff/us-bank-accounts']]);
    expect(carrying[0].url).not.toContain(ACCOUNT_NUMBER);
    expect(addresses.filter((address) => address.includes(ACCOUNT_NUMBER))).toEqual([]);
    expect(consoleLines.filter((line) => line.includes(ACCOUNT_NUMBER))).toEqual([]);
    // Nor in what the services and the hub logged (the scan read this run's logs), nor what the PSP keeps.
    expect(serviceLogs.join('')).toContain(row.id);
    expect(serviceLogs.join('')).not.toContain(ACCOUNT_NUMBER);
    expect(hubLogs.join('\n')).not.toContain(ACCOUNT_NUMBER);
    expect(JSON.stringify(stack.platform.simulator.snapshot())).not.toContain(ACCOUNT_NUMBER);
    await context.close();
  });

  it('verifies an account by the two micro-deposit amounts typed as on the statement; wrong ones are refused, and the tenth wrong answer ends it for good', async () => {
    const person = `hub-amt-${randomUUID().slice(0, 8)}`;
    const context = await stack.browser.newContext({ baseURL: stack.hubUrl });
    const page = await context.newPage();
    const verifications: string[] = [];
    context.on('request', (request) => {
      if (request.url().endsWith('/microdeposits')) verifications.push(request.postData() ?? '');
    });
    await onMethodsPage(page, person);
    await saveByNumbers(page, '000987654321', 'Amounts account');
    await saveByNumbers(page, '000987654322', 'Unlucky account');
    const saved = page.getByRole('region', { name: 'Saved methods' });
    const rows = await stack.platform.walletQuery<{ id: string; label: string }>(
      "SELECT id, label FROM payment_methods WHERE person_id = $1 AND kind = 'bank_account' ORDER BY label",
      [person],
    );
    const idOf = (label: string) => rows.find((row) => row.label === label)!.id;
    const setupOf = (label: string) => stack.platform.simulator.snapshot().setupIntents.find((intent) => intent.metadata.pay_method === idOf(label));

    // The statement shows two small deposits: the person says so, and types them as they read them.
    const verify = page.getByRole('form', { name: 'Verify Amounts account' });
    await verify.getByLabel('Your statement shows').selectOption('amounts');
    const button = verify.getByRole('button', { name: 'Verify' });
    // Not amounts of a micro-deposit (whole dollars, cents without a point, nothing): Verify stays disabled.
    for (const [first, second] of [
      ['1.00', '0.45'],
      ['32', '45'],
      ['0.32', ''],
    ]) {
      await verify.getByLabel('First deposit').fill(first);
      await verify.getByLabel('Second deposit').fill(second);
      await expect(button.isDisabled()).resolves.toBe(true);
    }
    await verify.getByLabel('First deposit').fill('0.12');
    await verify.getByLabel('Second deposit').fill('0.34');
    await button.click();
    await page.getByRole('alert').filter({ hasText: 'that is not what was sent' }).waitFor();
    expect(setupOf('Amounts account')).toMatchObject({ status: 'requires_action' });
    // The simulator's deposits are Stripe's test amounts, $0.32 and $0.45.
    await verify.getByLabel('First deposit').fill('0.32');
    await verify.getByLabel('Second deposit').fill('$0.45');
    await shot(page, 'us-bank-account-amounts');
    await button.click();
    await page.getByRole('status').filter({ hasText: 'Bank account verified' }).waitFor();
    await saved.locator('li', { hasText: 'Amounts account' }).getByText('Verified').waitFor();
    expect(setupOf('Amounts account')).toMatchObject({ status: 'succeeded' });
    expect(verifications.map((body) => JSON.parse(body) as unknown)).toEqual([{ amounts: [12, 34] }, { amounts: [32, 45] }]);

    // Ten wrong answers (Stripe's limit): the tenth ends the verification; the list says so and offers no more tries.
    const unlucky = page.getByRole('form', { name: 'Verify Unlucky account' });
    await unlucky.getByLabel('Your statement shows').selectOption('amounts');
    for (let attempt = 1; attempt <= 10; attempt += 1) {
      await unlucky.getByLabel('First deposit').fill('0.01');
      await unlucky.getByLabel('Second deposit').fill(`0.${String(attempt).padStart(2, '0')}`);
      // Each try waits for the wallet's answer to the one before.
      const answered = page.waitForResponse((response) => response.url().endsWith('/microdeposits'));
      await unlucky.getByRole('button', { name: 'Verify' }).click();
      expect((await answered).status()).toBe(attempt < 10 ? 400 : 409);
    }
    await page.getByRole('alert').filter({ hasText: 'too many wrong tries' }).waitFor();
    await saved.locator('li', { hasText: 'Unlucky account' }).getByText('could not be verified: remove it and add it again').waitFor();
    await expect(page.getByRole('form', { name: 'Verify Unlucky account' }).count()).resolves.toBe(0);
    expect(setupOf('Unlucky account')).toMatchObject({
      status: 'requires_payment_method',
      last_setup_error: { code: 'payment_method_microdeposit_verification_attempts_exceeded' },
    });
    await shot(page, 'us-bank-account-attempts-exceeded');
    await context.close();
  });

  it("links a US account instantly at its bank in the PSP's flow (Financial Connections): verified at once, no micro-deposits, its number nowhere", async () => {
    const person = `hub-fc-${randomUUID().slice(0, 8)}`;
    const context = await stack.browser.newContext({ baseURL: stack.hubUrl });
    const page = await context.newPage();
    const seen: string[] = [];
    context.on('request', (request) => seen.push([request.url(), JSON.stringify(request.headers()), request.postData() ?? ''].join('\n')));
    page.on('console', (message) => seen.push(message.text()));
    await onMethodsPage(page, person);

    await page.getByRole('button', { name: 'Link instantly at your bank' }).click();
    // The person signs in at their bank in the PSP's frame (the simulator's origin) and picks the account.
    const flow = page.frameLocator('iframe[title="Your bank, signed in at the payment provider"]');
    await flow.getByLabel('Checking •••• 6789').check();
    await shot(page, 'us-bank-account-link-at-bank');
    await flow.getByRole('button', { name: 'Link account' }).click();
    await page.getByRole('status').filter({ hasText: 'Linked: StripeBank (simulator), Checking •••• 6789' }).waitFor();

    const form = page.getByRole('form', { name: 'Save the linked bank account' });
    await form.getByLabel('Account holder').fill('Ana Maria Silva');
    await form.getByLabel('Name (optional)').fill('Linked checking');
    const save = form.getByRole('button', { name: 'Save linked account' });
    await expect(save.isDisabled()).resolves.toBe(true);
    await form.getByRole('region', { name: 'ACH debit authorization for the linked account' }).getByLabel('I authorize these ACH debits').check();
    await save.click();
    await page.getByRole('status').filter({ hasText: 'Bank account linked and verified' }).waitFor();
    const item = page.getByRole('region', { name: 'Saved methods' }).locator('li', { hasText: 'Linked checking' });
    await item.getByText('Verified').waitFor();
    await expect(page.getByRole('form', { name: 'Verify Linked checking' }).count()).resolves.toBe(0);
    await shot(page, 'us-bank-account-linked');

    const [row] = await stack.platform.walletQuery<{ id: string; verification: string }>(
      "SELECT id, verification FROM payment_methods WHERE person_id = $1 AND kind = 'bank_account'",
      [person],
    );
    expect(row.verification).toBe('verified');
    const state = stack.platform.simulator.snapshot();
    const setup = state.setupIntents.find((intent) => intent.metadata.pay_method === row.id);
    expect(setup).toMatchObject({ status: 'succeeded', metadata: { pay_person: person } });
    expect(state.paymentMethods.find((method) => method.id === setup!.payment_method)?.us_bank_account).toMatchObject({
      last4: '6789',
      financial_connections_account: expect.stringMatching(/^fca_/),
    });
    // The test bank's account number went nowhere: not in the browser's requests or console, the logs, or the PSP's objects.
    const accountNumber = '000123456789';
    expect(seen.filter((text) => text.includes(accountNumber))).toEqual([]);
    expect(serviceLogs.join('')).not.toContain(accountNumber);
    expect(hubLogs.join('\n')).not.toContain(accountNumber);
    expect(JSON.stringify(state)).not.toContain(accountNumber);
    await context.close();
  });
  it('shows an account its bank closed as unable to pay, in plain words, neither preferred nor offered in the shop; saved again, it replaces it', async () => {
    const person = `hub-closed-${randomUUID().slice(0, 8)}`;
    const context = await stack.browser.newContext({ baseURL: stack.hubUrl });
    const page = await context.newPage();
    await onMethodsPage(page, person);
    // Stripe's failing test account: its debits are refused late, account_closed.
    const closedNumber = '000111111113';
    await saveByNumbers(page, closedNumber, 'Old account');
    const verify = page.getByRole('form', { name: 'Verify Old account' });
    await verify.getByLabel('Code from the deposit').fill('SM11AA');
    await verify.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('status').filter({ hasText: 'Bank account verified' }).waitFor();
    const saved = page.getByRole('region', { name: 'Saved methods' });
    const item = saved.locator('li', { hasText: 'Old account' });
    await item.getByText('Preferred').waitFor();

    // The person's purchase in an app is debited from it, and the bank refuses the debit 3 simulated days later.
    const { platform } = stack;
    const token = await platform.idp.signTestToken({ sub: person, role: 'person' });
    expect((await http(`${platform.wallet.url}/v1/wallets/${person}/apps`, 'PUT', token, { apps: ['instagram'] })).status).toBe(200);
    const [method] = await platform.walletQuery<{ id: string }>("SELECT id FROM payment_methods WHERE person_id = $1 AND kind = 'bank_account'", [person]);
    await waitFor(
      () =>
        platform.orchestrationQuery(
          "SELECT 1 FROM wallet_methods m JOIN wallet_holders h USING (person_id) WHERE m.method_id = $1 AND h.apps @> ARRAY['instagram']",
          [method.id],
        ),
      (rows) => rows.length === 1,
      { what: `the wallet of ${person} in orchestration's read model` },
    );
    const paymentId = await platform.paymentOf(await platform.publishPurchase(purchaseOf({ id: person }, 1_000n, { paymentMethodId: method.id })));
    await platform.events.waitFor(paymentId, 'payments.payment.processing', 60_000);
    expect(platform.simulator.advanceClock(3 * 24 * 60 * 60 * 1000)).toHaveLength(1);
    expect((await platform.events.waitFor(paymentId, 'payments.payment.failed', 60_000)).data).toMatchObject({ code: 'account_closed' });
    await waitFor(
      () => platform.walletQuery<{ unusable_reason: string | null }>('SELECT unusable_reason FROM payment_methods WHERE id = $1', [method.id]),
      (rows) => rows[0]?.unusable_reason === 'account_closed',
      { what: 'the wallet to mark the account unusable' },
    );

    // The page says why it cannot pay and what to do; it is not shown preferred, nor offered as such.
    await page.reload();
    const note = item.getByRole('note', { name: 'Old account cannot pay' });
    await note.waitFor();
    expect(await note.textContent()).toBe(
      'Cannot pay: your bank says this account is closed. Save it again (a new mandate) once your bank can debit it, or add another account.',
    );
    await expect(item.getByText('Preferred', { exact: true }).count()).resolves.toBe(0);
    await expect(item.getByText('Verified', { exact: true }).count()).resolves.toBe(0);
    await expect(item.getByRole('button', { name: 'Make Old account preferred' }).count()).resolves.toBe(0);
    await shot(page, 'us-bank-account-closed');
    // The shop offers it for no payment.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Shop (development)' }).click();
    const payWith = page.getByLabel('Pay with');
    await payWith.waitFor();
    expect(await payWith.locator('option').allTextContents()).toEqual(['My preferred method']);

    // Saved again (the bank reopened it): a new method under a new authorisation replaces the closed one; one account listed.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Payment methods' }).click();
    await page.getByRole('heading', { level: 1, name: 'Payment methods' }).waitFor();
    await saveByNumbers(page, closedNumber, 'Old account');
    await page.getByRole('form', { name: 'Verify Old account' }).waitFor();
    await expect(saved.locator('li', { hasText: 'Old account' }).count()).resolves.toBe(1);
    await expect(saved.getByRole('note').count()).resolves.toBe(0);
    await saved.locator('li', { hasText: 'Old account' }).getByText('Preferred').waitFor();
    const rows = await platform.walletQuery<{ id: string; status: string; unusable_reason: string | null }>(
      "SELECT id, status, unusable_reason FROM payment_methods WHERE person_id = $1 AND kind = 'bank_account' ORDER BY created_at",
      [person],
    );
    expect(rows.map((row) => [row.id === method.id, row.status, row.unusable_reason])).toEqual([
      [true, 'removed', 'account_closed'],
      [false, 'active', null],
    ]);
    await context.close();
  });
});
