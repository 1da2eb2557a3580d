/**
 * The PSP's side of a saved bank account: the account is set up once on a customer of its own
 * under the mandate the person accepted — an IBAN (SEPA Direct Debit) at once, a US account (ACH)
 * verified by micro-deposits before it may be debited (Stripe: a SetupIntent, `succeeded` or with
 * `verify_with_microdeposits`). The wallet keeps what comes back sealed with the account;
 * orchestration debits the PSP's PaymentMethod with its customer, never the numbers again.
 */
export interface BankAccountVerifier {
  /** Saves an IBAN at the PSP for SEPA Direct Debit. The same `methodId` never sets up twice. */
  saveIban(request: IbanSetupRequest): Promise<SavedBankAccount>;
  /** Sets the account up at the PSP and has micro-deposits sent. The same `methodId` never sets up twice. */
  start(request: BankAccountSetupRequest): Promise<BankAccountSetup>;
  /**
   * Saves a US account the person linked at their bank in a Financial Connections session of
   * theirs (`BankConnectionNotFound` for another's or an unknown one, `BankConnectionIncomplete`
   * when nothing was linked): verified by the link, no micro-deposits.
   */
  saveConnectedAccount(request: ConnectedAccountSetupRequest): Promise<ConnectedBankAccount>;
  /** Checks what the person read on their statement. */
  verify(setupId: string, proof: MicrodepositProof): Promise<MicrodepositVerdict>;
}

export interface BankAccountSetupRequest {
  /** Our id of the method being saved: the PSP's idempotency key and metadata. */
  readonly methodId: string;
  readonly personId: string;
  readonly routingNumber: string;
  readonly accountNumber: string;
  readonly accountType: 'checking' | 'savings';
  readonly holderName: string;
  /** The payer's online acceptance of the debit mandate. */
  readonly mandate: { readonly acceptedAt: Date; readonly ipAddress: string; readonly userAgent: string };
}

export interface IbanSetupRequest {
  /** Our id of the method being saved: the PSP's idempotency key and metadata. */
  readonly methodId: string;
  readonly personId: string;
  readonly iban: string;
  readonly holderName: string;
  /** SEPA requires the holder's e-mail on the PaymentMethod; the PSP keeps it, the wallet does not. */
  readonly holderEmail: string;
  /** The payer's online acceptance of the debit mandate. */
  readonly mandate: { readonly acceptedAt: Date; readonly ipAddress: string; readonly userAgent: string };
}

/** A bank account the PSP holds: its PaymentMethod on its customer, debited under the mandate it was saved with. */
export interface SavedBankAccount {
  readonly setupId: string;
  readonly paymentMethodId: string;
  readonly customerId: string;
  readonly mandateId: string;
}

export interface ConnectedAccountSetupRequest {
  readonly methodId: string;
  readonly personId: string;
  /** The Financial Connections session (`fcsess_…`) the person linked the account in. */
  readonly sessionId: string;
  readonly holderName: string;
  readonly mandate: { readonly acceptedAt: Date; readonly ipAddress: string; readonly userAgent: string };
}

/** A linked account as the PSP saved it: what the bank told it (never the account number), and its PaymentMethod on its customer. */
export interface ConnectedBankAccount extends SavedBankAccount {
  readonly last4: string;
  readonly routingNumber: string;
  readonly accountType: 'checking' | 'savings';
}

export interface BankAccountSetup {
  /** The PSP's setup (Stripe: `seti_…`), which verification names. */
  readonly setupId: string;
  readonly paymentMethodId: string;
  readonly customerId: string;
  /** What the person will find on their statement: a descriptor code (SM…) or two small amounts. */
  readonly microdepositType: 'descriptor_code' | 'amounts';
  /** When the micro-deposits are expected. */
  readonly arrivesAt: Date;
}

export type MicrodepositProof = { readonly descriptorCode: string } | { readonly amounts: readonly [number, number] };

export type MicrodepositVerdict =
  | { readonly outcome: 'verified' }
  /** Wrong code or amounts: the person may try again. */
  | { readonly outcome: 'mismatch' }
  /** Too many wrong tries: the account can no longer be verified (save it again). */
  | { readonly outcome: 'attempts_exceeded' }
  /** The PSP says the setup is not waiting for micro-deposits (verified or ended already). */
  | { readonly outcome: 'not_awaiting' };

/** The PSP cannot be reached or refused our credentials: nothing was decided, try later. */
export class BankVerificationUnavailable extends Error {
  override name = 'BankVerificationUnavailable';
}

/** The PSP refused the account itself (e.g. an unknown routing number). */
export class BankAccountRefused extends Error {
  override name = 'BankAccountRefused';

  /** The request's field the PSP refused, when not the account itself (e.g. `holderEmail`). */
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** No Financial Connections session of this person's by that id. */
export class BankConnectionNotFound extends Error {
  override name = 'BankConnectionNotFound';
}

/** The session has no linked account (the person cancelled, or has not finished at their bank). */
export class BankConnectionIncomplete extends Error {
  override name = 'BankConnectionIncomplete';
}

export const BANK_ACCOUNT_VERIFIER = Symbol('BankAccountVerifier');
