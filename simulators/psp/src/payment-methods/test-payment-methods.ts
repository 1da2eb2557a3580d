/**
 * How a payment method behaves when a PaymentIntent is confirmed with it. The `pm_card_*` ids of
 * Stripe's test mode behave as on Stripe; the last three are the simulator's own, for failures
 * Stripe's test mode cannot produce on demand.
 */
export type CardBehaviour =
  | { readonly kind: 'approve' }
  | { readonly kind: 'decline'; readonly code: string; readonly declineCode: string; readonly message: string; readonly adviceCode?: string }
  /**
   * 3-D Secure: requires_action when the payer is present, an authentication_required decline
   * off-session — unless `onceSetUp` and the card was authenticated when a SetupIntent saved it
   * (Stripe's `pm_card_authenticationRequiredOnSetup`, 4000 0025 0000 3155): then off-session approves.
   */
  | { readonly kind: 'authenticate'; readonly onceSetUp?: true }
  /** Stays `processing` until completed through the control API (bank debits, delayed methods). */
  | { readonly kind: 'processing' }
  /** The charge goes through, but the first answer to each idempotency key is a 500 (the response was lost). */
  | { readonly kind: 'approve_then_5xx' }
  /**
   * The charge goes through, but the first answer to each idempotency key is held past any client
   * timeout; a retry with the key gets the saved answer at once.
   */
  | { readonly kind: 'approve_then_hang' }
  /**
   * A bank debit (SEPA Direct Debit, ACH): `processing` at once, then the bank answers after the
   * simulator's debit delay in simulated time (or on command): settled, or failed with `failureCode`.
   */
  | { readonly kind: 'debit'; readonly type: 'sepa_debit' | 'us_bank_account'; readonly outcome: 'succeeded' | 'failed'; readonly failureCode?: string };

export interface TestPaymentMethod {
  readonly brand: string;
  readonly last4: string;
  readonly behaviour: CardBehaviour;
}

const approve: CardBehaviour = { kind: 'approve' };
const decline = (declineCode: string, message: string, code = 'card_declined', adviceCode?: string): CardBehaviour => ({
  kind: 'decline',
  code,
  declineCode,
  message,
  ...(adviceCode ? { adviceCode } : {}),
});

export const TEST_PAYMENT_METHODS: Readonly<Record<string, TestPaymentMethod>> = {
  pm_card_visa: { brand: 'visa', last4: '4242', behaviour: approve },
  pm_card_visa_debit: { brand: 'visa', last4: '5556', behaviour: approve },
  pm_card_mastercard: { brand: 'mastercard', last4: '4444', behaviour: approve },
  pm_card_amex: { brand: 'amex', last4: '8431', behaviour: approve },
  pm_card_chargeDeclined: { brand: 'visa', last4: '0002', behaviour: decline('generic_decline', 'Your card was declined.') },
  pm_card_chargeDeclinedInsufficientFunds: {
    brand: 'visa',
    last4: '9995',
    behaviour: decline('insufficient_funds', 'Your card has insufficient funds.', 'card_declined', 'try_again_later'),
  },
  pm_card_chargeDeclinedLostCard: {
    brand: 'visa',
    last4: '9987',
    behaviour: decline('lost_card', 'Your card was declined.', 'card_declined', 'do_not_try_again'),
  },
  pm_card_chargeDeclinedStolenCard: {
    brand: 'visa',
    last4: '9979',
    behaviour: decline('stolen_card', 'Your card was declined.', 'card_declined', 'do_not_try_again'),
  },
  pm_card_chargeDeclinedFraudulent: { brand: 'visa', last4: '0019', behaviour: decline('fraudulent', 'Your card was declined.') },
  pm_card_chargeDeclinedExpiredCard: { brand: 'visa', last4: '0069', behaviour: decline('expired_card', 'Your card has expired.', 'expired_card') },
  pm_card_chargeDeclinedIncorrectCvc: {
    brand: 'visa',
    last4: '0127',
    behaviour: decline('incorrect_cvc', "Your card's security code is incorrect.", 'incorrect_cvc'),
  },
  pm_card_chargeDeclinedProcessingError: {
    brand: 'visa',
    last4: '0119',
    behaviour: decline('processing_error', 'An error occurred while processing your card. Try again in a little bit.', 'processing_error'),
  },
  pm_card_authenticationRequired: { brand: 'visa', last4: '3184', behaviour: { kind: 'authenticate' } },
  pm_card_authenticationRequiredOnSetup: { brand: 'visa', last4: '3155', behaviour: { kind: 'authenticate', onceSetUp: true } },
  pm_card_processing: { brand: 'visa', last4: '0077', behaviour: { kind: 'processing' } },
  pm_card_5xx: { brand: 'visa', last4: '0500', behaviour: { kind: 'approve_then_5xx' } },
  pm_card_timeout: { brand: 'visa', last4: '0408', behaviour: { kind: 'approve_then_hang' } },
  pm_sepaDebit: { brand: 'sepa_debit', last4: '3000', behaviour: { kind: 'debit', type: 'sepa_debit', outcome: 'succeeded' } },
  pm_sepaDebit_fails: {
    brand: 'sepa_debit',
    last4: '3001',
    behaviour: { kind: 'debit', type: 'sepa_debit', outcome: 'failed', failureCode: 'insufficient_funds' },
  },
  pm_usBankAccount: { brand: 'us_bank_account', last4: '6789', behaviour: { kind: 'debit', type: 'us_bank_account', outcome: 'succeeded' } },
  pm_usBankAccount_fails: {
    brand: 'us_bank_account',
    last4: '1116',
    behaviour: { kind: 'debit', type: 'us_bank_account', outcome: 'failed', failureCode: 'insufficient_funds' },
  },
  // Stripe's test PaymentMethods whose ACH debit fails for good (the account cannot be debited again).
  pm_usBankAccount_accountClosed: {
    brand: 'us_bank_account',
    last4: '1113',
    behaviour: { kind: 'debit', type: 'us_bank_account', outcome: 'failed', failureCode: 'account_closed' },
  },
  pm_usBankAccount_noAccount: {
    brand: 'us_bank_account',
    last4: '1116',
    behaviour: { kind: 'debit', type: 'us_bank_account', outcome: 'failed', failureCode: 'no_account' },
  },
  pm_usBankAccount_debitNotAuthorized: {
    brand: 'us_bank_account',
    last4: '3335',
    behaviour: { kind: 'debit', type: 'us_bank_account', outcome: 'failed', failureCode: 'debit_not_authorized' },
  },
};

/**
 * The method behind a `payment_method` id. Unknown `pm_card_*` ids are refused like Stripe refuses
 * unknown test payment methods; a saved card given an alias behaves like its test payment method
 * (so any saved card can decline or time out); any other PaymentMethod, card or source id
 * (`pm_…`, `card_…`, `src_…`) approves. A token (`tok_…`) is no PaymentMethod: Stripe answers
 * `No such PaymentMethod` to one given as `payment_method`; it is accepted only as
 * `payment_method_data[card][token]` (cardTokenBehaviour).
 */
export function findPaymentMethod(id: string, aliases?: ReadonlyMap<string, string>): TestPaymentMethod | undefined {
  if (Object.hasOwn(TEST_PAYMENT_METHODS, id)) return TEST_PAYMENT_METHODS[id];
  const alias = aliases?.get(id);
  if (alias !== undefined && Object.hasOwn(TEST_PAYMENT_METHODS, alias)) return TEST_PAYMENT_METHODS[alias];
  if (id.startsWith('pm_card_') || !/^(pm|card|src)_[A-Za-z0-9_]{1,100}$/.test(id)) return undefined;
  return { brand: 'visa', last4: '4242', behaviour: approve };
}

/**
 * The test payment method a card token behaves like, for the PaymentMethod Stripe makes of it:
 * Stripe's test tokens like their payment methods (`tok_visa` like `pm_card_visa`,
 * `tok_chargeDeclined` like `pm_card_chargeDeclined`), any other token (`tok_us`, a real-looking
 * `tok_1N3T…`) like `pm_card_visa`; undefined for what is not a token.
 */
export function cardTokenBehaviour(token: string): string | undefined {
  const name = /^tok_([A-Za-z0-9_]{1,100})$/.exec(token)?.[1];
  if (name === undefined) return undefined;
  return Object.hasOwn(TEST_PAYMENT_METHODS, `pm_card_${name}`) ? `pm_card_${name}` : 'pm_card_visa';
}

/** Stripe's test IBANs whose debit fails after processing (insufficient funds); any other IBAN settles. */
const FAILING_TEST_IBANS: ReadonlySet<string> = new Set(['DE62370400440532013001', 'AT861904300235473202']);
/**
 * Stripe's test US accounts whose ACH debit fails, and the test PaymentMethod each debits like:
 * R01 insufficient funds, R02 account closed, R03 no account, R05/R07 debit not authorised. Any
 * other account settles.
 */
const FAILING_TEST_US_ACCOUNTS: ReadonlyMap<string, string> = new Map([
  ['000222222227', 'pm_usBankAccount_fails'],
  ['000111111113', 'pm_usBankAccount_accountClosed'],
  ['000111111116', 'pm_usBankAccount_noAccount'],
  ['000333333335', 'pm_usBankAccount_debitNotAuthorized'],
]);

/**
 * The test payment method a bank account given as `payment_method_data` behaves like (the
 * PaymentMethod Stripe makes of it debits as `pm_sepaDebit` or `pm_usBankAccount`, or their
 * failing twins for Stripe's failing test account numbers); a reason when the account is not one.
 */
export function bankAccountBehaviour(
  type: 'sepa_debit' | 'us_bank_account',
  account: { readonly iban?: string; readonly routingNumber?: string; readonly accountNumber?: string },
): { readonly behavesLike: string } | { readonly invalid: string; readonly param: string } {
  if (type === 'sepa_debit') {
    const iban = (account.iban ?? '').replace(/\s/g, '').toUpperCase();
    if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(iban))
      return { invalid: 'The IBAN you provided appears to be invalid.', param: 'payment_method_data[sepa_debit][iban]' };
    return { behavesLike: FAILING_TEST_IBANS.has(iban) ? 'pm_sepaDebit_fails' : 'pm_sepaDebit' };
  }
  if (!/^\d{9}$/.test(account.routingNumber ?? ''))
    return { invalid: 'Invalid routing number.', param: 'payment_method_data[us_bank_account][routing_number]' };
  if (!/^\d{4,17}$/.test(account.accountNumber ?? ''))
    return { invalid: 'Invalid account number.', param: 'payment_method_data[us_bank_account][account_number]' };
  return { behavesLike: FAILING_TEST_US_ACCOUNTS.get(account.accountNumber ?? '') ?? 'pm_usBankAccount' };
}
