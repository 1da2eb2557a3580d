import type { PspSimulator } from '@pay/psp-simulator';
import Stripe from 'stripe';
import { startPspSimulator } from '@pay/psp-simulator';
import { uniqueName } from '@pay/testing';
import type { JWK } from 'jose';
import { exportJWK, generateKeyPair } from 'jose';
import { MANDATE_ATTESTATION_HEADER, mandateAccountDigest, MandateAttestationSigner } from '@pay/auth';
import { serviceLogs } from '@pay/testing/service-logs';
import { findSecrets } from './log-secrets';
import { PaymentsOnKafka } from './payments-on-kafka';
import type { Caller, WalletUnderTest } from './wallet-test-kit';
import { CARD_NUMBERS, dropWalletSchema, dumpSchema, IBANS, MANDATE, startWallet, validCard } from './wallet-test-kit';

jest.mock('@pay/observability', () => jest.requireActual<typeof import('@pay/testing/service-logs')>('@pay/testing/service-logs').observabilityKeepingLogs());

interface MethodView {
  id: string;
  kind: string;
  label: string;
  status: string;
  preferred: boolean;
  last4?: string;
  email?: string;
  country?: string;
  removedAt?: string;
  verification?: string;
}

const EMAIL = 'ana.maria.paypal@example.com';
const HOLDER = 'Ana Maria Quaresma';
/** The SEPA holder's e-mail: given to the PSP with the IBAN, kept nowhere in the wallet. */
const HOLDER_EMAIL = 'ana.quaresma.sepa@example.org';

describe('wallet: payment methods', () => {
  let wallet: WalletUnderTest;
  let psp: PspSimulator;
  let ana: Caller;
  let orchestration: Caller;
  const anaId = uniqueName('ana');
  const base = `/v1/wallets/${anaId}/payment-methods`;

  beforeAll(async () => {
    // US bank accounts are set up and verified at the PSP: the simulator.
    psp = await startPspSimulator();
    wallet = await startWallet({ env: { STRIPE_API_HOST: psp.host, STRIPE_API_PORT: String(psp.port), STRIPE_API_PROTOCOL: 'http' } });
    ana = await wallet.person(anaId);
    orchestration = await wallet.orchestration();
    expect((await ana.post(`/v1/wallets/${anaId}`, { country: 'DE' })).status).toBe(201);
    expect((await ana.put(`/v1/wallets/${anaId}/apps`, { apps: ['facebook', 'messenger'] })).status).toBe(200);
  });

  afterAll(async () => {
    await wallet?.stop();
    await psp?.close();
    if (wallet) await dropWalletSchema(wallet.schema);
    expect(findSecrets(serviceLogs.join(''), { ibans: IBANS, emails: [EMAIL, HOLDER_EMAIL], holderNames: [HOLDER] })).toEqual([]);
    expect(serviceLogs.join('')).not.toContain('000123456789');
  });

  let cardId: string;
  let bankId: string;
  let paypalId: string;
  let stripeId: string;

  it('saves a card, a PayPal account, a bank account and a Stripe customer; the first becomes preferred', async () => {
    const card = await ana.post<MethodView>(`${base}/cards`, validCard({ brand: 'mastercard', last4: '4444' }));
    expect(card).toMatchObject({ status: 201, body: { kind: 'card', label: 'Mastercard •••• 4444', preferred: true, status: 'active', last4: '4444' } });
    cardId = card.body.id;

    const paypal = await ana.post<MethodView>(`${base}/paypal-accounts`, { payerId: 'QYR5Z8XDVJNXQ', email: EMAIL, label: 'PayPal (private)' });
    expect(paypal).toMatchObject({ status: 201, body: { kind: 'paypal', label: 'PayPal (private)', preferred: false, email: 'a•••@example.com' } });
    paypalId = paypal.body.id;

    // A bank account is saved only with its holder's acceptance of the debit mandate, as the Pay Hub attests it.
    expect(await ana.post(`${base}/bank-accounts`, { iban: IBANS[0], holderName: HOLDER, holderEmail: HOLDER_EMAIL })).toMatchObject({
      status: 403,
      body: { code: 'MANDATE_NOT_ATTESTED', message: expect.stringContaining('Mandate-Attestation') },
    });
    // SEPA requires the holder's e-mail: without it, or malformed, nothing is saved (and the PSP is not asked).
    const setupsBefore = psp.snapshot().setupIntents.length;
    for (const holderEmail of [undefined, 'ana.example.org', 'a'.repeat(250) + '@x.org'])
      expect(await ana.post(`${base}/bank-accounts`, { iban: IBANS[0], holderName: HOLDER, holderEmail, mandate: MANDATE })).toMatchObject({
        status: 400,
        body: { code: 'VALIDATION_FAILED', details: expect.arrayContaining([expect.stringMatching(/^holderEmail: holderEmail must /)]) },
      });
    expect(psp.snapshot().setupIntents).toHaveLength(setupsBefore);
    const bank = await ana.post<MethodView>(`${base}/bank-accounts`, {
      iban: IBANS[0],
      holderName: HOLDER,
      holderEmail: ` ${HOLDER_EMAIL} `,
      bic: 'COBADEFFXXX',
      mandate: MANDATE,
    });
    expect(bank).toMatchObject({ status: 201, body: { kind: 'bank_account', label: 'Bank account •••• 3000', last4: '3000', country: 'DE' } });
    expect(JSON.stringify(bank.body)).not.toContain('DE89');
    expect(JSON.stringify(bank.body)).not.toContain(HOLDER_EMAIL);
    bankId = bank.body.id;
    // Saved once at the PSP, as a card is: a SEPA Direct Debit PaymentMethod on a customer of its own, under the mandate.
    const setup = psp.snapshot().setupIntents.find((intent) => intent.metadata.pay_method === bankId)!;
    expect(setup).toMatchObject({ status: 'succeeded', payment_method_types: ['sepa_debit'], metadata: { pay_person: anaId } });
    expect(psp.snapshot().paymentMethods.find((method) => method.id === setup.payment_method)).toMatchObject({
      type: 'sepa_debit',
      customer: setup.customer,
      sepa_debit: { last4: '3000', country: 'DE' },
      // The PSP holds the holder's e-mail (trimmed), as SEPA requires; the wallet does not (below).
      billing_details: { name: HOLDER, email: HOLDER_EMAIL },
    });
    expect(psp.snapshot().mandates.find((mandate) => mandate.id === setup.mandate)).toMatchObject({
      payment_method: setup.payment_method,
      customer_acceptance: { type: 'online', online: { ip_address: MANDATE.ipAddress, user_agent: MANDATE.userAgent } },
    });

    const stripe = await ana.post<MethodView>(`${base}/stripe-customers`, { customerId: 'cus_NffrFeUfNV2Hib', paymentMethodId: 'pm_1QdE2xLkdIwHu7ix0g1N2abc' });
    expect(stripe).toMatchObject({ status: 201, body: { kind: 'stripe_customer', label: 'Saved with Stripe' } });
    stripeId = stripe.body.id;

    const list = await ana.get<MethodView[]>(base);
    expect(list.body.map((method) => [method.id, method.preferred])).toEqual([
      [cardId, true],
      [paypalId, false],
      [bankId, false],
      [stripeId, false],
    ]);
  });

  it('sets the preferred method and renames one', async () => {
    expect(await ana.put<MethodView>(`${base}/${bankId}/preferred`)).toMatchObject({ status: 200, body: { id: bankId, preferred: true } });
    expect((await ana.get<MethodView>(`${base}/${cardId}`)).body.preferred).toBe(false);
    expect(await ana.patch<MethodView>(`${base}/${bankId}`, { label: '  Salary   account ' })).toMatchObject({
      status: 200,
      body: { label: 'Salary account' },
    });
    expect((await ana.get<{ preferredMethodId: string }>(`/v1/wallets/${anaId}`)).body.preferredMethodId).toBe(bankId);
  });

  it('gives the payment service what it charges with, never the PayPal e-mail', async () => {
    const payments = new PaymentsOnKafka(wallet);
    const bankPayment = await payments.initiated({ personId: anaId, methodId: bankId, app: 'messenger' });
    const paypalPayment = await payments.initiated({ personId: anaId, methodId: paypalId });
    await payments.disconnect();
    const bankRelease = await orchestration.get(`/v1/wallets/${anaId}/payment-instruments/preferred?app=messenger&paymentId=${bankPayment}`);
    // The sealed secret, opened: the holder's e-mail is not in it (the PSP's PaymentMethod carries it).
    expect(JSON.stringify(bankRelease.body)).not.toContain(HOLDER_EMAIL);
    expect(bankRelease).toMatchObject({
      status: 200,
      body: {
        methodId: bankId,
        kind: 'bank_account',
        credentials: {
          iban: 'DE89370400440532013000',
          holderName: HOLDER,
          bic: 'COBADEFFXXX',
          // What orchestration debits: the PaymentMethod saved at the PSP, with its customer.
          pspToken: expect.stringMatching(/^pm_/),
          customer: expect.stringMatching(/^cus_/),
        },
      },
    });
    const paypal = await orchestration.get<{ credentials: Record<string, string> }>(
      `/v1/wallets/${anaId}/payment-instruments/${paypalId}?app=facebook&paymentId=${paypalPayment}`,
    );
    expect(paypal.body.credentials).toEqual({ payerId: 'QYR5Z8XDVJNXQ' });
    // Pay is not turned on in instagram for Ana, and not live in whatsapp in DE.
    expect(await orchestration.get(`/v1/wallets/${anaId}/payment-instruments/${cardId}?app=instagram&paymentId=pay_probe`)).toMatchObject({
      status: 403,
      body: { code: 'PAY_NOT_AVAILABLE_IN_APP' },
    });
    expect((await ana.put(`/v1/wallets/${anaId}/apps`, { apps: ['facebook'] })).status).toBe(200);
    expect(await orchestration.get(`/v1/wallets/${anaId}/payment-instruments/${cardId}?app=messenger&paymentId=pay_probe`)).toMatchObject({
      status: 403,
      body: { code: 'PAY_NOT_ACTIVE_IN_APP' },
    });
    // A person never sees credentials.
    expect((await ana.get(`/v1/wallets/${anaId}/payment-instruments/${cardId}?app=facebook&paymentId=pay_probe`)).status).toBe(403);
  });

  it('removes a method: it can no longer pay, its history stays, its secret is erased', async () => {
    expect((await ana.delete(`${base}/${bankId}`)).status).toBe(204);
    expect((await ana.delete(`${base}/${bankId}`)).status).toBe(204);
    expect((await ana.get<MethodView[]>(base)).body.map((method) => method.id)).toEqual([cardId, paypalId, stripeId]);
    const history = await ana.get<MethodView[]>(`${base}?includeRemoved=true`);
    expect(history.body.find((method) => method.id === bankId)).toMatchObject({
      status: 'removed',
      last4: '3000',
      preferred: false,
      removedAt: expect.any(String),
    });
    expect((await ana.get<{ preferredMethodId?: string }>(`/v1/wallets/${anaId}`)).body.preferredMethodId).toBeUndefined();

    expect(await orchestration.get(`/v1/wallets/${anaId}/payment-instruments/${bankId}?app=facebook&paymentId=pay_probe`)).toMatchObject({
      status: 409,
      body: { code: 'PAYMENT_METHOD_REMOVED' },
    });
    expect(await orchestration.get(`/v1/wallets/${anaId}/payment-instruments/preferred?app=facebook&paymentId=pay_probe`)).toMatchObject({
      status: 409,
      body: { code: 'NO_PREFERRED_METHOD' },
    });
    expect(await ana.put(`${base}/${bankId}/preferred`)).toMatchObject({ status: 409, body: { code: 'PAYMENT_METHOD_REMOVED' } });
    expect(await ana.patch(`${base}/${bankId}`, { label: 'again' })).toMatchObject({ status: 409, body: { code: 'PAYMENT_METHOD_REMOVED' } });

    const rows: { secret: string | null; status: string }[] = await wallet.service.runtime.dataSource.query(
      'SELECT secret, status FROM payment_methods WHERE id = $1',
      [bankId],
    );
    expect(rows).toEqual([{ secret: null, status: 'removed' }]);
  });

  it('refuses expired cards, bad IBANs, unknown fields and missing wallets with clear errors', async () => {
    expect(await ana.post(`${base}/cards`, validCard({ expMonth: 1, expYear: 1999 }))).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    expect(await ana.post(`${base}/cards`, validCard({ expMonth: 1, expYear: new Date().getUTCFullYear() - 1 }))).toMatchObject({
      status: 400,
      body: { code: 'CARD_EXPIRED' },
    });
    expect(
      await ana.post(`${base}/bank-accounts`, { iban: 'DE89370400440532013001', holderName: HOLDER, holderEmail: HOLDER_EMAIL, mandate: MANDATE }),
    ).toMatchObject({
      status: 400,
      body: { code: 'IBAN_INVALID', field: 'iban', message: expect.not.stringContaining('DE89') },
    });
    const cvc = await ana.post<{ code: string; details: string[] }>(`${base}/cards`, { ...validCard(), cvc: '123' });
    expect(cvc).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED', details: ['cvc: property cvc should not exist'] } });
    const noWallet = await wallet.person('has-no-wallet');
    expect(await noWallet.post('/v1/wallets/has-no-wallet/payment-methods/cards', validCard())).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
  });

  it('saves a US bank account for ACH (shown as its last four), pending until its micro-deposits are verified; then releases it to orchestration alone', async () => {
    const eveId = uniqueName('eve');
    const eve = await wallet.person(eveId);
    expect((await eve.post(`/v1/wallets/${eveId}`, { country: 'US' })).status).toBe(201);
    expect((await eve.put(`/v1/wallets/${eveId}/apps`, { apps: ['facebook'] })).status).toBe(200);
    const account = { routingNumber: '110000000', accountNumber: '000123456789', accountType: 'savings', holderName: HOLDER, mandate: MANDATE };
    expect(await eve.post(`/v1/wallets/${eveId}/payment-methods/us-bank-accounts`, { ...account, mandate: undefined })).toMatchObject({ status: 403 });
    const saved = await eve.post<MethodView>(`/v1/wallets/${eveId}/payment-methods/us-bank-accounts`, account);
    expect(saved).toMatchObject({
      status: 201,
      body: { kind: 'bank_account', label: 'Bank account •••• 6789', last4: '6789', country: 'US', preferred: true, verification: 'pending' },
    });
    expect(JSON.stringify(saved.body)).not.toContain('000123456789');
    // Set up at the PSP on a customer of its own, micro-deposits on their way.
    const setup = psp.snapshot().setupIntents.find((intent) => intent.metadata.pay_method === saved.body.id)!;
    expect(setup).toMatchObject({ status: 'requires_action', metadata: { pay_person: eveId }, next_action: { type: 'verify_with_microdeposits' } });
    const releaseFor = async (methodId: string) => {
      const payments = new PaymentsOnKafka(wallet);
      const debit = await payments.initiated({ personId: eveId, methodId, app: 'facebook' });
      await payments.disconnect();
      return orchestration.get<Record<string, unknown>>(`/v1/wallets/${eveId}/payment-instruments/${methodId}?app=facebook&paymentId=${debit}`);
    };
    // Not debited before it is verified.
    expect(await releaseFor(saved.body.id)).toMatchObject({ status: 409, body: { code: 'BANK_ACCOUNT_UNVERIFIED', verification: 'pending' } });

    const verify = (body: unknown) => eve.post<MethodView & { code?: string }>(`/v1/wallets/${eveId}/payment-methods/${saved.body.id}/microdeposits`, body);
    for (const wrong of [{}, { descriptorCode: 'SM11AA', amounts: [32, 45] }, { descriptorCode: 'XX11AA' }, { amounts: [32] }, { amounts: [32, 450] }])
      expect(await verify(wrong)).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    expect(await verify({ descriptorCode: 'SM99ZZ' })).toMatchObject({ status: 400, body: { code: 'MICRODEPOSITS_MISMATCH' } });
    // Only its owner verifies (orchestration's token has no business here).
    expect((await orchestration.post(`/v1/wallets/${eveId}/payment-methods/${saved.body.id}/microdeposits`, { descriptorCode: 'SM11AA' })).status).toBe(403);
    expect(await verify({ descriptorCode: 'SM11AA' })).toMatchObject({ status: 200, body: { id: saved.body.id, verification: 'verified' } });
    expect(await verify({ descriptorCode: 'SM11AA' })).toMatchObject({ status: 409, body: { code: 'BANK_ACCOUNT_ALREADY_VERIFIED' } });

    const released = await releaseFor(saved.body.id);
    expect(released).toMatchObject({
      status: 200,
      body: {
        methodId: saved.body.id,
        kind: 'bank_account',
        credentials: { ...account, pspToken: setup.payment_method, customer: setup.customer },
      },
    });
    expect(JSON.stringify(released.body)).not.toContain(setup.id);
    expect((await eve.get(`/v1/wallets/${eveId}/payment-instruments/${saved.body.id}?app=facebook&paymentId=x`)).status).toBe(403);
    // A card has nothing to verify.
    const card = await eve.post<MethodView>(`/v1/wallets/${eveId}/payment-methods/cards`, validCard());
    expect(await eve.post(`/v1/wallets/${eveId}/payment-methods/${card.body.id}/microdeposits`, { descriptorCode: 'SM11AA' })).toMatchObject({
      status: 409,
      body: { code: 'NOTHING_TO_VERIFY' },
    });

    expect(await eve.post(`/v1/wallets/${eveId}/payment-methods/us-bank-accounts`, { ...account, routingNumber: '110000001' })).toMatchObject({
      status: 400,
      body: { code: 'ROUTING_NUMBER_INVALID', field: 'routingNumber' },
    });
    for (const wrong of [{ accountNumber: '12' }, { accountType: 'brokerage' }, { routingNumber: '11000000' }])
      expect(await eve.post(`/v1/wallets/${eveId}/payment-methods/us-bank-accounts`, { ...account, ...wrong })).toMatchObject({
        status: 400,
        body: { code: 'VALIDATION_FAILED' },
      });

    // With the payer's mandate acceptance as the hub attested it: recorded with the hub's time, released with the account; a malformed one changes nothing.
    const mandate = { textVersion: 'ach-2026-01', ipAddress: '198.51.100.23', userAgent: 'PayTest/1.0 (Android 15)' };
    const before = (await eve.get<MethodView[]>(`/v1/wallets/${eveId}/payment-methods`)).body.length;
    for (const wrong of [{ ipAddress: 'not-an-address' }, { userAgent: '' }, { textVersion: 'v 1' }])
      expect(await eve.post(`/v1/wallets/${eveId}/payment-methods/us-bank-accounts`, { ...account, mandate: { ...mandate, ...wrong } })).toMatchObject({
        status: 403,
        body: { code: 'MANDATE_NOT_ATTESTED' },
      });
    expect((await eve.get<MethodView[]>(`/v1/wallets/${eveId}/payment-methods`)).body).toHaveLength(before);
    const withMandate = await eve.post<MethodView>(`/v1/wallets/${eveId}/payment-methods/us-bank-accounts`, { ...account, mandate });
    expect(withMandate.status).toBe(201);
    expect(JSON.stringify(withMandate.body)).not.toContain('198.51.100.23');
    // The PSP's mandate is the online acceptance the payer gave.
    const mandatePm = psp.snapshot().setupIntents.find((intent) => intent.metadata.pay_method === withMandate.body.id)!.payment_method;
    expect(psp.snapshot().mandates.find((m) => m.payment_method === mandatePm)?.customer_acceptance).toMatchObject({
      type: 'online',
      online: { ip_address: '198.51.100.23', user_agent: 'PayTest/1.0 (Android 15)' },
    });
    expect((await eve.post(`/v1/wallets/${eveId}/payment-methods/${withMandate.body.id}/microdeposits`, { amounts: [32, 45] })).status).toBe(200);
    const payments2 = new PaymentsOnKafka(wallet);
    const debit2 = await payments2.initiated({ personId: eveId, methodId: withMandate.body.id, app: 'facebook' });
    await payments2.disconnect();
    const releasedWithMandate = await orchestration.get<{ credentials: { mandate?: { acceptedAt: string } } }>(
      `/v1/wallets/${eveId}/payment-instruments/${withMandate.body.id}?app=facebook&paymentId=${debit2}`,
    );
    expect(releasedWithMandate).toMatchObject({ status: 200, body: { credentials: { ...account, mandate: { ...mandate, acceptedAt: expect.any(String) } } } });
    expect(Date.parse(releasedWithMandate.body.credentials.mandate?.acceptedAt ?? '')).not.toBeNaN();
  });

  it("verifies micro-deposits for their owner only (another person's account is not found), refuses wrong amounts, and ends after the PSP's tenth wrong answer", async () => {
    // Stripe allows ten verification attempts per SetupIntent; the tenth wrong one ends it for good.
    const STRIPE_VERIFICATION_ATTEMPTS = 10;
    const finId = uniqueName('fin');
    const fin = await wallet.person(finId);
    expect((await fin.post(`/v1/wallets/${finId}`, { country: 'US' })).status).toBe(201);
    expect((await fin.put(`/v1/wallets/${finId}/apps`, { apps: ['facebook'] })).status).toBe(200);
    const saveAccount = async (accountNumber: string) => {
      const saved = await fin.post<MethodView>(`/v1/wallets/${finId}/payment-methods/us-bank-accounts`, {
        routingNumber: '110000000',
        accountNumber,
        accountType: 'checking',
        holderName: HOLDER,
        mandate: MANDATE,
      });
      expect(saved).toMatchObject({ status: 201, body: { verification: 'pending' } });
      return saved.body.id;
    };
    const setupOf = (methodId: string) => psp.snapshot().setupIntents.find((intent) => intent.metadata.pay_method === methodId)!;
    const verifyAs = (caller: Caller, personId: string, methodId: string, body: unknown) =>
      caller.post<MethodView & { code?: string; message?: string }>(`/v1/wallets/${personId}/payment-methods/${methodId}/microdeposits`, body);

    // Another person, with the right amounts: under Fin's wallet or their own, nothing is found, nothing reaches the PSP.
    const first = await saveAccount('000111222333');
    const gusId = uniqueName('gus');
    const gus = await wallet.person(gusId);
    expect((await gus.post(`/v1/wallets/${gusId}`, { country: 'US' })).status).toBe(201);
    const verifications = () => psp.requestsTo('/v1/setup_intents/').filter((request) => request.path.endsWith('/verify_microdeposits')).length;
    const verificationsBefore = verifications();
    expect(await verifyAs(gus, finId, first, { amounts: [32, 45] })).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    expect(await verifyAs(gus, gusId, first, { amounts: [32, 45] })).toMatchObject({ status: 404, body: { code: 'PAYMENT_METHOD_NOT_FOUND' } });
    expect(verifications()).toBe(verificationsBefore);
    expect((await fin.get<MethodView>(`/v1/wallets/${finId}/payment-methods/${first}`)).body.verification).toBe('pending');

    // Wrong amounts: refused, try again; the right ones verify it.
    for (const amounts of [
      [31, 45],
      [32, 44],
    ])
      expect(await verifyAs(fin, finId, first, { amounts })).toMatchObject({ status: 400, body: { code: 'MICRODEPOSITS_MISMATCH' } });
    expect(await verifyAs(fin, finId, first, { amounts: [32, 45] })).toMatchObject({ status: 200, body: { id: first, verification: 'verified' } });
    expect(setupOf(first).status).toBe('succeeded');

    // Nine wrong answers leave it pending; the tenth ends the verification: failed for good, even with the right code, and it never pays.
    const second = await saveAccount('000444555666');
    for (let attempt = 1; attempt < STRIPE_VERIFICATION_ATTEMPTS; attempt += 1)
      expect(await verifyAs(fin, finId, second, attempt % 2 ? { amounts: [1, 2] } : { descriptorCode: 'SM00XX' })).toMatchObject({
        status: 400,
        body: { code: 'MICRODEPOSITS_MISMATCH' },
      });
    expect((await fin.get<MethodView>(`/v1/wallets/${finId}/payment-methods/${second}`)).body.verification).toBe('pending');
    expect(await verifyAs(fin, finId, second, { amounts: [3, 4] })).toMatchObject({ status: 409, body: { code: 'VERIFICATION_ATTEMPTS_EXCEEDED' } });
    expect(setupOf(second)).toMatchObject({
      status: 'requires_payment_method',
      last_setup_error: { code: 'payment_method_microdeposit_verification_attempts_exceeded' },
    });
    expect((await fin.get<MethodView>(`/v1/wallets/${finId}/payment-methods/${second}`)).body.verification).toBe('failed');
    const afterEnd = verifications();
    expect(await verifyAs(fin, finId, second, { amounts: [32, 45] })).toMatchObject({ status: 409, body: { code: 'VERIFICATION_ATTEMPTS_EXCEEDED' } });
    expect(verifications()).toBe(afterEnd);
    const payments = new PaymentsOnKafka(wallet);
    const debit = await payments.initiated({ personId: finId, methodId: second, app: 'facebook' });
    await payments.disconnect();
    expect(await orchestration.get(`/v1/wallets/${finId}/payment-instruments/${second}?app=facebook&paymentId=${debit}`)).toMatchObject({
      status: 409,
      body: { code: 'BANK_ACCOUNT_UNVERIFIED', verification: 'failed' },
    });
  });

  it("takes a mandate's evidence from the Pay Hub's attestation alone: a person's own body, an app backend's or the identity provider's signature, another person's or account's attestation save nothing", async () => {
    const ivoId = uniqueName('ivo');
    const ivo = await wallet.person(ivoId);
    expect((await ivo.post(`/v1/wallets/${ivoId}`, { country: 'DE' })).status).toBe(201);
    const route = `/v1/wallets/${ivoId}/payment-methods/bank-accounts`;
    const account = { iban: IBANS[2], holderName: HOLDER, holderEmail: HOLDER_EMAIL };
    const forged = { textVersion: 'sepa-core-2026-01', ipAddress: '192.0.2.66', userAgent: 'Forged/1.0', acceptedAt: '2020-01-01T00:00:00Z' };
    const claims = { issuer: wallet.idp.issuer, audience: wallet.idp.audience };
    const attest = async (signingKey: JWK, personId: string, iban: string): Promise<string> =>
      (await MandateAttestationSigner.create(signingKey, claims)).sign({
        personId,
        account: mandateAccountDigest({ iban }),
        textVersion: 'sepa-core-2026-01',
        ipAddress: '198.51.100.9',
        userAgent: 'PayHubTest/1.0',
      });
    // The person states the acceptance in the body, as the hub's generic forwarding once let them: refused, with or without an attestation.
    expect(await ivo.request('POST', route, { ...account, mandate: forged })).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    expect(
      await ivo.request('POST', route, { ...account, mandate: forged }, { [MANDATE_ATTESTATION_HEADER]: await attest(wallet.hub.privateJwk, ivoId, IBANS[2]) }),
    ).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    // An attestation signed by a key without the hub's grant: an app backend's own key, the identity provider's.
    const appKey = await generateKeyPair('ES256', { extractable: true });
    const notRegistered = { ...(await exportJWK(appKey.privateKey)), kid: 'instagram-backend-key', alg: 'ES256' };
    const withAttestation = (attestation: string) => ivo.request('POST', route, account, { [MANDATE_ATTESTATION_HEADER]: attestation });
    expect(await withAttestation(await attest(notRegistered, ivoId, IBANS[2]))).toMatchObject({ status: 403, body: { code: 'MANDATE_NOT_ATTESTED' } });
    const byIdp = await wallet.idp.signTestToken(
      { sub: 'pay-hub', role: 'service', scope: 'mandates:attest', person: ivoId, account: mandateAccountDigest({ iban: IBANS[2] }), mandate: forged },
      { typ: 'mandate-attestation+jwt', expiresIn: 60 },
    );
    expect(await withAttestation(byIdp)).toMatchObject({ status: 403, body: { code: 'MANDATE_NOT_ATTESTED' } });
    // An app backend acting for the person (the person's token it was issued), with no attestation: nothing.
    const backend = await wallet.delegated(ivoId);
    expect(await backend.request('POST', route, account)).toMatchObject({ status: 403, body: { code: 'MANDATE_NOT_ATTESTED' } });
    // The hub's attestation of another person's acceptance, or of another account.
    expect(await withAttestation(await attest(wallet.hub.privateJwk, anaId, IBANS[2]))).toMatchObject({
      status: 403,
      body: { message: expect.stringContaining('another person') },
    });
    expect(await withAttestation(await attest(wallet.hub.privateJwk, ivoId, IBANS[1]))).toMatchObject({
      status: 403,
      body: { message: expect.stringContaining('another account') },
    });
    expect((await ivo.get<MethodView[]>(`/v1/wallets/${ivoId}/payment-methods`)).body).toEqual([]);
    // The hub's own: saved, and what the PSP holds as the online acceptance is what the hub saw.
    const saved = await withAttestation(await attest(wallet.hub.privateJwk, ivoId, IBANS[2]));
    expect(saved).toMatchObject({ status: 201 });
    const setup = psp.snapshot().setupIntents.find((intent) => intent.metadata.pay_method === (saved.body as { id: string }).id)!;
    expect(psp.snapshot().mandates.find((m) => m.id === setup.mandate)?.customer_acceptance).toMatchObject({
      type: 'online',
      online: { ip_address: '198.51.100.9', user_agent: 'PayHubTest/1.0' },
    });
  });

  it('saves a US account linked at its bank (Financial Connections) verified at once, for the person whose connection it is only; no account number anywhere', async () => {
    const zoeId = uniqueName('zoe');
    const zoe = await wallet.person(zoeId);
    const malloryId = uniqueName('mallory');
    const mallory = await wallet.person(malloryId);
    for (const [id, caller] of [
      [zoeId, zoe],
      [malloryId, mallory],
    ] as const) {
      expect((await caller.post(`/v1/wallets/${id}`, { country: 'US' })).status).toBe(201);
      expect((await caller.put(`/v1/wallets/${id}/apps`, { apps: ['facebook'] })).status).toBe(200);
    }
    // What the hub does: a customer for the person, a session on it; the person links an account in the PSP's element.
    const stripe = new Stripe('sk_test_hub', { host: psp.host, port: psp.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false });
    const connection = async (linked: boolean): Promise<string> => {
      const customer = await stripe.customers.create({ metadata: { pay_person: zoeId } });
      const session = await stripe.financialConnections.sessions.create({
        account_holder: { type: 'customer', customer: customer.id },
        permissions: ['payment_method'],
      });
      if (linked)
        expect(
          (
            await fetch(`${psp.url}/v1/financial_connections/sessions/${session.id}/link_account`, {
              method: 'POST',
              body: new URLSearchParams({ key: 'pk_test_hub', client_secret: session.client_secret!, account: 'checking' }),
            })
          ).status,
        ).toBe(200);
      return session.id;
    };
    const sessionId = await connection(true);
    const linked = { financialConnectionsSession: sessionId, holderName: HOLDER, mandate: MANDATE, label: 'Linked checking' };
    // Another person cannot save it; nor can numbers come with it.
    expect(await mallory.post(`/v1/wallets/${malloryId}/payment-methods/us-bank-accounts`, linked)).toMatchObject({
      status: 404,
      body: { code: 'BANK_CONNECTION_NOT_FOUND' },
    });
    expect(
      await zoe.post(`/v1/wallets/${zoeId}/payment-methods/us-bank-accounts`, { ...linked, routingNumber: '110000000', accountNumber: '000123456789' }),
    ).toMatchObject({
      status: 400,
    });
    expect(
      await zoe.post(`/v1/wallets/${zoeId}/payment-methods/us-bank-accounts`, { ...linked, financialConnectionsSession: await connection(false) }),
    ).toMatchObject({
      status: 409,
      body: { code: 'BANK_CONNECTION_INCOMPLETE' },
    });
    expect(
      await zoe.post(`/v1/wallets/${zoeId}/payment-methods/us-bank-accounts`, { ...linked, financialConnectionsSession: 'fcsess_doesNotExist1' }),
    ).toMatchObject({
      status: 404,
      body: { code: 'BANK_CONNECTION_NOT_FOUND' },
    });

    const saved = await zoe.post<MethodView>(`/v1/wallets/${zoeId}/payment-methods/us-bank-accounts`, linked);
    expect(saved).toMatchObject({
      status: 201,
      body: { kind: 'bank_account', label: 'Linked checking', last4: '6789', country: 'US', verification: 'verified' },
    });
    const setup = psp.snapshot().setupIntents.find((intent) => intent.metadata.pay_method === saved.body.id)!;
    expect(setup).toMatchObject({ status: 'succeeded', metadata: { pay_person: zoeId } });
    // Released at once (no micro-deposits), as the PaymentMethod on its customer; the wallet never had the account number.
    const payments = new PaymentsOnKafka(wallet);
    const debit = await payments.initiated({ personId: zoeId, methodId: saved.body.id, app: 'facebook' });
    await payments.disconnect();
    const released = await orchestration.get<{ credentials: Record<string, unknown> }>(
      `/v1/wallets/${zoeId}/payment-instruments/${saved.body.id}?app=facebook&paymentId=${debit}`,
    );
    expect(released).toMatchObject({
      status: 200,
      body: {
        credentials: { routingNumber: '110000000', accountType: 'checking', holderName: HOLDER, pspToken: setup.payment_method, customer: setup.customer },
      },
    });
    expect(released.body.credentials.accountNumber).toBeUndefined();
    expect(await zoe.post(`/v1/wallets/${zoeId}/payment-methods/${saved.body.id}/microdeposits`, { descriptorCode: 'SM11AA' })).toMatchObject({
      status: 409,
      body: { code: 'BANK_ACCOUNT_ALREADY_VERIFIED' },
    });
  });

  it("saves Stripe's test tokens and real ids, refuses junk and card numbers in a token's shape", async () => {
    const bobId = uniqueName('bob');
    const bob = await wallet.person(bobId);
    expect((await bob.post(`/v1/wallets/${bobId}`, { country: 'US' })).status).toBe(201);
    const cards = `/v1/wallets/${bobId}/payment-methods/cards`;
    for (const pspToken of [
      'pm_card_visa',
      'pm_card_mastercard',
      'pm_card_chargeDeclinedInsufficientFunds',
      'tok_visa',
      'tok_us',
      'tok_visa_debit',
      'card_1N3T00LkdIwHu7ix',
      'src_1N3T00LkdIwHu7ix',
      'pm_1QdE2xLkdIwHu7ix0g1N2abc',
      'tok_1N3T00LkdIwHu7ixt44h1F8k',
    ]) {
      expect({ pspToken, status: (await bob.post(cards, validCard({ pspToken }))).status }).toEqual({ pspToken, status: 201 });
    }
    const stripe = await bob.post(`/v1/wallets/${bobId}/payment-methods/stripe-customers`, {
      customerId: 'cus_NffrFeUfNV2Hib',
      paymentMethodId: 'pm_card_visa',
    });
    expect(stripe.status).toBe(201);
    for (const pspToken of ['pm_x', 'tok_', 'pm__visa', 'pm_card_visa_', 'pm_card visa', 'visa', 'xx_card_visa', `pm_${'a'.repeat(130)}`]) {
      expect({ pspToken, ...(await bob.post(cards, validCard({ pspToken }))) }).toMatchObject({ pspToken, status: 400, body: { code: 'VALIDATION_FAILED' } });
    }
    for (const pspToken of ['4242424242424242', 'tok_4242424242424242', 'pm_card_4000056655665556']) {
      const refused = await bob.post<{ code: string }>(cards, validCard({ pspToken }));
      expect({ pspToken, status: refused.status, code: refused.body.code }).toEqual({ pspToken, status: 400, code: 'CARD_NUMBER_REFUSED' });
    }
    // A card saved on a PSP customer names it; anything else in its place is refused.
    expect((await bob.post(cards, validCard({ customerId: 'cus_NffrFeUfNV2Hib' }))).status).toBe(201);
    for (const customerId of ['cus_x', 'NffrFeUfNV2Hib', 'cus_Nffr FeUf', 42]) {
      expect({ customerId, ...(await bob.post(cards, validCard({ customerId }))) }).toMatchObject({
        customerId,
        status: 400,
        body: { code: 'VALIDATION_FAILED' },
      });
    }
  });

  /** Every text field of every request that writes something. */
  const TEXT_FIELDS: { route: string; body: () => Record<string, unknown>; fields: string[] }[] = [
    { route: 'cards', body: () => validCard(), fields: ['pspToken', 'customerId', 'brand', 'last4', 'country', 'label'] },
    { route: 'paypal-accounts', body: () => ({ payerId: 'QYR5Z8XDVJNXQ', email: EMAIL }), fields: ['payerId', 'email', 'vaultToken', 'label'] },
    {
      route: 'bank-accounts',
      body: () => ({ iban: IBANS[1], holderName: HOLDER, holderEmail: HOLDER_EMAIL, mandate: MANDATE }),
      fields: ['iban', 'holderName', 'holderEmail', 'bic', 'label'],
    },
    { route: 'stripe-customers', body: () => ({ customerId: 'cus_NffrFeUfNV2Hib' }), fields: ['customerId', 'paymentMethodId', 'label'] },
    {
      route: 'us-bank-accounts',
      body: () => ({ routingNumber: '110000000', accountNumber: '000123456789', accountType: 'checking', holderName: HOLDER, mandate: MANDATE }),
      fields: ['routingNumber', 'accountNumber', 'holderName', 'label'],
    },
  ];

  it.each(CARD_NUMBERS)('refuses a card number (%s) in any text field, names the field, never echoes it', async (number) => {
    const attempts: [string, string, unknown][] = [];
    for (const { route, body, fields } of TEXT_FIELDS) {
      for (const field of fields) {
        for (const value of [number, `my card ${number} thanks`]) attempts.push([`${base}/${route}`, field, { ...body(), [field]: value }]);
      }
    }
    attempts.push([`${base}/${cardId}`, 'label', { label: `card ${number}` }]);
    attempts.push([`/v1/wallets/${anaId}/contact`, 'email', { email: `${number.replace(/\D/g, '')}@example.com` }]);
    attempts.push([`/v1/wallets/${anaId}/contact`, 'phone', { phone: `call ${number}` }]);
    for (const [path, field, body] of attempts) {
      const method = path.endsWith(cardId) ? 'PATCH' : path.endsWith('/contact') ? 'PUT' : 'POST';
      const response = await ana.request(method, path, body);
      expect({ path, field, status: response.status, code: response.body.code, field_: response.body.field }).toEqual({
        path,
        field,
        status: 400,
        code: 'CARD_NUMBER_REFUSED',
        field_: `body.${field}`,
      });
      expect(JSON.stringify(response.body)).not.toMatch(/\d{6}/);
    }
    // A card number in a query string: see request-logs.int-spec.ts.
  });

  it('stores no card number, IBAN, holder name or e-mail in clear anywhere in the schema', async () => {
    const dump = await dumpSchema(wallet.schema);
    expect(dump).toContain('payment_methods');
    expect(findSecrets(dump, { ibans: IBANS, emails: [EMAIL, HOLDER_EMAIL], holderNames: [HOLDER] })).toEqual([]);
    const secrets: { secret: string }[] = await wallet.service.runtime.dataSource.query("SELECT secret FROM payment_methods WHERE status = 'active'");
    expect(secrets.length).toBeGreaterThan(0);
    for (const { secret } of secrets) expect(secret).toMatch(/^v1\.[0-9a-f-]{36}\.[A-Za-z0-9_-]+$/);
  });
});
