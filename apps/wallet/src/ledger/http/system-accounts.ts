import { ForbiddenException } from '@nestjs/common';
import type { Account } from '@pay/ledger-domain';

/**
 * System accounts are the other side of money entering or leaving the platform (PSP clearing,
 * fee revenue, top-ups). They are unguarded: a debit of one never fails a balance check, so a
 * debit through the HTTP API would create money from nothing. Only the wallet's own flows
 * (payment postings, funds commands, in-process) debit them; the API never does, except in a
 * reversal, which the ledger bounds by what the reversed transaction credited.
 */
export function isSystemAccount(account: Pick<Account, 'ownerType'>): boolean {
  return account.ownerType === 'system';
}

export function systemDebitRefused(accountId: string): ForbiddenException {
  return new ForbiddenException({
    code: 'SYSTEM_ACCOUNT_DEBIT_REFUSED',
    message: `account ${accountId} is a system account: the ledger API never debits one (only reversals may, up to what the reversed transaction credited it)`,
  });
}

/** Refuses (403) when any of the debited accounts is a system account; unknown accounts are left to the ledger (422). */
export async function refuseSystemDebits(findAccount: (id: string) => Promise<Account | undefined>, debitedAccountIds: readonly string[]): Promise<void> {
  for (const accountId of new Set(debitedAccountIds)) {
    const account = await findAccount(accountId);
    if (account && isSystemAccount(account)) throw systemDebitRefused(accountId);
  }
}
