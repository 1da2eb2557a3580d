import Stripe from 'stripe';
import type {
  BankAccountSetup,
  BankAccountSetupRequest,
  BankAccountVerifier,
  IbanSetupRequest,
  MicrodepositProof,
  MicrodepositVerdict,
  SavedBankAccount,
} from '../ports/bank-account-verifier';
import { BankAccountRefused, BankVerificationUnavailable } from '../ports/bank-account-verifier';

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
    const metadata = { pay_person: request.personId, pay_method: request.methodId };
    const intent = await this.call(async () => {
      const customer = await this.stripe.customers.create({ metadata }, { idempotencyKey: `${request.methodId}:customer` });
      return this.stripe.setupIntents.create(
        {
          customer: customer.id,
          usage: 'off_session',
          allowed_payment_method_types: ['sepa_debit'],
          payment_method_data: { type: 'sepa_debit', sepa_debit: { iban: request.iban }, billing_details: { name: request.holderName } },
          mandate_data: onlineAcceptance(request.mandate),
          confirm: true,
          metadata,
        },
        { idempotencyKey: `${request.methodId}:bank-setup` },
      );
    });
    const paymentMethodId = idOf(intent.payment_method);
    const customerId = idOf(intent.customer);
    const mandateId = idOf(intent.mandate);
    if (intent.status !== 'succeeded' || !paymentMethodId || !customerId || !mandateId)
      throw new BankVerificationUnavailable(`the PSP answered the IBAN setup with status ${intent.status}, not a saved debit`);
    return { setupId: intent.id, paymentMethodId, customerId, mandateId };
  }

  async start(request: BankAccountSetupRequest): Promise<BankAccountSetup> {
    const metadata = { pay_person: request.personId, pay_method: request.methodId };
    const intent = await this.call(async () => {
      const customer = await this.stripe.customers.create({ metadata }, { idempotencyKey: `${request.methodId}:customer` });
      return this.stripe.setupIntents.create(
        {
          customer: customer.id,
          usage: 'off_session',
          allowed_payment_method_types: ['us_bank_account'],
          payment_method_data: {
            type: 'us_bank_account',
            us_bank_account: {
              routing_number: request.routingNumber,
              account_number: request.accountNumber,
              account_type: request.accountType,
              account_holder_type: 'individual',
            },
            billing_details: { name: request.holderName },
          },
          payment_method_options: { us_bank_account: { verification_method: 'microdeposits' } },
          mandate_data: onlineAcceptance(request.mandate),
          confirm: true,
          metadata,
        },
        { idempotencyKey: `${request.methodId}:bank-setup` },
      );
    });
    const next = intent.next_action?.verify_with_microdeposits;
    const paymentMethodId = typeof intent.payment_method === 'string' ? intent.payment_method : intent.payment_method?.id;
    const customerId = typeof intent.customer === 'string' ? intent.customer : intent.customer?.id;
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

  private async call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === 'invalid_bank_account')
        throw new BankAccountRefused('the payment provider refused this bank account: check the routing and account numbers');
      throw unavailable(error);
    }
  }
}

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
