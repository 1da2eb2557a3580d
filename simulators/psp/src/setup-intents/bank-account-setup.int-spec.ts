/**
 * A US bank account saved for later and verified by micro-deposits, as Stripe does it without
 * Financial Connections, through the real `stripe` SDK against the simulator: the SetupIntent on a
 * customer waits in `requires_action` (verify_with_microdeposits); until the descriptor code (or
 * the two amounts) is verified its PaymentMethod is not debited; a wrong code is refused and the
 * tenth ends the verification; verified, the account is debited with its customer, off-session.
 */
import Stripe from 'stripe';
import type { PspSimulator } from '../psp-simulator';
import { startPspSimulator } from '../psp-simulator';
import { MAX_VERIFICATION_ATTEMPTS } from './bank-account-setup';

let simulator: PspSimulator;
let stripe: Stripe;

beforeAll(async () => {
  simulator = await startPspSimulator();
  stripe = new Stripe('sk_test_ach', { host: simulator.host, port: simulator.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false });
});

afterAll(async () => {
  await simulator.close();
});

async function setUp(accountNumber = '000123456789'): Promise<{ intent: Stripe.SetupIntent; customer: string }> {
  const customer = (await stripe.customers.create({ metadata: { pay_person: 'person-ach' } })).id;
  const intent = await stripe.setupIntents.create({
    customer,
    usage: 'off_session',
    allowed_payment_method_types: ['us_bank_account'],
    payment_method_data: {
      type: 'us_bank_account',
      us_bank_account: { routing_number: '110000000', account_number: accountNumber, account_type: 'checking', account_holder_type: 'individual' },
      billing_details: { name: 'Ana Maria Silva' },
    },
    payment_method_options: { us_bank_account: { verification_method: 'microdeposits' } },
    mandate_data: { customer_acceptance: { type: 'online', online: { ip_address: '198.51.100.23', user_agent: 'PayTest/1.0' } } },
    confirm: true,
  });
  return { intent, customer };
}

const debit = (paymentMethod: string, customer: string) =>
  stripe.paymentIntents.create({
    amount: 4200,
    currency: 'usd',
    customer,
    payment_method: paymentMethod,
    allowed_payment_method_types: ['us_bank_account'],
    off_session: true,
    confirm: true,
  });

describe('a US bank account verified by micro-deposits', () => {
  it('waits for micro-deposits, is not debited before, is verified by the descriptor code, then debited again and again', async () => {
    const { intent, customer } = await setUp();
    expect(intent).toMatchObject({
      status: 'requires_action',
      customer,
      payment_method: expect.stringMatching(/^pm_/),
      mandate: expect.stringMatching(/^mandate_/),
      next_action: { type: 'verify_with_microdeposits', verify_with_microdeposits: { microdeposit_type: 'descriptor_code' } },
    });
    const pm = intent.payment_method as string;
    const method = await stripe.paymentMethods.retrieve(pm);
    expect(method).toMatchObject({ type: 'us_bank_account', customer, us_bank_account: { last4: '6789', routing_number: '110000000' } });
    expect(JSON.stringify(simulator.snapshot())).not.toContain('000123456789');

    await expect(debit(pm, customer)).rejects.toMatchObject({ code: 'payment_method_unactivated' });
    await expect(stripe.setupIntents.verifyMicrodeposits(intent.id, { descriptor_code: 'SM99ZZ' })).rejects.toMatchObject({
      code: 'payment_method_microdeposit_verification_descriptor_code_mismatch',
    });
    const verified = await stripe.setupIntents.verifyMicrodeposits(intent.id, { descriptor_code: 'SM11AA' });
    expect(verified).toMatchObject({ status: 'succeeded', next_action: null });
    await expect(stripe.setupIntents.verifyMicrodeposits(intent.id, { descriptor_code: 'SM11AA' })).rejects.toMatchObject({
      code: 'setup_intent_unexpected_state',
    });

    for (let i = 0; i < 2; i += 1) expect(await debit(pm, customer)).toMatchObject({ status: 'processing', customer, payment_method: pm });
    // Still the customer's only.
    await expect(debit(pm, (await stripe.customers.create()).id)).rejects.toMatchObject({ code: 'payment_method_unexpected_state' });
  });

  it('is verified by the two amounts too; wrong amounts are refused', async () => {
    const { intent } = await setUp();
    await expect(stripe.setupIntents.verifyMicrodeposits(intent.id, { amounts: [45, 32] })).rejects.toMatchObject({
      code: 'payment_method_microdeposit_verification_amounts_mismatch',
    });
    expect(await stripe.setupIntents.verifyMicrodeposits(intent.id, { amounts: [32, 45] })).toMatchObject({ status: 'succeeded' });
  });

  it(`ends the verification at the ${MAX_VERIFICATION_ATTEMPTS}th wrong code: the account can never be debited`, async () => {
    const { intent, customer } = await setUp();
    for (let i = 1; i < MAX_VERIFICATION_ATTEMPTS; i += 1) {
      await expect(stripe.setupIntents.verifyMicrodeposits(intent.id, { descriptor_code: 'SM00XX' })).rejects.toMatchObject({
        code: 'payment_method_microdeposit_verification_descriptor_code_mismatch',
      });
    }
    await expect(stripe.setupIntents.verifyMicrodeposits(intent.id, { descriptor_code: 'SM00XX' })).rejects.toMatchObject({
      code: 'payment_method_microdeposit_verification_attempts_exceeded',
    });
    expect(await stripe.setupIntents.retrieve(intent.id)).toMatchObject({
      status: 'requires_payment_method',
      last_setup_error: { code: 'payment_method_microdeposit_verification_attempts_exceeded' },
    });
    await expect(stripe.setupIntents.verifyMicrodeposits(intent.id, { descriptor_code: 'SM11AA' })).rejects.toMatchObject({
      code: 'setup_intent_unexpected_state',
    });
    await expect(debit(intent.payment_method as string, customer)).rejects.toMatchObject({ code: 'payment_method_unactivated' });
  });

  it('needs the mandate and the holder, and offers no instant verification', async () => {
    const customer = (await stripe.customers.create()).id;
    const base = {
      customer,
      allowed_payment_method_types: ['us_bank_account'],
      payment_method_data: {
        type: 'us_bank_account' as const,
        us_bank_account: { routing_number: '110000000', account_number: '000123456789' },
        billing_details: { name: 'Ana Maria Silva' },
      },
      confirm: true,
    };
    await expect(stripe.setupIntents.create(base)).rejects.toMatchObject({ code: 'parameter_missing', param: 'mandate_data[customer_acceptance][type]' });
    const mandate_data = { customer_acceptance: { type: 'offline' as const, offline: {} } };
    await expect(
      stripe.setupIntents.create({ ...base, mandate_data, payment_method_options: { us_bank_account: { verification_method: 'instant' } } }),
    ).rejects.toMatchObject({ type: 'StripeInvalidRequestError' });
    await expect(
      stripe.setupIntents.create({ ...base, mandate_data, payment_method_data: { ...base.payment_method_data, billing_details: {} } }),
    ).rejects.toMatchObject({ code: 'parameter_missing' });
  });
});

describe('an IBAN saved for later (SEPA Direct Debit)', () => {
  const HOLDER_EMAIL = 'ana.silva@example.org';
  const setUpIban = async (iban: string, customer: string) =>
    stripe.setupIntents.create({
      customer,
      usage: 'off_session',
      allowed_payment_method_types: ['sepa_debit'],
      payment_method_data: { type: 'sepa_debit', sepa_debit: { iban }, billing_details: { name: 'Ana Maria Silva', email: HOLDER_EMAIL } },
      mandate_data: { customer_acceptance: { type: 'online', online: { ip_address: '198.51.100.23', user_agent: 'PayTest/1.0' } } },
      confirm: true,
    });
  const debitEur = (paymentMethod: string, customer: string, currency = 'eur') =>
    stripe.paymentIntents.create({
      amount: 4200,
      currency,
      customer,
      payment_method: paymentMethod,
      allowed_payment_method_types: ['sepa_debit'],
      off_session: true,
      confirm: true,
    });

  it('succeeds at once: a sepa_debit PaymentMethod on the customer (never the IBAN) under a mandate, debited again and again with that customer only', async () => {
    const customer = (await stripe.customers.create()).id;
    const intent = await setUpIban('DE89370400440532013000', customer);
    expect(intent).toMatchObject({ status: 'succeeded', customer, payment_method: expect.stringMatching(/^pm_/), mandate: expect.stringMatching(/^mandate_/) });
    const pm = intent.payment_method as string;
    expect(await stripe.paymentMethods.retrieve(pm)).toMatchObject({ type: 'sepa_debit', customer, sepa_debit: { last4: '3000', country: 'DE' } });
    expect(await stripe.mandates.retrieve(intent.mandate as string)).toMatchObject({
      payment_method: pm,
      type: 'multi_use',
      payment_method_details: { type: 'sepa_debit' },
      customer_acceptance: { type: 'online', online: { ip_address: '198.51.100.23' } },
    });
    expect(JSON.stringify(simulator.snapshot())).not.toContain('DE89370400440532013000');

    for (let i = 0; i < 2; i += 1)
      expect(await debitEur(pm, customer)).toMatchObject({ status: 'processing', customer, payment_method: pm, payment_method_types: ['sepa_debit'] });
    await expect(debitEur(pm, (await stripe.customers.create()).id)).rejects.toMatchObject({ code: 'payment_method_unexpected_state' });
    await expect(debitEur(pm, customer, 'usd')).rejects.toMatchObject({ code: 'payment_intent_invalid_parameter', param: 'currency' });
    await expect(
      stripe.paymentIntents.create({ amount: 4200, currency: 'eur', customer, payment_method: pm, off_session: true, confirm: true }),
    ).rejects.toMatchObject({ code: 'payment_intent_invalid_parameter', param: 'payment_method' });
  });

  it("debits Stripe's failing test IBAN, then fails it late; refuses an invalid IBAN and a setup without the mandate", async () => {
    const customer = (await stripe.customers.create()).id;
    const failing = await setUpIban('DE62370400440532013001', customer);
    const debit = await debitEur(failing.payment_method as string, customer);
    expect(debit.status).toBe('processing');
    simulator.advanceClock(3 * 24 * 60 * 60 * 1000);
    expect(await stripe.paymentIntents.retrieve(debit.id)).toMatchObject({
      status: 'requires_payment_method',
      last_payment_error: { code: 'insufficient_funds' },
    });

    await expect(setUpIban('DE00', customer)).rejects.toMatchObject({ code: 'invalid_bank_account' });
    await expect(
      stripe.setupIntents.create({
        customer,
        allowed_payment_method_types: ['sepa_debit'],
        payment_method_data: {
          type: 'sepa_debit',
          sepa_debit: { iban: 'DE89370400440532013000' },
          billing_details: { name: 'Ana Maria Silva', email: HOLDER_EMAIL },
        },
        confirm: true,
      }),
    ).rejects.toMatchObject({ code: 'parameter_missing', param: 'mandate_data[customer_acceptance][type]' });
  });

  it("refuses an IBAN without its holder's e-mail address, or with a malformed one, as Stripe does; keeps it on the PaymentMethod", async () => {
    const customer = (await stripe.customers.create()).id;
    const withBilling = (billing_details: Stripe.SetupIntentCreateParams.PaymentMethodData.BillingDetails) =>
      stripe.setupIntents.create({
        customer,
        usage: 'off_session',
        allowed_payment_method_types: ['sepa_debit'],
        payment_method_data: { type: 'sepa_debit', sepa_debit: { iban: 'DE89370400440532013000' }, billing_details },
        mandate_data: { customer_acceptance: { type: 'online', online: { ip_address: '198.51.100.23', user_agent: 'PayTest/1.0' } } },
        confirm: true,
      });
    const before = simulator.snapshot().setupIntents.filter((intent) => intent.status === 'succeeded').length;
    for (const billing of [
      { name: 'Ana Maria Silva' },
      { name: 'Ana Maria Silva', email: 'ana.example.org' },
      { name: 'Ana Maria Silva', email: 'ana @x.org' },
    ])
      await expect(withBilling(billing)).rejects.toMatchObject({
        statusCode: 400,
        type: 'StripeInvalidRequestError',
        code: 'email_invalid',
        param: 'payment_method_data[billing_details][email]',
      });
    expect(simulator.snapshot().setupIntents.filter((intent) => intent.status === 'succeeded')).toHaveLength(before);
    const saved = await withBilling({ name: 'Ana Maria Silva', email: HOLDER_EMAIL });
    expect(await stripe.paymentMethods.retrieve(saved.payment_method as string)).toMatchObject({
      type: 'sepa_debit',
      billing_details: { name: 'Ana Maria Silva', email: HOLDER_EMAIL },
    });
  });
});
