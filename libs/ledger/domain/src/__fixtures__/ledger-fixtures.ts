import type { OpenAccountInput } from '../account';
import type { Clock } from '../clock';
import { InMemoryLedger } from '../in-memory-ledger';

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  constructor(private current = new Date('2026-01-01T00:00:00.000Z')) {}
  now(): Date {
    return new Date(this.current.getTime());
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** A small economy: people and merchants in EUR (one with an overdraft), one person in USD, unguarded clearing. */
export const ACCOUNTS: readonly OpenAccountInput[] = [
  { id: 'alice', ownerType: 'person', ownerId: 'p-alice', currency: 'EUR' },
  { id: 'bob', ownerType: 'person', ownerId: 'p-bob', currency: 'EUR' },
  { id: 'carol', ownerType: 'person', ownerId: 'p-carol', currency: 'EUR' },
  { id: 'dave', ownerType: 'person', ownerId: 'p-dave', currency: 'USD' },
  { id: 'shop', ownerType: 'merchant', ownerId: 'm-shop', currency: 'EUR' },
  { id: 'charity', ownerType: 'non_profit', ownerId: 'np-1', currency: 'EUR' },
  { id: 'kiosk', ownerType: 'merchant', ownerId: 'm-kiosk', currency: 'EUR', minBalance: -300n },
  { id: 'clearing-eur', ownerType: 'system', ownerId: 'psp', currency: 'EUR', normalSide: 'debit' },
  { id: 'clearing-usd', ownerType: 'system', ownerId: 'psp', currency: 'USD', normalSide: 'debit' },
  { id: 'fees', ownerType: 'system', ownerId: 'platform', currency: 'EUR', normalSide: 'credit' },
];

export function economy(clock: Clock = new ManualClock()): InMemoryLedger {
  const ledger = new InMemoryLedger(clock);
  for (const account of ACCOUNTS) ledger.openAccount(account);
  return ledger;
}

export const eur = (accountId: string, direction: 'debit' | 'credit', amount: bigint) => ({ accountId, direction, amount, currency: 'EUR' });
