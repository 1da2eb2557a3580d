import type { Direction } from './account';
import { LedgerError } from './errors';
import type { JournalEntry } from './journal-entry';
import { REVERSIBLE_KINDS } from './journal-entry';
import type { Posting, PostingInput } from './posting';

const opposite = (direction: Direction): Direction => (direction === 'debit' ? 'credit' : 'debit');
const keyOf = (accountId: string, direction: Direction, currency: string): string => `${accountId}\u0000${direction}\u0000${currency}`;

/**
 * What of `original` is still unreversed, per (account, direction of the reversal, currency),
 * in the order the original lists its postings.
 */
export function unreversedRemainder(original: JournalEntry, priorReversals: readonly JournalEntry[]): Map<string, Posting> {
  const remaining = new Map<string, Posting>();
  for (const posting of original.postings) {
    if (posting.layer !== 'posted') continue;
    const direction = opposite(posting.direction);
    const key = keyOf(posting.accountId, direction, posting.currency);
    const amount = (remaining.get(key)?.amount ?? 0n) + posting.amount;
    remaining.set(key, { accountId: posting.accountId, direction, amount, currency: posting.currency, layer: 'posted' });
  }
  for (const reversal of priorReversals) {
    for (const posting of reversal.postings) {
      const key = keyOf(posting.accountId, posting.direction, posting.currency);
      const left = remaining.get(key);
      if (left) remaining.set(key, { ...left, amount: left.amount - posting.amount });
    }
  }
  return remaining;
}

/**
 * The postings of a reversal of `original`. Rules: only transfers and posted reservations are
 * reversible (a hold is voided; a reversal is corrected by a new transfer); a reversal mirrors
 * postings of the original with the opposite direction; across all its reversals, no part of the
 * original is reversed more than once. Balance and guards are checked like any transaction.
 */
export function planReversal(original: JournalEntry, priorReversals: readonly JournalEntry[], requested: readonly PostingInput[] | undefined): Posting[] {
  if (!REVERSIBLE_KINDS.includes(original.kind)) {
    throw new LedgerError(
      'REVERSAL_NOT_ALLOWED',
      `transaction ${original.transactionId} is a ${original.kind}; only transfers and posted reservations can be reversed`,
      { transactionId: original.transactionId },
    );
  }
  const remaining = unreversedRemainder(original, priorReversals);
  if (requested === undefined) {
    const rest = [...remaining.values()].filter((p) => p.amount > 0n);
    if (rest.length === 0) {
      throw new LedgerError('REVERSAL_EXCEEDS_ORIGINAL', `transaction ${original.transactionId} is already fully reversed`, {
        transactionId: original.transactionId,
      });
    }
    return rest;
  }
  const asked = new Map<string, bigint>();
  for (const [index, posting] of requested.entries()) {
    const key = keyOf(posting.accountId, posting.direction, posting.currency);
    if (!remaining.has(key)) {
      throw new LedgerError(
        'REVERSAL_NOT_ALLOWED',
        `postings[${index}] (${posting.direction} ${posting.accountId} ${posting.currency}) does not mirror a posting of ${original.transactionId}`,
        { transactionId: original.transactionId },
      );
    }
    asked.set(key, (asked.get(key) ?? 0n) + posting.amount);
  }
  for (const [key, amount] of asked) {
    const left = remaining.get(key) as Posting;
    if (amount > left.amount) {
      throw new LedgerError(
        'REVERSAL_EXCEEDS_ORIGINAL',
        `cannot reverse ${amount} ${left.currency} on ${left.accountId}: only ${left.amount} of ${original.transactionId} is left to reverse`,
        { transactionId: original.transactionId },
      );
    }
  }
  return requested.map((posting) => ({ ...posting, layer: 'posted' }));
}
