/**
 * Instant verification of a US bank account as Stripe does it with Financial Connections, through
 * the real `stripe` SDK against the simulator: a Session for a customer; the person links an
 * account in the element (its call made here as the element makes it: publishable key and client
 * secret); a SetupIntent with the linked Account succeeds at once (no micro-deposits), and its
 * PaymentMethod is debited with that customer only. The Account never shows the account number.
 */
import Stripe from 'stripe';
import type { PspSimulator } from '../psp-simulator';
import { startPspSimulator } from '../psp-simulator';

let simulator: PspSimulator;
let stripe: Stripe;

beforeAll(async () => {
  simulator = await startPspSimulator();
  stripe = new Stripe('sk_test_fc', { host: simulator.host, port: simulator.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false });
});

afterAll(async () => {
  await simulator.close();
});

/** What the element does when the person picks an account at the test bank. */
const link = (clientSecret: string, account: string) =>
  fetch(`${simulator.url}/v1/financial_connections/sessions/${clientSecret.split('_secret_')[0]}/link_account`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ key: 'pk_test_fc', client_secret: clientSecret, account }),
  });

const session = async (customer: string) =>
  stripe.financialConnections.sessions.create({
    account_holder: { type: 'customer', customer },
    permissions: ['payment_method'],
  });

const mandate_data = { customer_acceptance: { type: 'online' as const, online: { ip_address: '198.51.100.23', user_agent: 'PayTest/1.0' } } };
const setUpLinked = (customer: string, account: string) =>
  stripe.setupIntents.create({
    customer,
    usage: 'off_session',
    allowed_payment_method_types: ['us_bank_account'],
    payment_method_data: { type: 'us_bank_account', us_bank_account: { financial_connections_account: account }, billing_details: { name: 'Ana Maria Silva' } },
    payment_method_options: { us_bank_account: { verification_method: 'instant' } },
    mandate_data,
    confirm: true,
  });

describe('a US bank account verified instantly (Financial Connections)', () => {
  it('links one account in a session, which a SetupIntent of that customer turns into a verified PaymentMethod, debited with it only', async () => {
    const customer = (await stripe.customers.create()).id;
    const opened = await session(customer);
    expect(opened).toMatchObject({ id: expect.stringMatching(/^fcsess_/), client_secret: expect.stringContaining('_secret_'), accounts: { data: [] } });

    // A wrong client secret reaches nothing; the right one links the account once.
    expect((await link(`${opened.id}_secret_wrong`, 'checking')).status).toBe(404);
    const linked = await link(opened.client_secret!, 'checking');
    expect(linked.status).toBe(200);
    const { accounts } = (await linked.json()) as { accounts: { id: string; last4: string }[] };
    expect(accounts).toEqual([expect.objectContaining({ id: expect.stringMatching(/^fca_/), last4: '6789' })]);
    expect((await link(opened.client_secret!, 'savings')).status).toBe(400);
    expect((await stripe.financialConnections.sessions.retrieve(opened.id)).accounts.data.map((account) => account.id)).toEqual([accounts[0].id]);
    expect(await stripe.financialConnections.accounts.retrieve(accounts[0].id)).toMatchObject({
      last4: '6789',
      supported_payment_method_types: ['us_bank_account'],
    });

    const intent = await setUpLinked(customer, accounts[0].id);
    expect(intent).toMatchObject({ status: 'succeeded', next_action: null, mandate: expect.stringMatching(/^mandate_/) });
    const pm = intent.payment_method as string;
    expect(await stripe.paymentMethods.retrieve(pm)).toMatchObject({
      type: 'us_bank_account',
      customer,
      us_bank_account: { last4: '6789', routing_number: '110000000', financial_connections_account: accounts[0].id },
    });
    const debit = () =>
      stripe.paymentIntents.create({
        amount: 4200,
        currency: 'usd',
        customer,
        payment_method: pm,
        allowed_payment_method_types: ['us_bank_account'],
        off_session: true,
        confirm: true,
      });
    for (let i = 0; i < 2; i += 1) expect(await debit()).toMatchObject({ status: 'processing', payment_method: pm });
    expect(JSON.stringify(simulator.snapshot())).not.toContain('000123456789');

    // Another customer cannot use the account linked for this one.
    const other = (await stripe.customers.create()).id;
    await expect(setUpLinked(other, accounts[0].id)).rejects.toMatchObject({ code: 'resource_missing' });

    // Disconnected (no more data access), as on Stripe: an event says so, and the PaymentMethod still debits.
    const disconnected = await stripe.financialConnections.accounts.disconnect(accounts[0].id);
    expect(disconnected).toMatchObject({ id: accounts[0].id, status: 'disconnected' });
    expect((await stripe.financialConnections.accounts.disconnect(accounts[0].id)).status).toBe('disconnected');
    await simulator.webhooks.idle();
    expect(simulator.webhooks.events().filter((event) => event.type === 'financial_connections.account.disconnected')).toHaveLength(1);
    expect(await debit()).toMatchObject({ status: 'processing', payment_method: pm });
    await expect(stripe.financialConnections.accounts.disconnect('fca_unknown')).rejects.toMatchObject({ statusCode: 404 });
  });

  it("debits the failing test account's link, then fails it late; instant verification needs a linked account, not numbers", async () => {
    const customer = (await stripe.customers.create()).id;
    const opened = await session(customer);
    const { accounts } = (await (await link(opened.client_secret!, 'insufficient_funds')).json()) as { accounts: { id: string }[] };
    const intent = await setUpLinked(customer, accounts[0].id);
    const debit = await stripe.paymentIntents.create({
      amount: 4200,
      currency: 'usd',
      customer,
      payment_method: intent.payment_method as string,
      allowed_payment_method_types: ['us_bank_account'],
      off_session: true,
      confirm: true,
    });
    simulator.advanceClock(3 * 24 * 60 * 60 * 1000);
    expect(await stripe.paymentIntents.retrieve(debit.id)).toMatchObject({
      status: 'requires_payment_method',
      last_payment_error: { code: 'insufficient_funds' },
    });

    await expect(
      stripe.setupIntents.create({
        customer,
        allowed_payment_method_types: ['us_bank_account'],
        payment_method_data: {
          type: 'us_bank_account',
          us_bank_account: { routing_number: '110000000', account_number: '000123456789' },
          billing_details: { name: 'Ana Maria Silva' },
        },
        payment_method_options: { us_bank_account: { verification_method: 'instant' } },
        mandate_data,
        confirm: true,
      }),
    ).rejects.toMatchObject({ param: 'payment_method_options[us_bank_account][verification_method]' });
    await expect(setUpLinked(customer, 'fca_unknown')).rejects.toMatchObject({ statusCode: 404 });
  });

  it('serves the element only to the origin it is framed by, with a publishable key', async () => {
    const page = await fetch(`${simulator.url}/elements/financial-connections?origin=http://localhost:3000&key=pk_test_fc`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain('frame-ancestors http://localhost:3000');
    expect(await page.text()).not.toContain('000123456789');
    expect((await fetch(`${simulator.url}/elements/financial-connections?origin=javascript:x&key=pk_test_fc`)).status).toBe(400);
  });
});
