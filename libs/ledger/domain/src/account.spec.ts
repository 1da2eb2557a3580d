import { defineAccount, sameAccountDefinition } from './account';
import { LedgerError } from './errors';
import { InMemoryLedger } from './in-memory-ledger';

describe('defineAccount', () => {
  it("gives a person's wallet a credit normal side and a guard at zero", () => {
    const account = defineAccount({ id: 'w-1', ownerType: 'person', ownerId: 'u-1', currency: 'EUR' });
    expect(account).toMatchObject({ normalSide: 'credit', minBalance: 0n, metadata: {} });
  });

  it("refuses to open a person's wallet without a guard, or with an overdraft", () => {
    for (const minBalance of [null, -1n]) {
      expect(() => defineAccount({ id: 'w-1', ownerType: 'person', ownerId: 'u-1', currency: 'EUR', minBalance })).toThrow(
        /person's account never goes below zero/,
      );
    }
  });

  it('takes a guard as 0 or an overdraft limit, never a positive minimum', () => {
    expect(defineAccount({ id: 'm', ownerType: 'merchant', ownerId: 'm', currency: 'EUR', minBalance: -500n }).minBalance).toBe(-500n);
    expect(() => defineAccount({ id: 'm', ownerType: 'merchant', ownerId: 'm', currency: 'EUR', minBalance: 1n })).toThrow(/0 or negative/);
  });

  it('leaves system accounts unguarded but makes them state their normal side', () => {
    expect(() => defineAccount({ id: 'clearing', ownerType: 'system', ownerId: 'psp', currency: 'EUR' })).toThrow(/normalSide is required/);
    const clearing = defineAccount({ id: 'clearing', ownerType: 'system', ownerId: 'psp', currency: 'EUR', normalSide: 'debit' });
    expect(clearing.minBalance).toBeNull();
  });

  it('refuses malformed ids and currencies with a reason', () => {
    expect(() => defineAccount({ id: 'a:b', ownerType: 'merchant', ownerId: 'm', currency: 'EUR' })).toThrow(/id must be 1-128 characters/);
    expect(() => defineAccount({ id: 'a', ownerType: 'merchant', ownerId: 'm', currency: 'eur' })).toThrow(/ISO-4217/);
    expect(() => defineAccount({ id: 'a', ownerType: 'bank' as never, ownerId: 'm', currency: 'EUR' })).toThrow(/ownerType must be one of/);
  });

  it('compares definitions field by field', () => {
    const a = defineAccount({ id: 'm', ownerType: 'merchant', ownerId: 'm', currency: 'EUR', metadata: { tier: 'gold' } });
    expect(sameAccountDefinition(a, defineAccount({ id: 'm', ownerType: 'merchant', ownerId: 'm', currency: 'EUR', metadata: { tier: 'gold' } }))).toBe(true);
    expect(sameAccountDefinition(a, defineAccount({ id: 'm', ownerType: 'merchant', ownerId: 'm', currency: 'EUR', minBalance: null }))).toBe(false);
  });
});

describe('opening an account twice', () => {
  it('returns the account for the same definition and is a conflict for another', () => {
    const ledger = new InMemoryLedger();
    const input = { id: 'w-1', ownerType: 'person', ownerId: 'u-1', currency: 'EUR' } as const;
    expect(ledger.openAccount(input)).toEqual(ledger.openAccount(input));
    const conflict = (() => {
      try {
        ledger.openAccount({ ...input, currency: 'USD' });
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(conflict).toBeInstanceOf(LedgerError);
    expect((conflict as LedgerError).code).toBe('IDEMPOTENCY_CONFLICT');
  });
});
