/**
 * A card whose bank asks for 3-D Secure when it is saved (Stripe's test card 4000 0025 0000 3155),
 * added in the Pay Hub's own methods page, in headless Chromium against the real services (wallet,
 * orchestration, PSP simulator and its Stripe.js stand-in, history, Kafka, PostgreSQL). The person
 * types the card into Stripe.js's frame and saves: the bank's challenge appears in that frame, the
 * hub says what is happening; completed, the card is saved and a later purchase with it is charged
 * off-session and captured without another challenge. Failed, or given up with *Cancel* while the
 * challenge waits, the hub says the bank did not confirm the card and nothing is saved, in the
 * wallet or on the page, and each SetupIntent given up is cancelled at the PSP. A card that asks for
 * the bank on every payment (4000 0027 6000 3184) is saved the same way, but a later purchase with
 * it is declined off-session (`authentication_required`): the timeline and the payment's page say
 * why, nothing is captured or posted. Screenshots go to reports/browser/. Without Chromium the tier is skipped,
 * saying why and how to install it.
 */
import { randomUUID } from 'node:crypto';
import { waitFor } from '@pay/testing';
import type { BrowserContext, Page } from 'playwright-core';
import { findChromium, reportSkipped } from './chromium';
import type { HubStack } from './hub-kit';
import { keepLastPages, shot, startHubStack } from './hub-kit';

const CHROMIUM = findChromium();
if (!CHROMIUM) reportSkipped('card-3ds.browser-spec.ts');
const describeWithBrowser = CHROMIUM ? describe : describe.skip;

jest.setTimeout(240_000);

const CARD_3DS_AT_SETUP = '4000 0025 0000 3155';
/** Stripe's test card whose bank asks for 3-D Secure at setup and on every payment: off-session, declined `authentication_required`. */
const CARD_3DS_ALWAYS = '4000 0027 6000 3184';

describeWithBrowser('a 3-D Secure card added in the Pay Hub', () => {
  let stack: HubStack;

  beforeAll(async () => {
    stack = await startHubStack(CHROMIUM!);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  /** Each test's page as it was at its end (a failure's artefact). */
  const watch = keepLastPages();

  /** A person signed in, on the methods page, with a US wallet opened. */
  async function onMethodsPage(context: BrowserContext, personId: string, name: string): Promise<Page> {
    const page = await context.newPage();
    watch(page, name);
    await page.goto(stack.hubUrl);
    await page.getByLabel('Sign in as').selectOption('person');
    await page.getByLabel('Id').fill(personId);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText(`Signed in as ${personId}`).waitFor();
    await goTo(page, 'Payment methods', 'Payment methods');
    await page.getByLabel('Country').fill('US');
    await page.getByRole('button', { name: 'Open wallet' }).click();
    return page;
  }

  const goTo = async (page: Page, link: string, heading: string): Promise<void> => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link }).click();
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  };

  const cardFrame = (page: Page) => page.frameLocator('iframe[title="Secure card payment input frame"]');

  /** Types the 3-D Secure card into Stripe.js's frame and saves: the bank's challenge shows in the frame, the hub says why. */
  async function saveUntilChallenge(page: Page, label: string, number = CARD_3DS_AT_SETUP): Promise<void> {
    await page.getByRole('button', { name: 'Enter a card' }).click();
    const frame = cardFrame(page);
    await frame.getByLabel('Card number').fill(number);
    await frame.getByLabel('Expiry (MM/YY)').fill('12/34');
    await frame.getByLabel('Security code (CVC)').fill('123');
    await page.getByLabel('Name (optional)').first().fill(label);
    await page.getByRole('button', { name: 'Save card' }).click();
    await frame.getByRole('heading', { name: /Confirm this card with your bank/ }).waitFor();
    await page.getByRole('status').filter({ hasText: 'If your bank asks you to confirm this card' }).waitFor();
    // While the bank's answer is awaited the card cannot be saved a second time.
    await expect(page.getByRole('button', { name: 'Save card' }).isDisabled()).resolves.toBe(true);
  }

  /** The person's cards in the wallet. */
  const walletCards = (personId: string) =>
    stack.platform.walletQuery<{ id: string; last4: string }>(
      "SELECT id, display->>'last4' AS last4 FROM payment_methods WHERE person_id = $1 AND kind = 'card' AND status = 'active'",
      [personId],
    );

  /** The SetupIntents the hub opened for the person (its metadata names them). */
  const setupsOf = (personId: string) => stack.platform.simulator.snapshot().setupIntents.filter((intent) => intent.metadata.pay_person === personId);

  it('saves the card once the person completes the challenge, and a purchase with it is charged off-session and captured', async () => {
    const personId = `hub-3ds-${randomUUID().slice(0, 8)}`;
    const context = await stack.browser.newContext({ baseURL: stack.hubUrl });
    const page = await onMethodsPage(context, personId, '3ds-completed');

    await saveUntilChallenge(page, 'Checked card');
    await shot(page, 'card-3ds-challenge');
    await cardFrame(page).getByRole('button', { name: 'Complete authentication' }).click();
    await page.getByRole('status').filter({ hasText: 'Card saved.' }).waitFor();
    const saved = page.getByRole('region', { name: 'Saved methods' });
    await saved.locator('li', { hasText: 'Checked card' }).getByText('visa •••• 3155, expires 12/2034').waitFor();
    await expect(page.getByRole('status').filter({ hasText: 'If your bank asks you' }).count()).resolves.toBe(0);
    await shot(page, 'card-3ds-saved');

    // Saved once, from the SetupIntent the challenge completed (its PaymentMethod is what the purchase below charges).
    const cards = await walletCards(personId);
    expect(cards.map((card) => card.last4)).toEqual(['3155']);
    const [setup] = setupsOf(personId);
    expect(setup).toMatchObject({ status: 'succeeded', payment_method: expect.stringMatching(/^pm_/), metadata: { pay_saved: 'true' } });
    await goTo(page, 'Pay in apps', 'Pay in apps');
    await page.getByLabel('facebook', { exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Pay is on in facebook.' }).waitFor();
    // Orchestration learns the wallet (app, card) from wallet.events.v1 before it can take a purchase.
    await waitFor(
      () =>
        stack.platform.orchestrationQuery<{ methods: string }>(
          'SELECT count(m.method_id)::text AS methods FROM wallet_holders h JOIN wallet_methods m ON m.person_id = h.person_id WHERE h.person_id = $1 AND h.apps @> $2',
          [personId, ['facebook']],
        ),
      (rows) => rows[0]?.methods === '1',
      { what: `the wallet of ${personId} in orchestration's read model` },
    );

    // Below the step-up threshold (50.00 USD): no PIN; the PSP charges the card off-session without a new challenge.
    await goTo(page, 'Shop (development)', 'Shop (development)');
    await page.getByLabel('App', { exact: true }).selectOption('facebook');
    await page.getByLabel('Amount', { exact: true }).fill('20.00');
    await page.getByLabel('Pay with').selectOption({ label: 'Checked card' });
    await page.getByRole('button', { name: 'Buy' }).click();
    const accepted = page.getByRole('status').filter({ hasText: 'Payment of 20.00 USD accepted' });
    await accepted.waitFor();
    const paymentId = (await accepted.getByRole('link').textContent())!.replace('See payment ', '').trim();
    await stack.platform.events.waitFor(paymentId, 'payments.payment.captured', 60_000);
    const charged = stack.platform.simulator.snapshot().paymentIntents.filter((intent) => intent.payment_method === setup.payment_method);
    expect(charged).toEqual([expect.objectContaining({ status: 'succeeded', amount: 2000, currency: 'usd', customer: setup.customer })]);

    await goTo(page, 'Payments', 'Your payments');
    await waitFor(
      async () => {
        await page.getByRole('button', { name: 'Apply filters' }).click();
        return page
          .locator(`tr[data-payment-id="${paymentId}"]`)
          .getByText('captured', { exact: true })
          .first()
          .waitFor({ state: 'visible', timeout: 3_000 })
          .then(
            () => 1,
            () => 0,
          );
      },
      (count) => count === 1,
      { what: 'the captured purchase in the timeline', timeoutMs: 60_000 },
    );
    await shot(page, 'card-3ds-purchase-captured');
    await context.close();
  });

  it('says clearly that the bank did not confirm the card when the challenge fails or is given up, and saves nothing', async () => {
    const personId = `hub-3ds-${randomUUID().slice(0, 8)}`;
    const context = await stack.browser.newContext({ baseURL: stack.hubUrl });
    const page = await onMethodsPage(context, personId, '3ds-failed');

    // The bank's challenge failed: the hub says so in its words, the form stays to try again, nothing is saved.
    await saveUntilChallenge(page, 'Unchecked card');
    await cardFrame(page).getByRole('button', { name: 'Fail authentication' }).click();
    await page.getByRole('alert').filter({ hasText: 'Your bank did not confirm this card, so it was not saved. Try again, or use another card.' }).waitFor();
    await expect(page.getByRole('status').filter({ hasText: 'Card saved.' }).count()).resolves.toBe(0);
    await expect(page.getByRole('status').filter({ hasText: 'If your bank asks you' }).count()).resolves.toBe(0);
    await cardFrame(page).getByLabel('Card number').waitFor();
    await shot(page, 'card-3ds-failed');
    // The saved card the page would show: none. Nor in the wallet; the PSP's SetupIntent holds no card.
    await expect(page.getByRole('region', { name: 'Saved methods' }).getByText('Unchecked card').count()).resolves.toBe(0);
    expect(await walletCards(personId)).toEqual([]);
    expect(setupsOf(personId)).toEqual([
      expect.objectContaining({
        status: 'requires_payment_method',
        payment_method: null,
        last_setup_error: expect.objectContaining({ code: 'setup_intent_authentication_failure' }),
      }),
    ]);
    // The hub refuses to save a card from that SetupIntent, whatever the page asks.
    const saveAnyway = await page.evaluate(
      `fetch('/bff/card-setups/${setupsOf(personId)[0].id}/card', { method: 'POST', headers: { 'content-type': 'application/json', 'x-pay-hub': '1' }, body: '{}' }).then(async (r) => [r.status, (await r.json()).code])`,
    );
    expect(saveAnyway).toEqual([409, 'CARD_SETUP_INCOMPLETE']);

    // Given up: *Cancel* while the challenge waits closes the form; the hub says nothing was saved, and nothing is.
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Enter a card' }).waitFor();
    await saveUntilChallenge(page, 'Abandoned card');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Enter a card' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'The card was not saved.' }).waitFor();
    await expect(page.getByRole('status').filter({ hasText: 'If your bank asks you' }).count()).resolves.toBe(0);
    await shot(page, 'card-3ds-given-up');
    expect(await walletCards(personId)).toEqual([]);
    await expect(page.getByRole('region', { name: 'Saved methods' }).getByText('Abandoned card').count()).resolves.toBe(0);
    // Each SetupIntent given up is cancelled at the PSP (the person's request): the challenge left open there can no longer complete.
    await waitFor(
      () => setupsOf(personId).map((intent) => `${intent.status} ${intent.cancellation_reason}`),
      (ends) => ends.length === 2 && ends.every((end) => end === 'canceled requested_by_customer'),
      { what: 'both given-up SetupIntents cancelled at the PSP', timeoutMs: 15_000 },
    );
    expect(await stack.platform.walletQuery('SELECT 1 FROM payment_methods WHERE person_id = $1', [personId])).toEqual([]);
    await context.close();
  });

  it('saves a card that asks for the bank on every payment (3184); a later purchase with it fails authentication_required, shown in the timeline, nothing captured or posted', async () => {
    const personId = `hub-3ds-${randomUUID().slice(0, 8)}`;
    const context = await stack.browser.newContext({ baseURL: stack.hubUrl });
    const page = await onMethodsPage(context, personId, '3ds-every-payment');

    // Saved as any 3-D Secure card: the challenge at setup, passed.
    await saveUntilChallenge(page, 'Strict card', CARD_3DS_ALWAYS);
    await cardFrame(page).getByRole('button', { name: 'Complete authentication' }).click();
    await page.getByRole('status').filter({ hasText: 'Card saved.' }).waitFor();
    await page.getByRole('region', { name: 'Saved methods' }).locator('li', { hasText: 'Strict card' }).getByText('visa •••• 3184, expires 12/2034').waitFor();
    expect((await walletCards(personId)).map((card) => card.last4)).toEqual(['3184']);
    const [setup] = setupsOf(personId);
    expect(setup).toMatchObject({ status: 'succeeded', payment_method: expect.stringMatching(/^pm_/) });

    await goTo(page, 'Pay in apps', 'Pay in apps');
    await page.getByLabel('instagram', { exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Pay is on in instagram.' }).waitFor();
    await waitFor(
      () =>
        stack.platform.orchestrationQuery<{ methods: string }>(
          'SELECT count(m.method_id)::text AS methods FROM wallet_holders h JOIN wallet_methods m ON m.person_id = h.person_id WHERE h.person_id = $1 AND h.apps @> $2',
          [personId, ['instagram']],
        ),
      (rows) => rows[0]?.methods === '1',
      { what: `the wallet of ${personId} in orchestration's read model` },
    );

    // The purchase is accepted, then the PSP declines the off-session charge: the bank wants the person, who is not there.
    await goTo(page, 'Shop (development)', 'Shop (development)');
    await page.getByLabel('App', { exact: true }).selectOption('instagram');
    await page.getByLabel('Amount', { exact: true }).fill('15.00');
    await page.getByLabel('Pay with').selectOption({ label: 'Strict card' });
    await page.getByRole('button', { name: 'Buy' }).click();
    const accepted = page.getByRole('status').filter({ hasText: 'Payment of 15.00 USD accepted' });
    await accepted.waitFor();
    const paymentId = (await accepted.getByRole('link').textContent())!.replace('See payment ', '').trim();
    const failed = await stack.platform.events.waitFor(paymentId, 'payments.payment.failed', 60_000);
    expect(failed.data).toMatchObject({ code: 'authentication_required', declineCode: 'authentication_required' });

    // The person sees it failed and why, in the timeline and in the payment's page.
    const reason =
      'Your bank asks you to confirm every payment with this card, which a purchase in an app cannot do: pay with another method (authentication_required)';
    await goTo(page, 'Payments', 'Your payments');
    const row = page.locator(`tr[data-payment-id="${paymentId}"]`);
    await waitFor(
      async () => {
        await page.getByRole('button', { name: 'Apply filters' }).click();
        return row
          .getByText(reason)
          .waitFor({ state: 'visible', timeout: 3_000 })
          .then(
            () => 1,
            () => 0,
          );
      },
      (count) => count === 1,
      { what: 'the failed purchase and its reason in the timeline', timeoutMs: 60_000 },
    );
    await expect(row.getByText('failed', { exact: true }).count()).resolves.toBe(1);
    await shot(page, 'card-3ds-every-payment-failed');
    await row.getByRole('link').click();
    await page.getByText(reason).waitFor();
    await page.getByText('Nothing posted: the payment failed').waitFor();

    // Nothing captured at the PSP, nothing posted in the ledger, no captured event.
    const charged = stack.platform.simulator.snapshot().paymentIntents.filter((intent) => intent.payment_method === setup.payment_method);
    expect(charged).toEqual([expect.objectContaining({ amount: 1500, amount_received: 0 })]);
    expect(charged[0].status).not.toBe('succeeded');
    expect(stack.platform.events.types(paymentId)).not.toContain('payments.payment.captured');
    expect(await stack.platform.walletQuery('SELECT 1 FROM payment_ledger_postings WHERE payment_id = $1', [paymentId])).toEqual([]);
    await context.close();
  });
});
