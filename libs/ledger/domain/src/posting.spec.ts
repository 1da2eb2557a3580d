import { LedgerError } from './errors';
import type { Posting } from './posting';
import { assertAccountsMatch, assertBalanced, validatePostingInputs } from './posting';
import { defineAccount } from './account';

const p = (accountId: string, direction: 'debit' | 'credit', amount: bigint, currency = 'EUR', layer: Posting['layer'] = 'posted'): Posting => ({
  accountId,
  direction,
  amount,
  currency,
  layer,
});

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof LedgerError ? error.code : 'not a LedgerError';
  }
  return undefined;
}

describe('assertBalanced', () => {
  it('accepts debits equal to credits in each currency', () => {
    expect(() =>
      assertBalanced([p('a', 'debit', 10n), p('b', 'credit', 7n), p('c', 'credit', 3n), p('x', 'debit', 5n, 'USD'), p('y', 'credit', 5n, 'USD')]),
    ).not.toThrow();
  });

  it('refuses an entry that balances only across currencies, naming the currency', () => {
    expect(() => assertBalanced([p('a', 'debit', 10n), p('b', 'credit', 10n, 'USD')])).toThrow(
      'debits must equal credits in every currency: EUR: debits exceed credits by 10; USD: credits exceed debits by 10',
    );
  });

  it('checks each layer on its own', () => {
    expect(codeOf(() => assertBalanced([p('a', 'debit', 10n, 'EUR', 'pending'), p('b', 'credit', 10n)]))).toBe('UNBALANCED');
  });
});

describe('validatePostingInputs', () => {
  it('refuses fewer than two postings, zero, negative and non-bigint amounts', () => {
    expect(() => validatePostingInputs([p('a', 'debit', 1n)])).toThrow(/between 2 and 128/);
    expect(() => validatePostingInputs([p('a', 'debit', 0n), p('b', 'credit', 0n)])).toThrow(/greater than zero/);
    expect(() => validatePostingInputs([p('a', 'debit', -5n), p('b', 'credit', -5n)])).toThrow(/greater than zero/);
    expect(() => validatePostingInputs([{ ...p('a', 'debit', 1n), amount: 1.5 }, p('b', 'credit', 1n)])).toThrow(/bigint/);
    expect(() => validatePostingInputs([{ ...p('a', 'debit', 1n), direction: 'up' }, p('b', 'credit', 1n)])).toThrow(/debit or credit/);
  });
});

describe('assertAccountsMatch', () => {
  const accounts = new Map([['a', defineAccount({ id: 'a', ownerType: 'merchant', ownerId: 'm', currency: 'EUR' })]]);
  it('refuses unknown accounts and postings in another currency than the account', () => {
    expect(codeOf(() => assertAccountsMatch([p('zzz', 'debit', 1n)], (id) => accounts.get(id)))).toBe('ACCOUNT_NOT_FOUND');
    expect(codeOf(() => assertAccountsMatch([p('a', 'debit', 1n, 'USD')], (id) => accounts.get(id)))).toBe('CURRENCY_MISMATCH');
  });
});
