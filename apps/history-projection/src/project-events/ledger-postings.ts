import type { LedgerTransactionRecordedData } from '@pay/contracts';
import { paymentLinkOf } from '@pay/contracts';
import { normalizeInstant } from './projectable-event';

/** One posting of a ledger transaction, as history keeps it (per-account figures). */
export interface LedgerPostingRow {
  transactionId: string;
  postingIndex: number;
  position: string;
  kind: string;
  accountId: string;
  direction: 'debit' | 'credit';
  layer: string;
  currency: string;
  amount: string;
  recordedAt: string;
  paymentId: string | null;
  /** Whose account it is, when its id says so (see ledgerAccountOwner). */
  ownerType: 'person' | 'merchant' | 'non-profit' | null;
  ownerId: string | null;
}

const OWNER_PREFIXES: Readonly<Record<string, 'person' | 'merchant' | 'non-profit'>> = { person: 'person', merchant: 'merchant', nonprofit: 'non-profit' };

/**
 * The person or business an account belongs to, read from its id in the wallet's chart of
 * accounts (docs/adr/0007-payment-postings.md): `<owner>.<owner id>.<purpose>.<CUR>` with owner
 * person, merchant or nonprofit. System accounts, and owners whose id the wallet had to hash
 * (`<owner>-h.<digest>...`, ids with ':'), belong to no one history can name.
 */
export function ledgerAccountOwner(
  accountId: string,
): { type: 'person' | 'merchant' | 'non-profit'; id: string; purpose: string; currency: string } | undefined {
  const parts = accountId.split('.');
  if (parts.length < 4) return undefined;
  const type = OWNER_PREFIXES[parts[0]];
  const currency = parts[parts.length - 1];
  const purpose = parts[parts.length - 2];
  const id = parts.slice(1, -2).join('.');
  if (!type || !/^[A-Z]{3}$/.test(currency) || !/^[a-z][a-z0-9_-]*$/.test(purpose) || id.length === 0) return undefined;
  return { type, id, purpose, currency };
}

/** The rows of a `ledger.transaction.recorded` event; keyed by (transaction, index), so storing them twice changes nothing. */
export function ledgerPostingRows(data: LedgerTransactionRecordedData): LedgerPostingRow[] {
  const recordedAt = normalizeInstant(data.recordedAt);
  const paymentId = paymentLinkOf(data.metadata)?.paymentId ?? null;
  return data.postings.map((posting, postingIndex) => {
    const owner = ledgerAccountOwner(posting.accountId);
    return {
      transactionId: data.transactionId,
      postingIndex,
      position: data.position,
      kind: data.kind,
      accountId: posting.accountId,
      direction: posting.direction,
      layer: posting.layer,
      currency: posting.currency,
      amount: posting.amount,
      recordedAt,
      paymentId,
      ownerType: owner?.type ?? null,
      ownerId: owner?.id ?? null,
    };
  });
}
