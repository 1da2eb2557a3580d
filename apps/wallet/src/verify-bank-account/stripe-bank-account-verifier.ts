import Stripe from 'stripe';
import type {
  BankAccountSetup,
  BankAccountSetupRequest,
  BankAccountVerifier,
  ConnectedAccountSetupRequest,
  ConnectedBankAccount,
  IbanSetupRequest,
  MicrodepositProof,
  MicrodepositVerdict,
  SavedBankAccount,
} from '../ports/bank-account-verifier';
import { BankAccountRefused, BankConnectionIncomplete, BankConnectionNotFound, BankVerificationUnavailable } from '../ports/bank-account-verifier';

export interface StripeVerifierSettings {
  readonly secretKey: string;
  readonly host?: string;
  readonly port?: number;
  readonly protocol?: 'http' | 'https';
}

/** Stripe's codes for a verification that did not match, or that can no longer be tried. */
const MISMATCH = new Set(['payment_method_microdeposit_verification_descriptor_code_mismatch', 'payment_method_microdeposit_verification_amounts_mismatch']);
const EXCEEDED = 'payment_method_microdeposit_verification_attempts_exceeded';

/**
 * Bank accounts saved on Stripe, through the official SDK, each on a Customer of its own: an IBAN
 * by a SetupIntent (`sepa_debit`, the IBAN as `payment_method_data`, the mandate, confirmed at once:
 * `succeeded`); a US account by a SetupIntent (`us_bank_account`, the numbers, the mandate,
 * `verification_method: microdeposits`, confirmed at once), then `verify_microdeposits`. Every
 * mutating call carries an idempotency key derived from the method's id.
 */
export class StripeBankAccountVerifier implements BankAccountVerifier {
  private readonly stripe: Stripe;

  constructor(settings: StripeVerifierSettings) {
    this.stripe = new Stripe(settings.secretKey, {
      ...(settings.host === undefined ? {} : { host: settings.host }),
      ...(settings.port === undefined ? {} : { port: settings.port }),
      ...(settings.protocol === undefined ? {} : { protocol: settings.protocol }),
      timeout: 15_000,
      maxNetworkRetries: 2,
      telemetry: false,
      appInfo: { name: 'pay-platform wallet' },
    });
  }

  async saveIban(request: IbanSetupRequest): Promise<SavedBankAccount> {
    const intent = await this.confirmSetup(request, undefined, { type: 'sepa_debit', sepa_debit: { iban: request.iban } }, undefined, request.holderEmail);
    const paymentMethodId = idOf(intent.payment_method);
    const customerId = idOf(intent.customer);
    const mandateId = idOf(intent.mandate);
    if (intent.status !== 'succeeded' || !paymentMethodId || !customerId || !mandateId)
      throw new BankVerificationUnavailable(`the PSP answered the IBAN setup with status ${intent.status}, not a saved debit`);
    return { setupId: intent.id, paymentMethodId, customerId, mandateId };
  }

  /**
   * The session must be the person's (its customer's metadata names them: the hub made both), and
   * hold the account they linked; the SetupIntent on that customer with the linked account
   * (`verification_method: instant`) succeeds at once under the mandate.
   */
  async saveConnectedAccount(request: ConnectedAccountSetupRequest): Promise<ConnectedBankAccount> {
    const session = await this.stripe.financialConnections.sessions.retrieve(request.sessionId).catch((error: unknown) => {
      if (error instanceof Stripe.errors.StripeInvalidRequestError && error.statusCode === 404) throw new BankConnectionNotFound('no such bank connection');
      throw unavailable(error);
    });
    const customerId = session.account_holder?.customer ? idOf(session.account_holder.customer) : undefined;
    const customer = customerId ? await this.stripe.customers.retrieve(customerId).catch((error: unknown) => Promise.reject(unavailable(error))) : undefined;
    if (!customerId || !customer || customer.deleted || customer.metadata.pay_person !== request.personId)
      throw new BankConnectionNotFound('no such bank connection');
    const account = session.accounts.data[0];
    if (!account) throw new BankConnectionIncomplete('no bank account was linked in this connection');
    const intent = await this.confirmSetup(
      request,
      customerId,
      { type: 'us_bank_account', us_bank_account: { financial_connections_account: account.id } },
      'instant',
    );
    const paymentMethodId = idOf(intent.payment_method);
    const mandateId = idOf(intent.mandate);
    if (intent.status !== 'succeeded' || !paymentMethodId || !mandateId)
      throw new BankVerificationUnavailable(`the PSP answered the linked account's setup with status ${intent.status}, not a verified account`);
    const method = await this.call(() => this.stripe.paymentMethods.retrieve(paymentMethodId));
    const bank = method.us_bank_account;
    if (!bank?.last4 || !bank.routing_number) throw new BankVerificationUnavailable('the PSP answered the linked account without its bank details');
    return {
      setupId: intent.id,
      paymentMethodId,
      customerId,
      mandateId,
      last4: bank.last4,
      routingNumber: bank.routing_number,
      accountType: bank.account_type === 'savings' ? 'savings' : 'checking',
    };
  }

  async start(request: BankAccountSetupRequest): Promise<BankAccountSetup> {
    const intent = await this.confirmSetup(
      request,
      undefined,
      {
        type: 'us_bank_account',
        us_bank_account: {
          routing_number: request.routingNumber,
          account_number: request.accountNumber,
          account_type: request.accountType,
          account_holder_type: 'individual',
        },
      },
      'microdeposits',
    );
    const next = intent.next_action?.verify_with_microdeposits;
    const paymentMethodId = idOf(intent.payment_method);
    const customerId = idOf(intent.customer);
    if (intent.status !== 'requires_action' || !next || !paymentMethodId || !customerId)
      throw new BankVerificationUnavailable(`the PSP answered the bank account setup with status ${intent.status}, not a micro-deposit verification`);
    return {
      setupId: intent.id,
      paymentMethodId,
      customerId,
      microdepositType: next.microdeposit_type === 'amounts' ? 'amounts' : 'descriptor_code',
      arrivesAt: new Date(next.arrival_date * 1000),
    };
  }

  async verify(setupId: string, proof: MicrodepositProof): Promise<MicrodepositVerdict> {
    try {
      const intent = await this.stripe.setupIntents.verifyMicrodeposits(
        setupId,
        'descriptorCode' in proof ? { descriptor_code: proof.descriptorCode } : { amounts: [...proof.amounts] },
      );
      return intent.status === 'succeeded' ? { outcome: 'verified' } : { outcome: 'not_awaiting' };
    } catch (error) {
      if (error instanceof Stripe.errors.StripeInvalidRequestError) {
        if (error.code && MISMATCH.has(error.code)) return { outcome: 'mismatch' };
        if (error.code === EXCEEDED) return { outcome: 'attempts_exceeded' };
        // Decided already (e.g. our first call's answer was lost): the setup says how.
        if (error.code === 'setup_intent_unexpected_state') return this.decided(setupId);
      }
      throw unavailable(error);
    }
  }

  private async decided(setupId: string): Promise<MicrodepositVerdict> {
    const intent = await this.stripe.setupIntents.retrieve(setupId).catch((error: unknown) => {
      throw unavailable(error);
    });
    if (intent.status === 'succeeded') return { outcome: 'verified' };
    if (intent.last_setup_error?.code === EXCEEDED) return { outcome: 'attempts_exceeded' };
    return { outcome: 'not_awaiting' };
  }

  /**
   * The account's SetupIntent, confirmed at once under the mandate, on the person's customer: the
   * one given, else a new one. Both keyed by the method's id, so a retry sets nothing up twice.
   */
  private confirmSetup(
    request: BankSetupParty,
    customerId: string | undefined,
    account: BankAccountData,
    verification?: 'instant' | 'microdeposits',
    holderEmail?: string,
  ): Promise<Stripe.SetupIntent> {
    const metadata = { pay_person: request.personId, pay_method: request.methodId };
    return this.call(async () => {
      const customer = customerId ?? (await this.stripe.customers.create({ metadata }, { idempotencyKey: `${request.methodId}:customer` })).id;
      return this.stripe.setupIntents.create(
        {
          customer,
          usage: 'off_session',
          allowed_payment_method_types: [account.type],
          payment_method_data: { ...account, billing_details: { name: request.holderName, ...(holderEmail === undefined ? {} : { email: holderEmail }) } },
          ...(verification === undefined ? {} : { payment_method_options: { us_bank_account: { verification_method: verification } } }),
          mandate_data: onlineAcceptance(request.mandate),
          confirm: true,
          metadata,
        },
        { idempotencyKey: `${request.methodId}:bank-setup` },
      );
    });
  }

  private async call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === 'invalid_bank_account')
        throw new BankAccountRefused('the payment provider refused this bank account: check the routing and account numbers');
      if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === 'email_invalid')
        throw new BankAccountRefused("the payment provider refused the holder's e-mail address: check it", 'holderEmail');
      throw unavailable(error);
    }
  }
}

/** Who sets an account up, and under which mandate: what every setup request carries. */
type BankSetupParty = Pick<IbanSetupRequest, 'methodId' | 'personId' | 'holderName' | 'mandate'>;

/** The account as the SetupIntent's `payment_method_data` gives it, without its holder. */
type BankAccountData = Omit<Stripe.SetupIntentCreateParams.PaymentMethodData, 'billing_details'>;

/** The payer's acceptance as Stripe takes an online one: when, from which IP address and user agent. */
const onlineAcceptance = (mandate: IbanSetupRequest['mandate']): Stripe.SetupIntentCreateParams.MandateData => ({
  customer_acceptance: {
    type: 'online',
    accepted_at: Math.floor(mandate.acceptedAt.getTime() / 1000),
    online: { ip_address: mandate.ipAddress, user_agent: mandate.userAgent },
  },
});

const idOf = (value: string | { id: string } | null | undefined): string | undefined => (typeof value === 'string' ? value : value?.id);

/** Never the SDK's message (it may quote parameters): the kind of failure only. */
const unavailable = (error: unknown): BankVerificationUnavailable =>
  new BankVerificationUnavailable(`the payment provider could not be reached or refused the request (${(error as Error)?.name ?? 'error'})`);
