import type { Account, Direction } from './account';
import { LedgerError } from './errors';
import { MAX_AMOUNT } from './values';

/**
 * How a posting acts on balances:
 * - `posted`: final money movement;
 * - `pending`: a reservation's hold (TigerBeetle's pending transfer);
 * - `released`: the end of a hold (posted, voided or expired), which removes it from pending.
 * Each layer balances on its own, so the journal stays double-entry in every layer.
 */
export const LAYERS = ['posted', 'pending', 'released'] as const;
export type Layer = (typeof LAYERS)[number];

/** The four running totals of an account (TigerBeetle's model); everything else derives from them. */
export interface Balance {
  readonly debitsPosted: bigint;
  readonly creditsPosted: bigint;
  readonly debitsPending: bigint;
  readonly creditsPending: bigint;
}

export const ZERO_BALANCE: Balance = Object.freeze({ debitsPosted: 0n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n });

export interface BalanceEffect {
  readonly direction: Direction;
  readonly layer: Layer;
  readonly amount: bigint;
}

export function applyToBalance(balance: Balance, effect: BalanceEffect): Balance {
  const debit = effect.direction === 'debit';
  switch (effect.layer) {
    case 'posted':
      return debit
        ? { ...balance, debitsPosted: checked(balance.debitsPosted + effect.amount) }
        : { ...balance, creditsPosted: checked(balance.creditsPosted + effect.amount) };
    case 'pending':
      return debit
        ? { ...balance, debitsPending: checked(balance.debitsPending + effect.amount) }
        : { ...balance, creditsPending: checked(balance.creditsPending + effect.amount) };
    case 'released': {
      const next = debit
        ? { ...balance, debitsPending: balance.debitsPending - effect.amount }
        : { ...balance, creditsPending: balance.creditsPending - effect.amount };
      // A release can only undo a hold that exists; anything else is a bug, not bad input.
      if (next.debitsPending < 0n || next.creditsPending < 0n) throw new Error('ledger invariant broken: released more than was pending');
      return next;
    }
  }
}

function checked(total: bigint): bigint {
  if (total > MAX_AMOUNT) throw new LedgerError('AMOUNT_TOO_LARGE', `an account total would exceed ${MAX_AMOUNT} minor units`);
  return total;
}

export function sameBalance(a: Balance, b: Balance): boolean {
  return (
    a.debitsPosted === b.debitsPosted && a.creditsPosted === b.creditsPosted && a.debitsPending === b.debitsPending && a.creditsPending === b.creditsPending
  );
}

/** An account's balance read on its normal side. */
export interface BalanceSummary {
  /** Posted balance: credits minus debits for a credit-normal account, the reverse otherwise. */
  readonly posted: bigint;
  /** Held amounts that will increase the balance when posted; not spendable yet. */
  readonly pendingIncoming: bigint;
  /** Held amounts that will decrease the balance when posted; already unavailable. */
  readonly pendingOutgoing: bigint;
  /** What can still be spent: posted minus outgoing holds. Balance guards apply to this. */
  readonly available: bigint;
}

export function summarize(normalSide: Direction, balance: Balance): BalanceSummary {
  const credit = normalSide === 'credit';
  const posted = credit ? balance.creditsPosted - balance.debitsPosted : balance.debitsPosted - balance.creditsPosted;
  const pendingIncoming = credit ? balance.creditsPending : balance.debitsPending;
  const pendingOutgoing = credit ? balance.debitsPending : balance.creditsPending;
  return { posted, pendingIncoming, pendingOutgoing, available: posted - pendingOutgoing };
}

/**
 * A guard is broken by a change that lowers the available balance below the account's minimum.
 * Changes that raise it are always accepted: money may always flow back into an account.
 */
export function guardViolation(account: Account, before: Balance, after: Balance): LedgerError | undefined {
  if (account.minBalance === null) return undefined;
  const was = summarize(account.normalSide, before).available;
  const will = summarize(account.normalSide, after).available;
  if (will >= was || will >= account.minBalance) return undefined;
  return new LedgerError(
    'INSUFFICIENT_FUNDS',
    `account ${account.id} has ${was} ${account.currency} available; this transaction needs ${was - will}, and the balance may not fall below ${account.minBalance}`,
    { accountId: account.id },
  );
}
