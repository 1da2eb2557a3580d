import { invalidInput, LedgerError } from './errors';
import type { Metadata } from './values';
import { assertCurrency, assertId, assertMetadata, MAX_AMOUNT } from './values';

export const OWNER_TYPES = ['person', 'merchant', 'non_profit', 'system'] as const;
export type OwnerType = (typeof OWNER_TYPES)[number];

export const DIRECTIONS = ['debit', 'credit'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/**
 * An account of the ledger. Its definition never changes once opened (the accounts table is
 * append-only): a guard that could be relaxed later would be no guard.
 *
 * `normalSide` is the side that increases the balance: a person's wallet is a liability of the
 * platform (credit-normal), a PSP clearing account is an asset (debit-normal).
 * `minBalance` is the balance guard: the available balance, on the normal side, may never be
 * pushed below it. It is 0 (never negative) or negative (an overdraft limit), so that a new
 * account, at zero, starts within its guard and the database can check the guard as a plain
 * constraint; `null` means unguarded (clearing and settlement accounts may go negative).
 */
export interface Account {
  readonly id: string;
  readonly ownerType: OwnerType;
  readonly ownerId: string;
  readonly currency: string;
  readonly normalSide: Direction;
  readonly minBalance: bigint | null;
  readonly metadata: Metadata;
}

export interface OpenAccountInput {
  id: string;
  ownerType: OwnerType;
  ownerId: string;
  currency: string;
  normalSide?: Direction;
  /** Omitted: the owner type's default. 0 or negative; `null`: no guard (not for a person). */
  minBalance?: bigint | null;
  metadata?: Metadata;
}

/** What customers hold with the platform is credit-normal (a liability); system accounts must say. */
const DEFAULT_NORMAL_SIDE: Readonly<Record<OwnerType, Direction | undefined>> = {
  person: 'credit',
  merchant: 'credit',
  non_profit: 'credit',
  system: undefined,
};

/** Money held for a customer can never go negative by default; system accounts are unguarded. */
const DEFAULT_MIN_BALANCE: Readonly<Record<OwnerType, bigint | null>> = {
  person: 0n,
  merchant: 0n,
  non_profit: 0n,
  system: null,
};

/** Validates an account definition and fills in the owner type's defaults. */
export function defineAccount(input: OpenAccountInput): Account {
  const id = assertId(input.id, 'id');
  if (!OWNER_TYPES.includes(input.ownerType)) throw invalidInput(`ownerType must be one of ${OWNER_TYPES.join(', ')}`);
  const ownerId = assertId(input.ownerId, 'ownerId');
  const currency = assertCurrency(input.currency);
  const normalSide = input.normalSide ?? DEFAULT_NORMAL_SIDE[input.ownerType];
  if (normalSide === undefined) throw invalidInput(`normalSide is required for ${input.ownerType} accounts (debit or credit)`);
  if (!DIRECTIONS.includes(normalSide)) throw invalidInput('normalSide must be debit or credit');
  const minBalance = input.minBalance === undefined ? DEFAULT_MIN_BALANCE[input.ownerType] : input.minBalance;
  if (minBalance !== null) {
    if (typeof minBalance !== 'bigint') throw invalidInput('minBalance must be an integer number of minor units or null');
    if (minBalance > 0n) throw invalidInput('minBalance must be 0 or negative (an overdraft limit), or null for no guard');
    if (minBalance < -MAX_AMOUNT) throw new LedgerError('AMOUNT_TOO_LARGE', `minBalance must be at least -${MAX_AMOUNT}`);
  }
  // The one guard the platform promises without exception: a person's wallet never goes below zero.
  if (input.ownerType === 'person' && minBalance !== 0n) {
    throw invalidInput("a person's account never goes below zero: its minBalance is 0");
  }
  return { id, ownerType: input.ownerType, ownerId, currency, normalSide, minBalance, metadata: assertMetadata(input.metadata) };
}

/** Re-opening an account is idempotent only if it asks for exactly the same account. */
export function sameAccountDefinition(a: Account, b: Account): boolean {
  return (
    a.id === b.id &&
    a.ownerType === b.ownerType &&
    a.ownerId === b.ownerId &&
    a.currency === b.currency &&
    a.normalSide === b.normalSide &&
    a.minBalance === b.minBalance &&
    sameMetadata(a.metadata, b.metadata)
  );
}

function sameMetadata(a: Metadata, b: Metadata): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}
