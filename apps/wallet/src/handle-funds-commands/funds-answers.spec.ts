import { LEDGER_ERROR_CODES } from '@pay/ledger-domain';
import { answerToRefusal } from './funds-answers';

describe('answerToRefusal', () => {
  it('answers balance and amount refusals with the contract codes', () => {
    expect(answerToRefusal('reserve', 'INSUFFICIENT_FUNDS')).toBe('INSUFFICIENT_FUNDS');
    expect(answerToRefusal('reserve', 'ACCOUNT_NOT_FOUND')).toBe('ACCOUNT_NOT_FOUND');
    expect(answerToRefusal('reserve', 'CURRENCY_MISMATCH')).toBe('CURRENCY_MISMATCH');
    expect(answerToRefusal('reserve', 'AMOUNT_TOO_LARGE')).toBe('INVALID_AMOUNT');
    expect(answerToRefusal('post', 'AMOUNT_EXCEEDS_RESERVATION')).toBe('INVALID_AMOUNT');
  });

  it('tells orchestration there is no hold to post when it is resolved, expired or was never made', () => {
    expect(answerToRefusal('post', 'RESERVATION_EXPIRED')).toBe('RESERVATION_EXPIRED');
    expect(answerToRefusal('post', 'RESERVATION_NOT_PENDING')).toBe('RESERVATION_NOT_PENDING');
    expect(answerToRefusal('post', 'RESERVATION_NOT_FOUND')).toBe('RESERVATION_NOT_PENDING');
    expect(answerToRefusal('void', 'RESERVATION_NOT_PENDING')).toBe('RESERVATION_NOT_PENDING');
  });

  it('answers a return (refund of a posted transfer) that the recipient no longer covers, that exceeds the transfer, or of a transfer never posted', () => {
    expect(answerToRefusal('return', 'INSUFFICIENT_FUNDS')).toBe('INSUFFICIENT_FUNDS');
    expect(answerToRefusal('return', 'REVERSAL_EXCEEDS_ORIGINAL')).toBe('INVALID_AMOUNT');
    expect(answerToRefusal('return', 'TRANSACTION_NOT_FOUND')).toBe('RESERVATION_NOT_PENDING');
    expect(answerToRefusal('post', 'REVERSAL_EXCEEDS_ORIGINAL')).toBeUndefined();
  });

  it('confirms a void that finds the hold expired: it is released, nothing moved', () => {
    expect(answerToRefusal('void', 'RESERVATION_EXPIRED')).toBe('voided');
  });

  it('gives no answer for faults (they are dead-lettered with the reason)', () => {
    for (const code of ['IDEMPOTENCY_CONFLICT', 'INVALID_INPUT', 'UNBALANCED', 'TRANSACTION_NOT_FOUND'] as const) {
      expect(answerToRefusal('reserve', code)).toBeUndefined();
    }
    // Every ledger code is decided one way or the other.
    for (const code of LEDGER_ERROR_CODES) expect(() => answerToRefusal('post', code)).not.toThrow();
  });
});
