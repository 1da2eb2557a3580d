import { economy, eur } from './__fixtures__/ledger-fixtures';
import type { CommandOutcome } from './ledger-batch';

const codeOf = (outcome: CommandOutcome | undefined): string => (outcome?.ok ? 'OK' : (outcome?.error.code ?? 'none'));

function purchase() {
  const ledger = economy();
  ledger.execute({ type: 'transfer', transactionId: 'fund', postings: [eur('clearing-eur', 'debit', 1000n), eur('alice', 'credit', 1000n)] });
  ledger.execute({ type: 'transfer', transactionId: 'buy', postings: [eur('alice', 'debit', 300n), eur('shop', 'credit', 290n), eur('fees', 'credit', 10n)] });
  return ledger;
}

describe('reversals', () => {
  it('a full reversal mirrors the original and references it', () => {
    const ledger = purchase();
    const outcome = ledger.execute({ type: 'reverse', transactionId: 'refund', reverses: 'buy' });
    expect(outcome).toMatchObject({ ok: true, entry: { kind: 'reversal', reverses: 'buy' } });
    expect(outcome.ok && outcome.entry.postings.map((p) => `${p.direction} ${p.accountId} ${p.amount}`)).toEqual([
      'credit alice 300',
      'debit shop 290',
      'debit fees 10',
    ]);
    expect(ledger.summary('alice').posted).toBe(1000n);
    expect(ledger.summary('shop').posted).toBe(0n);
  });

  it('reverses in parts, never more than the original in total', () => {
    const ledger = purchase();
    const part = (id: string, amount: bigint) =>
      ledger.execute({ type: 'reverse', transactionId: id, reverses: 'buy', postings: [eur('shop', 'debit', amount), eur('alice', 'credit', amount)] });
    expect(codeOf(part('refund-1', 200n))).toBe('OK');
    expect(codeOf(part('refund-2', 91n))).toBe('REVERSAL_EXCEEDS_ORIGINAL');
    expect(codeOf(part('refund-3', 90n))).toBe('OK');
    // What is left is the fee: the rest of a full reversal.
    const rest = ledger.execute({ type: 'reverse', transactionId: 'refund-4', reverses: 'buy' });
    expect(rest.ok && rest.entry.postings.map((p) => `${p.direction} ${p.accountId} ${p.amount}`)).toEqual(['credit alice 10', 'debit fees 10']);
    expect(codeOf(ledger.execute({ type: 'reverse', transactionId: 'refund-5', reverses: 'buy' }))).toBe('REVERSAL_EXCEEDS_ORIGINAL');
  });

  it('refuses postings that do not mirror the original', () => {
    const ledger = purchase();
    const outcome = ledger.execute({ type: 'reverse', transactionId: 'r', reverses: 'buy', postings: [eur('shop', 'credit', 5n), eur('alice', 'debit', 5n)] });
    expect(codeOf(outcome)).toBe('REVERSAL_NOT_ALLOWED');
  });

  it('applies balance guards: a refund cannot take back money the merchant has already paid out', () => {
    const ledger = purchase();
    ledger.execute({ type: 'transfer', transactionId: 'payout', postings: [eur('shop', 'debit', 290n), eur('clearing-eur', 'credit', 290n)] });
    expect(codeOf(ledger.execute({ type: 'reverse', transactionId: 'refund', reverses: 'buy' }))).toBe('INSUFFICIENT_FUNDS');
  });

  it('only transfers and posted reservations can be reversed', () => {
    const ledger = purchase();
    ledger.execute({ type: 'reverse', transactionId: 'refund', reverses: 'buy' });
    expect(codeOf(ledger.execute({ type: 'reverse', transactionId: 'again', reverses: 'refund' }))).toBe('REVERSAL_NOT_ALLOWED');
    expect(codeOf(ledger.execute({ type: 'reverse', transactionId: 'ghost', reverses: 'nothing' }))).toBe('TRANSACTION_NOT_FOUND');
  });

  it('reverses a posted reservation by its post entry', () => {
    const ledger = purchase();
    ledger.execute({
      type: 'reserve',
      transactionId: 'hold',
      debitAccountId: 'alice',
      creditAccountId: 'shop',
      amount: 100n,
      currency: 'EUR',
      expiresAt: new Date('2030-01-01'),
    });
    ledger.execute({ type: 'post_reservation', reservationId: 'hold', amount: 60n });
    expect(codeOf(ledger.execute({ type: 'reverse', transactionId: 'undo-hold', reverses: 'hold' }))).toBe('REVERSAL_NOT_ALLOWED');
    expect(codeOf(ledger.execute({ type: 'reverse', transactionId: 'undo-post', reverses: 'hold:post' }))).toBe('OK');
    expect(ledger.summary('alice').posted).toBe(700n);
  });
});
