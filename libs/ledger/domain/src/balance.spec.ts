import { defineAccount } from './account';
import type { Balance } from './balance';
import { applyToBalance, guardViolation, summarize, ZERO_BALANCE } from './balance';

const balance = (b: Partial<Balance>): Balance => ({ ...ZERO_BALANCE, ...b });

describe('summarize', () => {
  it('reads a credit-normal account as credits minus debits, outgoing holds not available', () => {
    expect(summarize('credit', balance({ creditsPosted: 1000n, debitsPosted: 200n, debitsPending: 300n, creditsPending: 50n }))).toEqual({
      posted: 800n,
      pendingIncoming: 50n,
      pendingOutgoing: 300n,
      available: 500n,
    });
  });

  it('reads a debit-normal account as debits minus credits', () => {
    expect(summarize('debit', balance({ debitsPosted: 1000n, creditsPosted: 1500n, creditsPending: 10n }))).toEqual({
      posted: -500n,
      pendingIncoming: 0n,
      pendingOutgoing: 10n,
      available: -510n,
    });
  });
});

describe('applyToBalance', () => {
  it('adds posted and pending amounts on their side and releases holds', () => {
    let b = applyToBalance(ZERO_BALANCE, { direction: 'debit', layer: 'pending', amount: 70n });
    b = applyToBalance(b, { direction: 'debit', layer: 'released', amount: 70n });
    b = applyToBalance(b, { direction: 'credit', layer: 'posted', amount: 5n });
    expect(b).toEqual(balance({ creditsPosted: 5n }));
  });

  it('treats releasing more than is held as a broken invariant', () => {
    expect(() => applyToBalance(ZERO_BALANCE, { direction: 'credit', layer: 'released', amount: 1n })).toThrow(/invariant/);
  });

  it('refuses totals beyond PostgreSQL bigint', () => {
    const full = balance({ creditsPosted: 9_223_372_036_854_775_807n });
    expect(() => applyToBalance(full, { direction: 'credit', layer: 'posted', amount: 1n })).toThrow(/exceed/);
  });
});

describe('guardViolation', () => {
  const wallet = defineAccount({ id: 'w', ownerType: 'person', ownerId: 'u', currency: 'EUR' });

  it('refuses a change that pushes the available balance below the minimum', () => {
    const before = balance({ creditsPosted: 100n });
    const after = balance({ creditsPosted: 100n, debitsPending: 101n });
    expect(guardViolation(wallet, before, after)?.code).toBe('INSUFFICIENT_FUNDS');
    expect(guardViolation(wallet, before, balance({ creditsPosted: 100n, debitsPosted: 100n }))).toBeUndefined();
  });

  it('lets an account with an overdraft limit go that far below zero and no further', () => {
    const merchant = defineAccount({ id: 'm', ownerType: 'merchant', ownerId: 'm', currency: 'EUR', minBalance: -50n });
    expect(guardViolation(merchant, ZERO_BALANCE, balance({ debitsPosted: 50n }))).toBeUndefined();
    expect(guardViolation(merchant, ZERO_BALANCE, balance({ debitsPosted: 51n }))?.code).toBe('INSUFFICIENT_FUNDS');
  });

  it('always accepts a change that raises the available balance', () => {
    const overdrawn = defineAccount({ id: 'm', ownerType: 'merchant', ownerId: 'm', currency: 'EUR', minBalance: -50n });
    expect(guardViolation(overdrawn, balance({ debitsPosted: 80n }), balance({ debitsPosted: 80n, creditsPosted: 10n }))).toBeUndefined();
  });

  it('never refuses an unguarded account', () => {
    const clearing = defineAccount({ id: 'c', ownerType: 'system', ownerId: 'psp', currency: 'EUR', normalSide: 'debit' });
    expect(guardViolation(clearing, ZERO_BALANCE, balance({ creditsPosted: 10n ** 12n }))).toBeUndefined();
  });
});
