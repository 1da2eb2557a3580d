import { waitFor } from '@pay/testing';
/**
 * The PSP simulator's stand-in of Stripe.js (`/v3`) in headless Chromium, on a site of another
 * origin whose Content-Security-Policy allows the simulator's origin only (as the Pay Hub's): what a
 * page can tell of Stripe.js is Stripe.js's — IntegrationErrors for misuse, the card Element's
 * `change` events, `confirmCardSetup`'s `{ setupIntent }` and Stripe's `{ error }` objects, the
 * billing details reaching the PaymentMethod — and the site's page never holds the number.
 * Without Chromium the file is skipped, saying why and how to install it.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import Stripe from 'stripe';
import type { PspSimulator } from '@pay/psp-simulator';
import { startPspSimulator } from '@pay/psp-simulator';
import { findChromium, reportSkipped } from './chromium';

const CHROMIUM = findChromium();
if (!CHROMIUM) reportSkipped('stripe-js-stand-in.browser-spec.ts');
const describeWithBrowser = CHROMIUM ? describe : describe.skip;

jest.setTimeout(120_000);

describeWithBrowser("the simulator's Stripe.js on a site", () => {
  let simulator: PspSimulator;
  let stripe: Stripe;
  let site: Server;
  let siteUrl = '';
  let browser: Browser;
  let page: Page;
  const pageRequests: string[] = [];

  beforeAll(async () => {
    simulator = await startPspSimulator();
    stripe = new Stripe('sk_test_site', { host: simulator.host, port: simulator.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false });
    const pspOrigin = new URL(simulator.url).origin;
    site = createServer((_request, response) => {
      response.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': `default-src 'self'; script-src 'self' ${pspOrigin}; frame-src ${pspOrigin}; connect-src 'self'; style-src 'self'`,
      });
      response.end(
        `<!doctype html><html lang="en"><head><title>A site</title><script src="${simulator.url}/v3"></script></head><body><div id="card"></div></body></html>`,
      );
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    const context = await browser.newContext();
    // Every request of the page and of the frames in it.
    context.on('request', (request) => pageRequests.push(`${request.method()} ${request.url()}\n${request.postData() ?? ''}`));
    page = await context.newPage();
    await page.goto(siteUrl);
  });

  afterAll(async () => {
    await browser?.close();
    site?.close();
    await simulator?.close();
  });

  const intent = async () => {
    const customer = await stripe.customers.create({});
    return stripe.setupIntents.create({ usage: 'off_session', customer: customer.id });
  };
  const frame = () => page.frameLocator('iframe[title="Secure card payment input frame"]');
  const fill = async (number: string, expiry = '12/34', cvc = '123') => {
    await frame().getByLabel('Card number').fill(number);
    await frame().getByLabel('Expiry (MM/YY)').fill(expiry);
    await frame().getByLabel('Security code (CVC)').fill(cvc);
  };
  const confirm = (clientSecret: string, billing?: object) =>
    page.evaluate<Record<string, Record<string, unknown>>>(
      `window.stripe.confirmCardSetup(${JSON.stringify(clientSecret)}, { payment_method: { card: window.card${billing ? `, billing_details: ${JSON.stringify(billing)}` : ''} } })`,
    );
  const lastChange = () => page.evaluate<Record<string, unknown>>('window.changes[window.changes.length - 1]');

  it('refuses misuse as Stripe.js does, with an IntegrationError', async () => {
    const thrown = (expression: string) =>
      page.evaluate<[string, string] | null>(`(() => { try { ${expression}; return null; } catch (e) { return [e.name, e.message]; } })()`);
    expect(await thrown("Stripe('sk_test_secret')")).toEqual([
      'IntegrationError',
      'You should not use your secret key with Stripe.js. Please pass a publishable key instead.',
    ]);
    expect(await thrown("Stripe('pk_test_site').elements().create('payment')")).toEqual([
      'IntegrationError',
      'This stand-in of Stripe.js creates the card Element only, not payment.',
    ]);
    expect(await thrown("Stripe('pk_test_site').elements().create('card').mount('#nowhere')")).toEqual([
      'IntegrationError',
      'The selector you specified (#nowhere) applies to no DOM elements that are currently on the page.',
    ]);
    const elements = "const elements = Stripe('pk_test_site').elements(); elements.create('card')";
    expect(await thrown(`${elements}; elements.create('card')`)).toEqual(['IntegrationError', 'Can only create one Element of type card.']);
    await expect(page.evaluate("Stripe('pk_test_site').confirmCardSetup('not-a-secret', {}).catch((e) => e.name)")).resolves.toBe('IntegrationError');
  });

  it('mounts the card frame, says what is wrong as the person types, and confirms: declined as Stripe says, then saved with the billing details', async () => {
    await page.evaluate(`(() => {
      window.stripe = Stripe('pk_test_site');
      window.card = window.stripe.elements().create('card');
      window.changes = [];
      window.card.on('change', (event) => window.changes.push(event));
      window.card.on('ready', () => { window.ready = true; });
      window.card.mount('#card');
    })()`);
    // Polled with page.evaluate: waitForFunction evaluates its predicate in the page, which the page's CSP forbids.
    await waitFor(
      () => page.evaluate('window.ready === true'),
      (ready) => ready === true,
      { what: 'the card frame ready', timeoutMs: 20_000, intervalMs: 20 },
    );
    const setup = await intent();

    // Nothing typed: Stripe.js answers a validation error and asks the API nothing.
    expect(await confirm(setup.client_secret!)).toEqual({
      error: { type: 'validation_error', code: 'incomplete_number', message: 'Your card number is incomplete.' },
    });
    expect(pageRequests.filter((request) => request.includes('/confirm'))).toEqual([]);

    await frame().getByLabel('Card number').fill('4242 4242 4242 4241');
    expect(await lastChange()).toMatchObject({
      elementType: 'card',
      empty: false,
      complete: false,
      brand: 'visa',
      error: { type: 'validation_error', code: 'invalid_number', message: 'Your card number is invalid.' },
    });

    await fill('4000 0000 0000 0002');
    expect(await lastChange()).toEqual({ elementType: 'card', value: { postalCode: '' }, empty: false, complete: true, brand: 'visa' });
    const declined = await confirm(setup.client_secret!);
    expect(declined.setupIntent).toBeUndefined();
    expect(declined.error).toMatchObject({
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'generic_decline',
      message: 'Your card was declined.',
      setup_intent: { id: setup.id, status: 'requires_payment_method' },
    });

    await fill('4242 4242 4242 4242');
    const saved = await confirm(setup.client_secret!, { name: 'Ana Lima', address: { postal_code: '94107' } });
    expect(saved.error).toBeUndefined();
    expect(saved.setupIntent).toMatchObject({ id: setup.id, object: 'setup_intent', status: 'succeeded', payment_method: expect.stringMatching(/^pm_/) });
    const method = await stripe.paymentMethods.retrieve(saved.setupIntent.payment_method as string);
    expect(method).toMatchObject({
      customer: setup.customer,
      billing_details: { name: 'Ana Lima' },
      card: { brand: 'visa', last4: '4242', exp_month: 12, exp_year: 2034 },
    });

    // The number went from the card frame to the simulator only; the site's document never held it.
    const carrying = pageRequests.filter((request) => request.includes('4242424242424242') || request.includes('4000000000000002'));
    expect(carrying.map((request) => request.split('\n')[0])).toEqual([
      expect.stringMatching(new RegExp(`^POST ${simulator.url}/v1/setup_intents/${setup.id}/confirm$`)),
      expect.stringMatching(new RegExp(`^POST ${simulator.url}/v1/setup_intents/${setup.id}/confirm$`)),
    ]);
    expect(await page.content()).not.toMatch(/4242\s?4242\s?4242\s?4242/);
    expect(pageRequests.filter((request) => request.startsWith(`GET ${siteUrl}`) && /4242|4000/.test(request))).toEqual([]);
  });
  it("runs the bank's 3-D Secure challenge in its frame, as Stripe.js does: completed, the card is saved; failed, Stripe's authentication error", async () => {
    const setup = await intent();
    await fill('4000 0025 0000 3155');
    const pending = confirm(setup.client_secret!);
    // The confirmation waits for the person: the frame shows the challenge in place of the card fields.
    await frame().getByRole('button', { name: 'Fail authentication' }).click();
    const failed = await pending;
    expect(failed.setupIntent).toBeUndefined();
    expect(failed.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'setup_intent_authentication_failure',
      setup_intent: { id: setup.id, status: 'requires_payment_method', payment_method: null },
    });
    expect(await frame().getByLabel('Card number').isVisible()).toBe(true);

    const again = confirm(setup.client_secret!);
    await frame().getByRole('button', { name: 'Complete authentication' }).click();
    const saved = await again;
    expect(saved.error).toBeUndefined();
    expect(saved.setupIntent).toMatchObject({ id: setup.id, status: 'succeeded', payment_method: expect.stringMatching(/^pm_/) });
    expect((await stripe.paymentMethods.retrieve(saved.setupIntent.payment_method as string)).card).toMatchObject({ last4: '3155' });
  });
});
