import type { Account, Direction } from '@pay/ledger-domain';

/**
 * What an operator's correction may touch (docs/security.md, "The ledger's API"). A correction is
 * either a reversal of an existing transaction (bounded by the ledger: it mirrors what is left of
 * the original) or an adjustment between named accounts. An adjustment:
 * - may debit and credit accounts of people, merchants and non-profits (a person's wallet keeps
 *   its guard: it never goes below zero);
 * - may credit, never debit, the system accounts listed here: a debit of an unguarded system
 *   account would create money;
 * - may not touch any other system account.
 */
export const SYSTEM_ACCOUNTS_CREDITED_BY_CORRECTIONS: readonly { prefix: string; why: string }[] = [
  { prefix: 'system.psp-clearing.', why: 'a chargeback or refund the PSP settled but never reported: debit the payable, credit clearing' },
  { prefix: 'system.fee-revenue.', why: 'a fee that was not charged: debit the payable, credit fee revenue' },
  { prefix: 'system.topups.', why: 'money loaded into a wallet by mistake: debit the wallet, credit top-ups' },
];

export interface AdjustmentPosting {
  readonly accountId: string;
  readonly direction: Direction;
}

export type AdjustmentRefusal =
  | { readonly code: 'ACCOUNT_NOT_FOUND'; readonly accountId: string; readonly message: string }
  | { readonly code: 'SYSTEM_ACCOUNT_DEBIT_REFUSED' | 'ACCOUNT_NOT_CORRECTABLE'; readonly accountId: string; readonly message: string };

function creditableSystemAccount(accountId: string): boolean {
  return SYSTEM_ACCOUNTS_CREDITED_BY_CORRECTIONS.some(({ prefix }) => accountId.startsWith(prefix));
}

/** The first reason the adjustment may not be posted, or undefined when it may. */
export function refuseAdjustment(
  postings: readonly AdjustmentPosting[],
  accounts: ReadonlyMap<string, Pick<Account, 'id' | 'ownerType'>>,
): AdjustmentRefusal | undefined {
  for (const { accountId, direction } of postings) {
    const account = accounts.get(accountId);
    if (!account) return { code: 'ACCOUNT_NOT_FOUND', accountId, message: `account ${accountId} does not exist` };
    if (account.ownerType !== 'system') continue;
    if (!creditableSystemAccount(accountId)) {
      return {
        code: 'ACCOUNT_NOT_CORRECTABLE',
        accountId,
        message: `account ${accountId} is a system account no correction may touch; credits are allowed to ${SYSTEM_ACCOUNTS_CREDITED_BY_CORRECTIONS.map((a) => `${a.prefix}*`).join(', ')}`,
      };
    }
    if (direction === 'debit') {
      return {
        code: 'SYSTEM_ACCOUNT_DEBIT_REFUSED',
        accountId,
        message: `account ${accountId} is a system account: an adjustment may credit it, never debit it (reverse the transaction that credited it instead)`,
      };
    }
  }
  return undefined;
}
