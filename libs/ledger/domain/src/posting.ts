import type { Account, Direction } from './account';
import { DIRECTIONS } from './account';
import type { Layer } from './balance';
import { invalidInput, LedgerError } from './errors';
import { assertCurrency, assertId, assertPositiveAmount } from './values';

/** One line of a journal entry: an amount moved on one side of one account, in one layer. */
export interface Posting {
  readonly accountId: string;
  readonly direction: Direction;
  readonly amount: bigint;
  readonly currency: string;
  readonly layer: Layer;
}

/** A posting as a client asks for it; the layer follows from the kind of transaction. */
export interface PostingInput {
  readonly accountId: string;
  readonly direction: Direction;
  readonly amount: bigint;
  readonly currency: string;
}

export const MIN_POSTINGS = 2;
export const MAX_POSTINGS = 128;

export function validatePostingInputs(postings: unknown, field = 'postings'): PostingInput[] {
  if (!Array.isArray(postings)) throw invalidInput(`${field} must be a list of postings`);
  if (postings.length < MIN_POSTINGS || postings.length > MAX_POSTINGS) {
    throw invalidInput(`${field} must hold between ${MIN_POSTINGS} and ${MAX_POSTINGS} postings, got ${postings.length}`);
  }
  return postings.map((raw: unknown, index) => {
    const posting = (raw ?? {}) as Partial<PostingInput>;
    const at = `${field}[${index}]`;
    if (!DIRECTIONS.includes(posting.direction as Direction)) throw invalidInput(`${at}.direction must be debit or credit`);
    return {
      accountId: assertId(posting.accountId, `${at}.accountId`),
      direction: posting.direction as Direction,
      amount: assertPositiveAmount(posting.amount, `${at}.amount`),
      currency: assertCurrency(posting.currency, `${at}.currency`),
    };
  });
}

export function withLayer(postings: readonly PostingInput[], layer: Layer): Posting[] {
  return postings.map((posting) => ({ ...posting, layer }));
}

/** Debits minus credits for each currency and layer; all zero for a balanced entry. */
export function imbalances(postings: readonly Posting[]): Map<string, bigint> {
  const sums = new Map<string, bigint>();
  for (const posting of postings) {
    const key = `${posting.currency}/${posting.layer}`;
    const signed = posting.direction === 'debit' ? posting.amount : -posting.amount;
    sums.set(key, (sums.get(key) ?? 0n) + signed);
  }
  return sums;
}

/** Double entry: in every currency (and every layer), debits equal credits. */
export function assertBalanced(postings: readonly Posting[]): void {
  const off = [...imbalances(postings)].filter(([, sum]) => sum !== 0n);
  if (off.length === 0) return;
  const detail = off
    .map(([key, sum]) => {
      const [currency, layer] = key.split('/');
      const where = layer === 'posted' ? currency : `${currency} (${layer})`;
      return sum > 0n ? `${where}: debits exceed credits by ${sum}` : `${where}: credits exceed debits by ${-sum}`;
    })
    .join('; ');
  throw new LedgerError('UNBALANCED', `debits must equal credits in every currency: ${detail}`);
}

/** Every posting names an open account of the same currency. */
export function assertAccountsMatch(postings: readonly Posting[], accountOf: (id: string) => Account | undefined): void {
  for (const posting of postings) {
    const account = accountOf(posting.accountId);
    if (!account) throw new LedgerError('ACCOUNT_NOT_FOUND', `account ${posting.accountId} does not exist`, { accountId: posting.accountId });
    if (account.currency !== posting.currency) {
      throw new LedgerError('CURRENCY_MISMATCH', `account ${account.id} holds ${account.currency}; a posting in ${posting.currency} cannot touch it`, {
        accountId: account.id,
      });
    }
  }
}
