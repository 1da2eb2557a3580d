/**
 * Why a payer's bank refused or returned a bank debit (SEPA Direct Debit, ACH), in Stripe's words
 * (a failed debit's `last_payment_error.code`, its charge's `failure_code`): the `code` of
 * `payments.payment.failed` for a debit that failed late, and the `reason` of the dispute a return
 * after settlement is recorded as. ACH return codes R01/R09 are `insufficient_funds`, R02
 * `account_closed`, R03 `no_account`, R04 `invalid_account_number`, R05/R07/R10 `debit_not_authorized`,
 * R16 `account_frozen`; SEPA's AM04, AC04, AC01, MD01/MS02 likewise.
 */
export const BANK_DEBIT_FAILURE_CODES = [
  'insufficient_funds',
  'account_closed',
  'no_account',
  'invalid_account_number',
  'debit_not_authorized',
  'account_frozen',
  'bank_account_restricted',
  'bank_ownership_changed',
  'could_not_process',
] as const;
export type BankDebitFailureCode = (typeof BANK_DEBIT_FAILURE_CODES)[number];

/**
 * The bank debit failures after which the account cannot be debited again (closed, not found,
 * frozen or restricted, or its owner revoked the mandate): the wallet marks the saved account
 * unusable and the person replaces it. The others (no funds today, a processing error) may pass
 * next time, so the account stays usable.
 */
export const BANK_ACCOUNT_UNUSABLE_CODES = [
  'account_closed',
  'no_account',
  'invalid_account_number',
  'debit_not_authorized',
  'account_frozen',
  'bank_account_restricted',
  'bank_ownership_changed',
] as const satisfies readonly BankDebitFailureCode[];
export type BankAccountUnusableCode = (typeof BANK_ACCOUNT_UNUSABLE_CODES)[number];

export function isBankAccountUnusableCode(code: string): code is BankAccountUnusableCode {
  return (BANK_ACCOUNT_UNUSABLE_CODES as readonly string[]).includes(code);
}

/**
 * Why a payment failed, as a person's or a business's history shows it: the codes that
 * `payments.payment.failed` carries (the bank's, the card network's in Stripe's words, the
 * wallet's and orchestration's own refusals). Any other code is shown as `payment_failed`: the
 * history never repeats an unknown provider string.
 */
export const PAYMENT_FAILURE_CODES = [
  ...BANK_DEBIT_FAILURE_CODES,
  'card_declined',
  'expired_card',
  'incorrect_cvc',
  'processing_error',
  'authentication_required',
  'authentication_failed',
  'payment_intent_authentication_failure',
  'capture_declined',
  'bank_account_unverified',
  'bank_account_needs_resaving',
  'bank_account_unusable',
  'bank_mandate_missing',
  'payment_method_removed',
  'payment_method_not_supported',
  'payment_method_missing',
  'payment_failed',
] as const;
export type PaymentFailureCode = (typeof PAYMENT_FAILURE_CODES)[number];

/** The code as history shows it: itself when enumerated above, else `payment_failed`. */
export function paymentFailureCodeOf(code: string): PaymentFailureCode {
  return (PAYMENT_FAILURE_CODES as readonly string[]).includes(code) ? (code as PaymentFailureCode) : 'payment_failed';
}
