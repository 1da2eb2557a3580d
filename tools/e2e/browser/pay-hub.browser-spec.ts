/**
 * The Pay Hub in headless Chromium (Debian's, driven by playwright-core) against the real
 * services: a person signs in, saves a card (typed into the card Element of Stripe.js, the
 * simulator's stand-in loaded from its origin: the card number is in no request to the hub) and a
 * PayPal account (approved on PayPal's page), turns Pay on in two apps,
 * registers a passkey through a virtual authenticator (CDP WebAuthn, user verification on),
 * confirms a purchase above the step-up threshold with it and sees it in the timeline; another
 * person's payment typed into the address bar is not found. An analyst filters, sees a chart whose
 * numbers are the API's, and downloads the CSV. Screenshots go to reports/browser/.
 * Without Chromium the tier is skipped, saying why and how to install it.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '@pay/testing';
import type { BrowserContext, Page } from 'playwright-core';
import { http, purchaseOf } from '../e2e-kit';
import { findChromium, reportSkipped } from './chromium';
import type { HubStack } from './hub-kit';
import { ARTEFACTS_DIR, keepLastPages, shot, startHubStack } from './hub-kit';

const CHROMIUM = findChromium();
if (!CHROMIUM) reportSkipped('pay-hub.browser-spec.ts');
const describeWithBrowser = CHROMIUM ? describe : describe.skip;

jest.setTimeout(240_000);

describeWithBrowser('the Pay Hub in a browser', () => {
  let stack: HubStack;
  const personId = `hub-person-${randomUUID().slice(0, 8)}`;
  let purchaseId = '';
  let otherPaymentId = '';

  beforeAll(async () => {
    stack = await startHubStack(CHROMIUM!);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  /** Each test's pages as they were at its end (a failure's artefact). */
  const watch = keepLastPages();

  async function signIn(context: BrowserContext, role: 'person' | 'analyst', sub: string): Promise<Page> {
    const page = await context.newPage();
    watch(page, role);
    await page.goto(stack.hubUrl);
    await page.getByRole('heading', { name: 'Sign in (development)' }).waitFor();
    await expectVisible(page.getByText('Development only'));
    await page.getByLabel('Sign in as').selectOption(role);
    await page.getByLabel('Id').fill(sub);
    await shot(page, 'sign-in');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText(`Signed in as ${sub}`).waitFor();
    return page;
  }

  const expectVisible = async (locator: ReturnType<Page['getByText']>): Promise<void> => {
    await locator.first().waitFor({ state: 'visible' });
  };

  /** 1 once `locator` shows within a moment, else 0: a probe for waitFor while the page fetches. */
  const shows = (locator: ReturnType<Page['locator']>): Promise<number> =>
    locator
      .first()
      .waitFor({ state: 'visible', timeout: 3_000 })
      .then(
        () => 1,
        () => 0,
      );

  const goTo = async (page: Page, link: string, heading: string): Promise<void> => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link }).click();
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  };

  it('lets a person save methods, turn Pay on, add a passkey, confirm a purchase with it and find it in the timeline', async () => {
    const context = await stack.browser.newContext({ baseURL: stack.hubUrl });
    const page = await signIn(context, 'person', personId);
    // The session is an HttpOnly cookie: the page's script sees no token, local storage holds none.
    expect(await page.evaluate('({ cookie: document.cookie, stored: localStorage.length + sessionStorage.length })')).toEqual({
      cookie: '',
      stored: 0,
    });

    await goTo(page, 'Payment methods', 'Payment methods');
    await page.getByLabel('Country').fill('US');
    await page.getByRole('button', { name: 'Open wallet' }).click();
    // The card is typed into Stripe.js's card Element (the simulator's stand-in: a frame of its origin); every request the browser makes is kept.
    const pspOrigin = new URL(stack.platform.simulator.url).origin;
    const requests: Array<{ origin: string; text: string }> = [];
    context.on('request', (request) =>
      requests.push({
        origin: new URL(request.url()).origin,
        text: [request.method(), request.url(), JSON.stringify(request.headers()), request.postData() ?? ''].join('\n'),
      }),
    );
    await page.getByRole('button', { name: 'Enter a card' }).click();
    const element = page.frameLocator('iframe[title="Secure card payment input frame"]');
    // Stripe.js validates as the person types: the page shows its error and offers no save.
    await element.getByLabel('Card number').fill('4242 4242 4242 4241');
    await page.getByRole('alert').filter({ hasText: 'Your card number is invalid.' }).waitFor();
    expect(await page.getByRole('button', { name: 'Save card' }).isDisabled()).toBe(true);
    // A card the issuer refuses at setup: confirmCardSetup answers Stripe's error, the page shows its message, nothing is saved.
    await element.getByLabel('Card number').fill('4000 0000 0000 0002');
    await element.getByLabel('Expiry (MM/YY)').fill('12/34');
    await element.getByLabel('Security code (CVC)').fill('123');
    await page.getByRole('button', { name: 'Save card' }).click();
    await page.getByRole('alert').filter({ hasText: 'Your card was declined.' }).waitFor();
    await shot(page, 'card-declined');
    // The hub's page holds no number: not in its document, and the frame's is another origin's, closed to it.
    expect(await page.content()).not.toMatch(/4000\s?0000\s?0000\s?0002/);
    const frame = `document.querySelector('iframe[title="Secure card payment input frame"]')`;
    expect(await page.evaluate<[boolean, boolean]>(`[${frame} !== null, ${frame}.contentDocument === null]`)).toEqual([true, true]);
    await element.getByLabel('Card number').fill('4242 4242 4242 4242');
    await page.getByLabel('Name (optional)').first().fill('Everyday card');
    await page.getByRole('button', { name: 'Save card' }).click();
    await page.getByRole('status').filter({ hasText: 'Card saved.' }).waitFor();
    // Stripe.js came from the configured origin (STRIPE_JS_URL), its card frame too, opened for the hub's origin and publishable key.
    const hubOrigin = new URL(stack.hubUrl).origin;
    expect(requests.some((r) => r.text.startsWith(`GET\n${pspOrigin}/v3\n`))).toBe(true);
    const frameUrl = requests.map((r) => r.text.split('\n')[1]).find((url) => url.startsWith(`${pspOrigin}/v3/elements/card?`));
    expect(frameUrl && Object.fromEntries(new URL(frameUrl).searchParams)).toEqual({ origin: hubOrigin, key: 'pk_test_pay_hub' });
    // The card numbers went to the PSP's origin only (the card frame's confirmations), in no request to the hub or anywhere else.
    const numbers = ['4242424242424242', '4242 4242 4242 4242', '4000000000000002', '4000 0000 0000 0002'];
    const carrying = (origin: (o: string) => boolean) => requests.filter((r) => origin(r.origin) && numbers.some((n) => r.text.includes(n)));
    expect(carrying((o) => o === pspOrigin).map((r) => r.text.split('\n')[1])).toEqual([
      expect.stringMatching(/\/v1\/setup_intents\/seti_\w+\/confirm$/),
      expect.stringMatching(/\/v1\/setup_intents\/seti_\w+\/confirm$/),
    ]);
    expect(carrying((o) => o !== pspOrigin)).toEqual([]);
    expect(requests.filter((r) => r.origin === hubOrigin && r.text.includes('/bff/card-setups')).length).toBeGreaterThanOrEqual(2);
    // The PSP keeps no number either: the PaymentMethod has the brand, last four and expiry.
    const psp = stack.platform.simulator.snapshot();
    expect(JSON.stringify(psp)).not.toContain('4242424242424242');
    expect(psp.paymentMethods.map((method) => method.card)).toEqual([expect.objectContaining({ brand: 'visa', last4: '4242', exp_month: 12, exp_year: 2034 })]);
    // PayPal: to PayPal's approval page (the simulator's origin), sign in and agree, back to the hub, the account vaulted and saved.
    await page.getByRole('button', { name: 'Connect PayPal' }).click();
    await page.getByRole('heading', { name: 'PayPal (simulator)' }).waitFor();
    expect(new URL(page.url()).origin).toBe(pspOrigin);
    await shot(page, 'paypal-approval');
    await page.getByLabel('PayPal e-mail').fill('ana@example.com');
    await page.getByRole('button', { name: 'Agree and continue' }).click();
    await page.getByRole('status').filter({ hasText: 'PayPal account saved.' }).waitFor();
    expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/methods');
    const paypal = stack.platform.simulator.paypal.snapshot();
    expect(paypal.setupTokens).toEqual([expect.objectContaining({ status: 'VAULTED', customer: expect.objectContaining({ merchant_customer_id: personId }) })]);
    expect(paypal.vaultTokens.map((token) => token.payment_source.paypal)).toEqual([
      { email_address: 'ana@example.com', account_id: paypal.setupTokens[0].payment_source.paypal.payer_id },
    ]);
    // The approval is used once: a replay of the return saves nothing more.
    const replay = await page.evaluate(
      `fetch('/bff/paypal-setups/${paypal.setupTokens[0].id}/account', { method: 'POST', headers: { 'content-type': 'application/json', 'x-pay-hub': '1' }, body: '{}' }).then((r) => r.status)`,
    );
    expect(replay).toBe(409);
    // A bank account: the form shows the direct debit mandate, and saves only once the person accepts it.
    const bankForm = page.getByRole('form', { name: 'Add a bank account' });
    await bankForm.getByLabel('IBAN').fill('DE89 3704 0044 0532 0130 00');
    await bankForm.getByLabel('Account holder').fill('Ana Maria Silva');
    // SEPA requires the holder's e-mail: it goes to the PSP with the IBAN, and nowhere in the wallet.
    await bankForm.getByLabel("Holder's e-mail address").fill('ana.sepa@example.org');
    await bankForm.getByLabel('Name (optional)').fill('Salary account');
    const mandate = bankForm.getByRole('region', { name: 'Direct debit mandate' });
    await mandate.getByText(/authorise Pay Platform .* to debit your account/).waitFor();
    await expect(bankForm.getByRole('button', { name: 'Save bank account' }).isDisabled()).resolves.toBe(true);
    await mandate.getByLabel('I accept this direct debit mandate').check();
    await shot(page, 'bank-account-mandate');
    await bankForm.getByRole('button', { name: 'Save bank account' }).click();
    await page.getByRole('status').filter({ hasText: 'Bank account saved.' }).waitFor();
    // Saved once, with the acceptance sealed beside it (hub-server.int-spec.ts shows what the hub records).
    const bankRows = await stack.platform.walletQuery<{ id: string }>("SELECT id FROM payment_methods WHERE person_id = $1 AND kind = 'bank_account'", [
      personId,
    ]);
    expect(bankRows).toHaveLength(1);
    const bankSetup = stack.platform.simulator.snapshot().setupIntents.find((intent) => intent.metadata.pay_method === bankRows[0].id);
    expect(stack.platform.simulator.snapshot().paymentMethods.find((method) => method.id === bankSetup?.payment_method)).toMatchObject({
      type: 'sepa_debit',
      billing_details: { name: 'Ana Maria Silva', email: 'ana.sepa@example.org' },
    });
    const saved = page.getByRole('region', { name: 'Saved methods' });
    await saved.getByText('Salary account').waitFor();
    await saved.getByText('Everyday card').waitFor();
    await saved.locator('li', { hasText: 'Everyday card' }).getByText('visa •••• 4242, expires 12/2034').waitFor();
    await expect(saved.getByText(/PayPal/).count()).resolves.toBe(1);
    await expect(saved.locator('li', { hasText: 'Everyday card' }).getByText('Preferred').count()).resolves.toBe(1);
    await shot(page, 'person-methods');

    await goTo(page, 'Pay in apps', 'Pay in apps');
    for (const app of ['instagram', 'facebook']) {
      await page.getByLabel(app, { exact: true }).click();
      await page
        .getByRole('status')
        .filter({ hasText: `Pay is on in ${app}.` })
        .waitFor();
    }
    await expect(page.getByLabel('instagram', { exact: true }).isChecked()).resolves.toBe(true);
    await expect(page.getByLabel('facebook', { exact: true }).isChecked()).resolves.toBe(true);
    await shot(page, 'person-apps');

    // A platform authenticator that verifies its user (as Face ID or a fingerprint would).
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    await goTo(page, 'PIN and passkeys', 'PIN and passkeys');
    await page.getByLabel('New PIN', { exact: true }).fill('730264');
    await page.getByLabel('New PIN again').fill('730264');
    await page.getByRole('button', { name: 'Set PIN' }).click();
    await page.getByRole('status').filter({ hasText: 'PIN set.' }).waitFor();
    await page.getByLabel('Device name').fill('Test phone');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByRole('status').filter({ hasText: 'Passkey added.' }).waitFor();
    await page.getByText('Test phone').waitFor();
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    await shot(page, 'person-security');

    // Orchestration learns the wallet (apps, methods) from wallet.events.v1 before it can take a purchase.
    await waitFor(
      () =>
        stack.platform.orchestrationQuery<{ apps: string[]; methods: string }>(
          'SELECT h.apps, count(m.method_id)::text AS methods FROM wallet_holders h LEFT JOIN wallet_methods m ON m.person_id = h.person_id WHERE h.person_id = $1 GROUP BY h.apps',
          [personId],
        ),
      (rows) => rows.length === 1 && rows[0].apps.length === 2 && rows[0].methods === '3',
      { what: `the wallet of ${personId} in orchestration's read model` },
    );

    await goTo(page, 'Shop (development)', 'Shop (development)');
    await page.getByLabel('App', { exact: true }).selectOption('instagram');
    await page.getByLabel('Amount', { exact: true }).fill('125.00');
    await page.getByLabel('Pay with').selectOption({ label: 'Everyday card' });
    await page.getByRole('button', { name: 'Buy' }).click();
    await page.getByRole('heading', { name: 'Confirm 125.00 USD' }).waitFor();
    await shot(page, 'person-confirm');
    await page.getByRole('button', { name: 'Confirm with a passkey' }).click();
    const accepted = page.getByRole('status').filter({ hasText: 'Payment of 125.00 USD accepted' });
    await accepted.waitFor();
    purchaseId = (await accepted.getByRole('link').textContent())!.replace('See payment ', '').trim();
    expect(purchaseId).toMatch(/\S+/);
    // The proof the passkey earned is the biometric one, bound to this payer.
    const grants = await stack.platform.walletQuery<{ payload: { data: { method: string } } }>(
      "SELECT payload FROM outbox WHERE payload->>'type' = 'wallet.step-up.granted' AND payload->>'subject' = $1",
      [personId],
    );
    expect(grants.map((row) => row.payload.data.method)).toEqual(['biometric']);
    await shot(page, 'person-shop');

    await stack.platform.events.waitFor(purchaseId, 'payments.payment.captured', 60_000);
    await goTo(page, 'Payments', 'Your payments');
    await waitFor(
      async () => {
        await page.getByRole('button', { name: 'Apply filters' }).click();
        return shows(page.locator(`tr[data-payment-id="${purchaseId}"]`).getByText('captured', { exact: true }));
      },
      (count) => count === 1,
      { what: 'the captured purchase in the timeline', timeoutMs: 60_000 },
    );
    await page.getByLabel('App', { exact: true }).selectOption('whatsapp');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('No payments match.').waitFor();
    await page.getByLabel('App', { exact: true }).selectOption('instagram');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator(`tr[data-payment-id="${purchaseId}"]`).waitFor();
    await shot(page, 'person-payments');
    await page.locator(`tr[data-payment-id="${purchaseId}"]`).getByRole('link').click();
    await page.getByRole('heading', { level: 1, name: 'Purchase of 125.00 USD' }).waitFor();
    await waitFor(
      async () => {
        await page.reload();
        return shows(page.getByText(/^Posted \(transaction /));
      },
      (count) => count === 1,
      { what: "the purchase's ledger posting on its detail page", timeoutMs: 60_000 },
    );
    await shot(page, 'person-payment-detail');

    // Another person's payment, in history already (the analysts' API sees it), is not found for this one.
    const other = await stack.platform.person();
    const requestId = randomUUID();
    const answer = await http(`${stack.platform.orchestrationUrl}/v1/payments`, 'POST', await stack.platform.serviceToken(), purchaseOf(other, 1_200n), {
      'idempotency-key': requestId,
    });
    expect(answer.status).toBe(202);
    otherPaymentId = String(answer.body.paymentId);
    await stack.platform.events.waitFor(otherPaymentId, 'payments.payment.captured', 60_000);
    const analystToken = await stack.platform.idp.signTestToken({ sub: 'hub-analyst-check', role: 'analyst' });
    await waitFor(
      () => http<{ entries: unknown[] }>(`${stack.history.url}/v1/history/entries?paymentId=${otherPaymentId}`, 'GET', analystToken),
      (found) => found.status === 200 && found.body.entries.length > 0,
      { what: "the other person's payment in history" },
    );
    await page.goto(`/payments/${otherPaymentId}`);
    await page.getByRole('heading', { level: 1, name: 'Payment not found' }).waitFor();
    await shot(page, 'person-other-payment-not-found');
    await context.close();
  });

  it("lets an analyst filter, draws the API's numbers, and downloads the CSV", async () => {
    expect(purchaseId).not.toBe('');
    const context = await stack.browser.newContext({ baseURL: stack.hubUrl, acceptDownloads: true });
    const page = await signIn(context, 'analyst', 'hub-analyst-1');
    await page.getByRole('heading', { level: 1, name: 'Analytics' }).waitFor();
    // An analyst has no wallet pages; the hub forwards none of the wallet's routes for them.
    await expect(page.getByRole('link', { name: 'Payment methods' }).count()).resolves.toBe(0);
    expect((await page.request.get(`/api/wallet/v1/wallets/${personId}`)).status()).toBe(404);

    await page.getByLabel('App', { exact: true }).selectOption('instagram');
    await page.getByLabel('Currency', { exact: true }).fill('USD');
    await page.getByRole('button', { name: 'Apply' }).click();
    const analystToken = await stack.platform.idp.signTestToken({ sub: 'hub-analyst-1', role: 'analyst' });
    const api = await http<{ rows: Array<{ period: string; app: string; sum: string }> }>(
      `${stack.history.url}/v1/history/aggregates?app=instagram&currency=USD&interval=day&groupBy=app`,
      'GET',
      analystToken,
    );
    expect(api.status).toBe(200);
    expect(api.body.rows.length).toBeGreaterThan(0);
    const chart = page.getByRole('figure').filter({ hasText: 'Totals per day by app' });
    await chart.locator('td[data-series="instagram"]').first().waitFor();
    const drawn = await chart
      .locator('td[data-series]')
      .evaluateAll((cells: Array<{ getAttribute(name: string): string | null }>) =>
        cells.map((cell) => ({ period: cell.getAttribute('data-period'), app: cell.getAttribute('data-series'), sum: cell.getAttribute('data-minor') })),
      );
    expect(drawn.filter((cell) => cell.sum !== '0').sort((a, b) => `${a.period}${a.app}`.localeCompare(`${b.period}${b.app}`))).toEqual(
      api.body.rows
        .map((row) => ({ period: row.period, app: row.app, sum: row.sum }))
        .sort((a, b) => `${a.period}${a.app}`.localeCompare(`${b.period}${b.app}`)),
    );
    await expect(page.getByRole('cell', { name: '125.00 USD' }).count()).resolves.toBeGreaterThan(0);
    await shot(page, 'analyst-analytics');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const file = join(ARTEFACTS_DIR, 'analyst-history.csv');
    await download.saveAs(file);
    await page
      .getByRole('status')
      .filter({ hasText: /Exported \d+ rows/ })
      .waitFor();
    const csv = (await readFile(file, 'utf8')).trim().split('\n');
    const apiCsv = await fetch(`${stack.history.url}/v1/history/entries/export?app=instagram&currency=USD`, {
      headers: { authorization: `Bearer ${analystToken}` },
    });
    expect(csv).toEqual((await apiCsv.text()).trim().split('\n'));
    expect(csv.some((line) => line.includes(purchaseId))).toBe(true);
    expect(csv.some((line) => line.includes(otherPaymentId))).toBe(true);
    await shot(page, 'analyst-export');
    await context.close();
  });
});
