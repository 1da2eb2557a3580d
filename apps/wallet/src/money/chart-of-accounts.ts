import type { OpenAccountInput } from '@pay/ledger-domain';
import { ID_PATTERN } from '@pay/ledger-domain';
import { digest } from './ledger-ids';

/**
 * The wallet's chart of accounts: which ledger account holds which money, with deterministic
 * ids, so any instance can open an account lazily and every later open is an idempotent replay.
 * The definition (owner, normal side, guard, metadata) must never change for an id: the ledger
 * refuses a re-open with another definition.
 *
 * Ids are `<owner>.<owner id>.<purpose>.<CUR>` (ledger ids may not hold ':'); an owner id
 * that does not fit (':' in it) is hashed under `<owner>-h.`, and the raw id is kept in the
 * account's metadata (`ref`).
 *
 * - `system.psp-clearing.<provider>.<CUR>`: what a PSP owes us for captured card payments
 *   (debit-normal asset, unguarded: it swings both ways until the PSP settles).
 * - `system.fee-revenue.<CUR>`: our fees (credit-normal, unguarded).
 * - `system.topups.<CUR>`: the other side of money loaded into wallets (tests, and later bank
 *   top-ups; debit-normal, unguarded).
 * - `merchant.<id>.payable.<CUR>`, `nonprofit.<id>.payable.<CUR>`: what we owe a business
 *   (credit-normal). Unguarded on purpose: a refund or chargeback after the fee was kept (or
 *   after a payout) must still be recorded; a negative payable is what the business owes us.
 * - `person.<id>.wallet.<CUR>`: a person's balance (credit-normal, never below zero).
 * - The pending layer of bank debits (SEPA, ACH: days between the debit and the money):
 *   `system.psp-pending.<provider>.<CUR>` (debit-normal: what debits on their way will bring) and
 *   `<owner>.<id>.pending.<CUR>` (credit-normal: what the counterparty is owed once they settle).
 *   A settled debit empties both into clearing and the payable; a failed one empties them back.
 */

export type CounterpartyType = 'merchant' | 'non-profit' | 'person';

const OWNER_PREFIX = { merchant: 'merchant', 'non-profit': 'nonprofit', person: 'person' } as const;

/** The owner part of an id: the raw id when it fits, else its hash under a distinct prefix. */
function ownerKey(prefix: string, ownerId: string): { key: string; hashed: boolean } {
  if (ID_PATTERN.test(ownerId)) return { key: `${prefix}.${ownerId}`, hashed: false };
  return { key: `${prefix}-h.${digest(prefix, [ownerId])}`, hashed: true };
}

function ownedAccount(type: CounterpartyType, ownerId: string, purpose: string, currency: string): OpenAccountInput {
  const prefix = OWNER_PREFIX[type];
  const { key, hashed } = ownerKey(prefix, ownerId);
  return {
    id: `${key}.${purpose}.${currency}`,
    ownerType: type === 'non-profit' ? 'non_profit' : type,
    // The ledger's owner id has the same shape rules as its account ids.
    ownerId: hashed ? key.slice(prefix.length + 1) : ownerId,
    currency,
    normalSide: 'credit',
    minBalance: type === 'person' ? 0n : null,
    metadata: hashed ? { ref: ownerId } : {},
  };
}

export function personWallet(personId: string, currency: string): OpenAccountInput {
  return ownedAccount('person', personId, 'wallet', currency);
}

export function merchantPayable(merchantId: string, currency: string): OpenAccountInput {
  return ownedAccount('merchant', merchantId, 'payable', currency);
}

export function nonProfitPayable(nonProfitId: string, currency: string): OpenAccountInput {
  return ownedAccount('non-profit', nonProfitId, 'payable', currency);
}

/** Where money for a counterparty goes: a business's payable, or a person's wallet. */
export function counterpartyAccount(counterparty: { type: CounterpartyType; id: string }, currency: string): OpenAccountInput {
  switch (counterparty.type) {
    case 'merchant':
      return merchantPayable(counterparty.id, currency);
    case 'non-profit':
      return nonProfitPayable(counterparty.id, currency);
    case 'person':
      return personWallet(counterparty.id, currency);
  }
}

/** PSP codes are `[a-z][a-z0-9_]*` (contracts), so they fit an id as they are. */
export function pspClearing(provider: string, currency: string): OpenAccountInput {
  return { id: `system.psp-clearing.${provider}.${currency}`, ownerType: 'system', ownerId: 'psp-clearing', currency, normalSide: 'debit', minBalance: null };
}

/** Bank debits on their way at a PSP: not yet money the PSP owes us. */
export function pspPending(provider: string, currency: string): OpenAccountInput {
  return { id: `system.psp-pending.${provider}.${currency}`, ownerType: 'system', ownerId: 'psp-pending', currency, normalSide: 'debit', minBalance: null };
}

/** What a counterparty will be owed once a bank debit to it settles; not spendable, not paid out. */
export function counterpartyPending(counterparty: { type: CounterpartyType; id: string }, currency: string): OpenAccountInput {
  return { ...ownedAccount(counterparty.type, counterparty.id, 'pending', currency), minBalance: null };
}

export function feeRevenue(currency: string): OpenAccountInput {
  return { id: `system.fee-revenue.${currency}`, ownerType: 'system', ownerId: 'fee-revenue', currency, normalSide: 'credit', minBalance: null };
}

export function topups(currency: string): OpenAccountInput {
  return { id: `system.topups.${currency}`, ownerType: 'system', ownerId: 'topups', currency, normalSide: 'debit', minBalance: null };
}
