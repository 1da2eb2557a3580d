import {
  BANK_ACCOUNT_UNUSABLE_CODES,
  BANK_DEBIT_FAILURE_CODES,
  isBankAccountUnusableCode,
  PAYMENT_FAILURE_CODES,
  paymentFailureCodeOf,
} from './payment-failure-codes';

describe('bank debit failure codes', () => {
  it('a closed, unknown or unauthorised account is unusable; no funds today or a processing error is not', () => {
    for (const code of ['account_closed', 'no_account', 'debit_not_authorized', 'invalid_account_number']) expect(isBankAccountUnusableCode(code)).toBe(true);
    for (const code of ['insufficient_funds', 'could_not_process', 'card_declined', 'payment_failed']) expect(isBankAccountUnusableCode(code)).toBe(false);
  });

  it('every unusable code is a bank debit failure, and every bank debit failure is a payment failure history shows', () => {
    for (const code of BANK_ACCOUNT_UNUSABLE_CODES) expect(BANK_DEBIT_FAILURE_CODES).toContain(code);
    for (const code of BANK_DEBIT_FAILURE_CODES) expect(PAYMENT_FAILURE_CODES).toContain(code);
  });

  it('history shows a code it does not know as payment_failed, never the provider string', () => {
    expect(paymentFailureCodeOf('account_closed')).toBe('account_closed');
    expect(paymentFailureCodeOf('bank_account_unusable')).toBe('bank_account_unusable');
    expect(paymentFailureCodeOf('a_code_from_tomorrow')).toBe('payment_failed');
  });
});
