/**
 * Saving a card and a PayPal account without a purchase, against the simulator over HTTP: a
 * SetupIntent opened with the real `stripe` SDK (secret key), confirmed as the card element does
 * (publishable key, client secret, the card in payment_method_data), read back with the SDK; the
 * element's page and its framing rule; a PayPal setup token approved on the approval page (plain
 * HTTP, as a browser's form posts) and vaulted once.
 */
import Stripe from 'stripe';
import type { PspSimulator } from '../psp-simulator';
import { startPspSimulator } from '../psp-simulator';
import { PAYPAL_SIMULATOR_DEFAULTS } from '../paypal/paypal-simulator';

let simulator: PspSimulator;
let stripe: Stripe;

beforeAll(async () => {
  simulator = await startPspSimulator();
  stripe = new Stripe('sk_test_setup', { host: simulator.host, port: simulator.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false });
});

afterAll(async () => {
  await simulator.close();
});

/** What the card element sends: the publishable key and the client secret, the card as payment_method_data. */
async function confirmAsElement(clientSecret: string, card: { number: string; exp_month?: string; exp_year?: string; cvc?: string }) {
  const id = clientSecret.split('_secret_')[0];
  const response = await fetch(`${simulator.url}/v1/setup_intents/${id}/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      key: 'pk_test_element',
      client_secret: clientSecret,
      'payment_method_data[type]': 'card',
      'payment_method_data[card][number]': card.number,
      'payment_method_data[card][exp_month]': card.exp_month ?? '12',
      'payment_method_data[card][exp_year]': card.exp_year ?? '34',
      'payment_method_data[card][cvc]': card.cvc ?? '123',
    }).toString(),
  });
  return {
    status: response.status,
    body: (await response.json()) as { status?: string; payment_method?: string; metadata?: unknown; error?: { code: string } },
  };
}

describe('SetupIntents and the card element', () => {
  it('saves a card typed into the element as a PaymentMethod with brand, last four and expiry, and no number', async () => {
    const intent = await stripe.setupIntents.create({ usage: 'off_session', metadata: { pay_person: 'person-1' } });
    expect(intent).toMatchObject({ object: 'setup_intent', status: 'requires_payment_method', usage: 'off_session', payment_method: null });

    const confirmed = await confirmAsElement(intent.client_secret!, { number: '5555 5555 5555 4444' });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ status: 'succeeded', payment_method: expect.stringMatching(/^pm_[A-Za-z0-9]{24}$/) });
    // A publishable key does not see the metadata.
    expect(confirmed.body.metadata).toBeUndefined();

    const read = await stripe.setupIntents.retrieve(intent.id);
    expect(read).toMatchObject({ status: 'succeeded', metadata: { pay_person: 'person-1' }, payment_method: confirmed.body.payment_method });
    const method = await stripe.paymentMethods.retrieve(read.payment_method as string);
    expect(method.card).toMatchObject({ brand: 'mastercard', last4: '4444', exp_month: 12, exp_year: 2034, country: 'US' });
    expect(JSON.stringify(simulator.snapshot())).not.toContain('5555555555554444');

    await stripe.setupIntents.update(intent.id, { metadata: { pay_saved: 'true' } });
    expect((await stripe.setupIntents.retrieve(intent.id)).metadata).toEqual({ pay_person: 'person-1', pay_saved: 'true' });
    // Confirmed once.
    expect((await confirmAsElement(intent.client_secret!, { number: '4242424242424242' })).status).toBe(400);
  });

  it('refuses a card the issuer declines or that is mistyped, and leaves the SetupIntent to try again', async () => {
    const intent = await stripe.setupIntents.create({ usage: 'off_session' });
    for (const [card, code] of [
      [{ number: '4000000000000002' }, 'card_declined'],
      [{ number: '4242424242424241' }, 'incorrect_number'],
      [{ number: '4242424242424242', exp_year: '20' }, 'invalid_expiry_year'],
      [{ number: '4242424242424242', cvc: '12' }, 'invalid_cvc'],
    ] as const) {
      const answer = await confirmAsElement(intent.client_secret!, card);
      expect([answer.status, answer.body.error?.code]).toEqual([402, code]);
    }
    expect((await stripe.setupIntents.retrieve(intent.id)).status).toBe('requires_payment_method');
    expect((await confirmAsElement(intent.client_secret!, { number: '4000000000009995' })).body.status).toBe('succeeded');
  });

  it("asks for 3-D Secure when saving Stripe's authentication test cards: 3155 then pays off-session, 3184 is declined authentication_required", async () => {
    const setUp = async (number: string, outcome: 'succeeded' | 'failed') => {
      const customer = await stripe.customers.create();
      const intent = await stripe.setupIntents.create({ usage: 'off_session', customer: customer.id });
      const confirmed = await confirmAsElement(intent.client_secret!, { number });
      expect(confirmed.status).toBe(200);
      expect(confirmed.body).toMatchObject({
        status: 'requires_action',
        next_action: { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect' } },
      });
      // Not saved for later payments until the person completes the challenge.
      expect(() => simulator.completeSetupIntent(intent.id, outcome)).not.toThrow();
      return { customer: customer.id, intent: await stripe.setupIntents.retrieve(intent.id), pm: confirmed.body.payment_method! };
    };
    const charge = (customer: string, pm: string) =>
      stripe.paymentIntents.create({ amount: 700, currency: 'eur', customer, payment_method: pm, off_session: true, confirm: true });

    const onSetup = await setUp('4000 0025 0000 3155', 'succeeded');
    expect(onSetup.intent).toMatchObject({ status: 'succeeded', next_action: null });
    expect((await stripe.paymentMethods.retrieve(onSetup.pm)).card).toMatchObject({ last4: '3155' });
    expect((await charge(onSetup.customer, onSetup.pm)).status).toBe('succeeded');

    const always = await setUp('4000002760003184', 'succeeded');
    const declined = await charge(always.customer, always.pm).catch((error: unknown) => error);
    expect(declined).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(declined).toMatchObject({ code: 'authentication_required', decline_code: 'authentication_required' });

    const failed = await setUp('4000002500003155', 'failed');
    expect(failed.intent).toMatchObject({
      status: 'requires_payment_method',
      payment_method: null,
      last_setup_error: { code: 'setup_intent_authentication_failure' },
    });
    expect(() => simulator.completeSetupIntent(failed.intent.id, 'succeeded')).toThrow(/only a card's 3-D Secure challenge/);

    // What the stand-in's card frame sends when the person answers the challenge: its client secret only reaches it.
    const challenged = await stripe.setupIntents.create({ usage: 'off_session' });
    await confirmAsElement(challenged.client_secret!, { number: '4000002500003155' });
    const answer = (form: Record<string, string>) =>
      fetch(`${simulator.url}/v1/3ds2/challenge_complete`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ key: 'pk_test_element', setup_intent: challenged.id, ...form }).toString(),
      });
    expect((await answer({ client_secret: `${challenged.id}_secret_wrong`, outcome: 'succeeded' })).status).toBe(404);
    expect((await answer({ client_secret: challenged.client_secret! })).status).toBe(400);
    const completed = await answer({ client_secret: challenged.client_secret!, outcome: 'succeeded' });
    expect([completed.status, ((await completed.json()) as { status: string }).status]).toEqual([200, 'succeeded']);
    expect((await answer({ client_secret: challenged.client_secret!, outcome: 'succeeded' })).status).toBe(400);
    // The test PaymentMethod never set up: off-session it needs the challenge it cannot have.
    const unsetUp = await stripe.paymentIntents
      .create({ amount: 700, currency: 'eur', payment_method: 'pm_card_authenticationRequiredOnSetup', off_session: true, confirm: true })
      .catch((error: unknown) => error);
    expect(unsetUp).toMatchObject({ code: 'authentication_required' });
  });

  it('cancels a SetupIntent never completed, for good, and refuses, as Stripe does, one that succeeded or was cancelled already', async () => {
    const refusal = (intent: Stripe.SetupIntent) => stripe.setupIntents.cancel(intent.id).catch((error: unknown) => error);
    // Abandoned before any card, and during the bank's challenge: cancelled with the reason given.
    const untouched = await stripe.setupIntents.create({ usage: 'off_session' });
    expect(await stripe.setupIntents.cancel(untouched.id, { cancellation_reason: 'abandoned' })).toMatchObject({
      status: 'canceled',
      cancellation_reason: 'abandoned',
    });
    const challenged = await stripe.setupIntents.create({ usage: 'off_session' });
    expect((await confirmAsElement(challenged.client_secret!, { number: '4000002500003155' })).body.status).toBe('requires_action');
    expect(await stripe.setupIntents.cancel(challenged.id, { cancellation_reason: 'requested_by_customer' })).toMatchObject({
      status: 'canceled',
      next_action: null,
    });
    // Nothing completes it afterwards: neither the challenge nor a new confirmation.
    expect(() => simulator.completeSetupIntent(challenged.id, 'succeeded')).toThrow(/canceled/);
    const confirmedLate = await confirmAsElement(challenged.client_secret!, { number: '4242424242424242' });
    expect([confirmedLate.status, confirmedLate.body.error?.code]).toEqual([400, 'setup_intent_unexpected_state']);
    // Cancelled twice: Stripe's 400, with the SetupIntent as it is.
    const twice = await refusal(untouched);
    expect(twice).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(twice).toMatchObject({
      statusCode: 400,
      code: 'setup_intent_unexpected_state',
      message:
        'You cannot cancel this SetupIntent because it has a status of canceled. Only a SetupIntent with one of the following statuses may be canceled: requires_payment_method, requires_confirmation, requires_action.',
      raw: { setup_intent: { id: untouched.id, status: 'canceled' } },
    });
    // Succeeded: refused, and the card stays saved.
    const done = await stripe.setupIntents.create({ usage: 'off_session' });
    const saved = await confirmAsElement(done.client_secret!, { number: '4242424242424242' });
    expect(await refusal(done)).toMatchObject({
      code: 'setup_intent_unexpected_state',
      message: expect.stringMatching(/^You cannot cancel this SetupIntent because it has a status of succeeded\./),
      raw: { setup_intent: { id: done.id, status: 'succeeded', payment_method: saved.body.payment_method } },
    });
    expect(await stripe.setupIntents.retrieve(done.id)).toMatchObject({ status: 'succeeded', payment_method: saved.body.payment_method });
    // A bad reason changes nothing; a publishable key cannot cancel.
    const kept = await stripe.setupIntents.create({ usage: 'off_session' });
    expect(await stripe.setupIntents.cancel(kept.id, { cancellation_reason: 'bored' as 'abandoned' }).catch((error: unknown) => error)).toMatchObject({
      code: 'parameter_invalid_string',
    });
    const byBrowser = await fetch(`${simulator.url}/v1/setup_intents/${kept.id}/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ key: 'pk_test_element', client_secret: kept.client_secret! }).toString(),
    });
    expect(byBrowser.status).toBe(401);
    expect((await stripe.setupIntents.retrieve(kept.id)).status).toBe('requires_payment_method');
  });

  it('saves a card on a customer, which charges it off-session again and again, and only with that customer', async () => {
    const customer = await stripe.customers.create({ metadata: { pay_person: 'person-2' } });
    expect(customer).toMatchObject({ id: expect.stringMatching(/^cus_/), object: 'customer', metadata: { pay_person: 'person-2' } });
    const intent = await stripe.setupIntents.create({ usage: 'off_session', customer: customer.id });
    const confirmed = await confirmAsElement(intent.client_secret!, { number: '4242424242424242' });
    const pm = confirmed.body.payment_method!;
    expect((await stripe.paymentMethods.retrieve(pm)).customer).toBe(customer.id);

    const charge = () =>
      stripe.paymentIntents.create({ amount: 500, currency: 'eur', customer: customer.id, payment_method: pm, off_session: true, confirm: true });
    expect((await charge()).status).toBe('succeeded');
    expect((await charge()).status).toBe('succeeded');

    // Without its customer, or with another one: refused before anything is made.
    const other = await stripe.customers.create();
    const before = simulator.snapshot().paymentIntents.length;
    for (const [customerId, code] of [
      [undefined, 'parameter_missing'],
      [other.id, 'payment_method_unexpected_state'],
      ['cus_NeverMadeHere', 'resource_missing'],
    ] as const) {
      await expect(
        stripe.paymentIntents.create({
          amount: 500,
          currency: 'eur',
          ...(customerId ? { customer: customerId } : {}),
          payment_method: pm,
          off_session: true,
          confirm: true,
        }),
      ).rejects.toMatchObject({ type: 'StripeInvalidRequestError', code });
    }
    expect(simulator.snapshot().paymentIntents).toHaveLength(before);
    // A SetupIntent for a customer that does not exist is refused.
    await expect(stripe.setupIntents.create({ customer: 'cus_NeverMadeHere' })).rejects.toMatchObject({ code: 'resource_missing' });
  });

  it('charges a card saved without a customer once; it is used up then, and can no longer be attached', async () => {
    const intent = await stripe.setupIntents.create({ usage: 'off_session' });
    const pm = (await confirmAsElement(intent.client_secret!, { number: '4242424242424242' })).body.payment_method!;
    const charge = () => stripe.paymentIntents.create({ amount: 500, currency: 'eur', payment_method: pm, off_session: true, confirm: true });
    expect((await charge()).status).toBe('succeeded');
    await expect(charge()).rejects.toMatchObject({ code: 'payment_method_unexpected_state', message: expect.stringContaining('may not be used again') });
    const customer = await stripe.customers.create();
    await expect(stripe.paymentMethods.attach(pm, { customer: customer.id })).rejects.toMatchObject({ code: 'payment_method_unexpected_state' });
    expect(simulator.snapshot().consumedPaymentMethods).toContain(pm);

    // One attached before its first use is reusable; detached, it is charged no more.
    const second = await stripe.setupIntents.create({ usage: 'off_session' });
    const kept = (await confirmAsElement(second.client_secret!, { number: '5555555555554444' })).body.payment_method!;
    expect((await stripe.paymentMethods.attach(kept, { customer: customer.id })).customer).toBe(customer.id);
    const withCustomer = () =>
      stripe.paymentIntents.create({ amount: 700, currency: 'eur', customer: customer.id, payment_method: kept, off_session: true, confirm: true });
    expect((await withCustomer()).status).toBe('succeeded');
    await stripe.paymentMethods.detach(kept);
    await expect(withCustomer()).rejects.toMatchObject({ code: 'payment_method_unexpected_state' });
  });

  it('lets a publishable key reach only a SetupIntent whose client secret it has, and nothing else', async () => {
    const intent = await stripe.setupIntents.create({ usage: 'off_session' });
    const wrongSecret = await confirmAsElement(`${intent.id}_secret_wrong`, { number: '4242424242424242' });
    expect(wrongSecret.status).toBe(404);
    const create = await fetch(`${simulator.url}/v1/setup_intents`, { method: 'POST', body: new URLSearchParams({ key: 'pk_test_element' }) });
    expect(create.status).toBe(401);
    const paymentMethod = await fetch(`${simulator.url}/v1/payment_methods/pm_card_visa?key=pk_test_element`);
    expect(paymentMethod.status).toBe(401);
  });

  it("serves Stripe.js's stand-in at /v3, and its card frame only for an origin to frame it and a publishable key, framed by that origin only", async () => {
    const script = await fetch(`${simulator.url}/v3`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toContain('window.Stripe = Stripe;');
    const page = await fetch(`${simulator.url}/v3/elements/card?origin=${encodeURIComponent('http://localhost:3000')}&key=pk_test_element`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain('frame-ancestors http://localhost:3000');
    expect(await page.text()).toContain('<label for="number">Card number</label>');
    for (const query of [
      'origin=javascript%3Aalert(1)&key=pk_test_element',
      'origin=http%3A%2F%2Flocalhost%3A3000&key=sk_test_secret',
      'key=pk_test_element',
    ]) {
      expect((await fetch(`${simulator.url}/v3/elements/card?${query}`)).status).toBe(400);
    }
    // The former element page is gone: Stripe.js is the one way in.
    expect((await fetch(`${simulator.url}/elements/card?origin=${encodeURIComponent('http://localhost:3000')}&key=pk_test_element`)).status).toBe(404);
  });
});

describe('PayPal setup tokens and the approval page', () => {
  // PayPal's answers, read field by field as a client would.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Json = Record<string, any>;
  async function paypal(path: string, body?: unknown): Promise<{ status: number; body: Json }> {
    const token = await fetch(`${simulator.url}/v1/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${PAYPAL_SIMULATOR_DEFAULTS.clientId}:${PAYPAL_SIMULATOR_DEFAULTS.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    }).then((r) => r.json() as Promise<{ access_token: string }>);
    const response = await fetch(`${simulator.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Json };
  }

  it('sends the payer to approve, back to the return URL, and vaults the approved account once with their e-mail', async () => {
    const created = await paypal('/v3/vault/setup-tokens', {
      customer: { merchant_customer_id: 'person-1' },
      payment_source: {
        paypal: {
          usage_type: 'MERCHANT',
          experience_context: { return_url: 'http://localhost:3000/methods?paypal=approved', cancel_url: 'http://localhost:3000/methods?paypal=canceled' },
        },
      },
    });
    expect(created.body).toMatchObject({ status: 'PAYER_ACTION_REQUIRED', customer: { merchant_customer_id: 'person-1' } });
    const approve = (created.body.links as Array<{ rel: string; href: string }>).find((link) => link.rel === 'approve')!.href;
    // Not vaulted before the payer approved.
    expect((await paypal('/v3/vault/payment-tokens', { payment_source: { token: { id: created.body.id, type: 'SETUP_TOKEN' } } })).status).toBe(422);

    const page = await fetch(approve);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('PayPal e-mail');
    const refused = await fetch(`${simulator.url}/agreements/approve`, {
      method: 'POST',
      redirect: 'manual',
      body: new URLSearchParams({ approval_session_id: created.body.id, decision: 'approve', email: 'not an e-mail' }),
    });
    expect(refused.status).toBe(200);
    expect(await refused.text()).toContain('Enter the e-mail of your PayPal account.');
    const agreed = await fetch(`${simulator.url}/agreements/approve`, {
      method: 'POST',
      redirect: 'manual',
      body: new URLSearchParams({ approval_session_id: created.body.id, decision: 'approve', email: 'ana@example.com' }),
    });
    expect(agreed.status).toBe(303);
    expect(agreed.headers.get('location')).toBe(
      `http://localhost:3000/methods?paypal=approved&approval_token_id=${created.body.id}&approval_session_id=${created.body.id}`,
    );

    const approved = await paypal(`/v3/vault/setup-tokens/${created.body.id}`);
    expect(approved.body).toMatchObject({
      status: 'APPROVED',
      payment_source: { paypal: { email_address: 'ana@example.com', payer_id: expect.stringMatching(/^P[A-Z0-9]{12}$/) } },
    });
    const vaulted = await paypal('/v3/vault/payment-tokens', { payment_source: { token: { id: created.body.id, type: 'SETUP_TOKEN' } } });
    expect(vaulted.status).toBe(201);
    expect(vaulted.body.payment_source).toEqual({ paypal: { email_address: 'ana@example.com', account_id: approved.body.payment_source.paypal.payer_id } });
    const again = await paypal('/v3/vault/payment-tokens', { payment_source: { token: { id: created.body.id, type: 'SETUP_TOKEN' } } });
    expect([again.status, again.body.details[0].issue]).toEqual([422, 'SETUP_TOKEN_ALREADY_USED']);
  });

  it('sends a payer who cancels to the cancel URL, and the token is not vaulted', async () => {
    const created = await paypal('/v3/vault/setup-tokens', {
      payment_source: { paypal: { experience_context: { return_url: 'https://hub.example/ok', cancel_url: 'https://hub.example/no' } } },
    });
    const canceled = await fetch(`${simulator.url}/agreements/approve`, {
      method: 'POST',
      redirect: 'manual',
      body: new URLSearchParams({ approval_session_id: created.body.id, decision: 'cancel' }),
    });
    expect(canceled.headers.get('location')).toMatch(/^https:\/\/hub\.example\/no\?approval_token_id=/);
    expect((await paypal('/v3/vault/payment-tokens', { payment_source: { token: { id: created.body.id, type: 'SETUP_TOKEN' } } })).status).toBe(422);
    expect((await paypal('/v3/vault/setup-tokens', { payment_source: { paypal: { experience_context: {} } } })).status).toBe(400);
  });
});
