import type { PaymentFailureCode } from '@pay/contracts';
import { BANK_DEBIT_FAILURE_CODES, paymentFailureCodeOf } from '@pay/contracts';
import { PAYMENT_STATUSES } from '@pay/payments-domain';
import type { DisputeFacts, LedgerLink, PaymentFacts, RefundFacts } from './payment-facts';
import { maxInstant, minInstant } from './projectable-event';

/** Kinds of history entries: a payment of one of the three kinds, or money going back. */
export const PAYMENT_KINDS = ['purchase', 'donation', 'transfer'] as const;
export const ENTRY_KINDS = [...PAYMENT_KINDS, 'refund', 'chargeback'] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

/** A payment's status (the payment state machine's), a refund's, or a chargeback's. */
export const REFUND_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export const ENTRY_STATUSES = [...PAYMENT_STATUSES, 'pending', 'succeeded', 'charged_back'] as const;
export type EntryStatus = (typeof ENTRY_STATUSES)[number];

/** Payment-method types of aggregates: the saved method's kind, wallet balance, or unknown. */
export const METHOD_TYPES = ['card', 'paypal', 'bank_account', 'stripe_customer', 'wallet_balance', 'unknown'] as const;
export type MethodType = (typeof METHOD_TYPES)[number];

/** Statuses after which money moved from the payer to the counterparty. */
const MONEY_MOVED: ReadonlySet<string> = new Set(['captured', 'partially_refunded', 'refunded', 'disputed']);

/**
 * One row of someone's history. Amounts are minor units (bigint as text). `netAmount` is what
 * the entry moved from payer to counterparty once settled: the captured amount of a payment,
 * minus a refund or a chargeback; 0 while nothing moved. Sums of it are what the ledger holds.
 */
export interface HistoryEntry {
  entryId: string;
  paymentId: string;
  kind: EntryKind;
  status: EntryStatus;
  payerId: string;
  counterpartyType: string;
  counterpartyId: string;
  app: string | null;
  country: string | null;
  currency: string;
  amount: string;
  netAmount: string;
  methodId: string | null;
  methodType: MethodType;
  provider: string | null;
  ledgerTransactionId: string | null;
  /**
   * Why it failed, as an enumerated code (PAYMENT_FAILURE_CODES): a failed payment's code (a bank
   * debit's late failure says what the bank answered: `account_closed`, `insufficient_funds`…),
   * or, for the chargeback a bank's return of a settled debit is recorded as, the bank's code.
   * Null otherwise.
   */
  failureCode: PaymentFailureCode | null;
  occurredAt: string;
  updatedAt: string;
}

export const paymentEntryId = (paymentId: string): string => `payment:${paymentId}`;
export const refundEntryId = (paymentId: string, refundId: string): string => `refund:${paymentId}:${refundId}`;
export const chargebackEntryId = (paymentId: string, disputeId: string): string => `chargeback:${paymentId}:${disputeId}`;

function statusAfterRefunds(captured: bigint | undefined, refunded: bigint): EntryStatus {
  if (refunded === 0n) return 'captured';
  return captured !== undefined && refunded >= captured ? 'refunded' : 'partially_refunded';
}

function refundedTotal(facts: PaymentFacts): bigint {
  return Object.values(facts.refunds ?? {}).reduce((sum, refund) => sum + (refund.succeeded ? BigInt(refund.succeeded.amount) : 0n), 0n);
}

/** The dispute that decides the status: the one opened last (a charge is disputed at most once). */
function decidingDispute(facts: PaymentFacts): DisputeFacts | undefined {
  let deciding: DisputeFacts | undefined;
  let position = -1;
  for (const dispute of Object.values(facts.disputes ?? {})) {
    const seq = Math.max(dispute.opened?.seq ?? -1, dispute.won?.seq ?? -1, dispute.lost?.seq ?? -1);
    if (seq > position) [deciding, position] = [dispute, seq];
  }
  return deciding;
}

/**
 * The payment's status, from its facts alone (the payment state machine's rules read
 * backwards): money that moved outranks anything before it; a lost dispute stays disputed.
 */
export function paymentStatus(facts: PaymentFacts): EntryStatus {
  const refunded = refundedTotal(facts);
  const dispute = decidingDispute(facts);
  const moneyMoved = facts.captured !== undefined || refunded > 0n || dispute !== undefined;
  if (moneyMoved) {
    if (dispute && (dispute.lost || !dispute.won)) return 'disputed';
    return statusAfterRefunds(facts.captured ? BigInt(facts.captured.amount) : undefined, refunded);
  }
  if (facts.failed) return 'failed';
  if (facts.canceled) return 'canceled';
  // A bank debit on its way: the person and the merchant see it as processing until the bank answers.
  if (facts.processing) return 'processing';
  if (facts.authorized) return 'authorized';
  if (facts.actionRequired) return 'requires_action';
  return 'initiated';
}

/** A dispute's reason that is a bank's answer to a debit (a settled debit returned), not a card dispute's. */
const isBankDebitFailureCode = (reason: string): reason is (typeof BANK_DEBIT_FAILURE_CODES)[number] =>
  (BANK_DEBIT_FAILURE_CODES as readonly string[]).includes(reason);

/** A method paid from the wallet's balance is "wallet_balance", whatever method the payer picked. */
export function methodTypeOf(provider: string | undefined, methodKind: string | undefined): MethodType {
  if (provider === 'wallet') return 'wallet_balance';
  return (METHOD_TYPES as readonly string[]).includes(methodKind ?? '') ? (methodKind as MethodType) : 'unknown';
}

function latestLedgerTransaction(facts: PaymentFacts, matches: (link: LedgerLink) => boolean): string | null {
  let found: string | null = null;
  let position = -1n;
  for (const [transactionId, link] of Object.entries(facts.ledger ?? {})) {
    if (!matches(link)) continue;
    const at = BigInt(link.position);
    if (at > position || (at === position && found !== null && transactionId > found)) [found, position] = [transactionId, at];
  }
  return found;
}

function ledgerInstant(facts: PaymentFacts, matches: (link: LedgerLink) => boolean): string | undefined {
  return Object.values(facts.ledger ?? {})
    .filter(matches)
    .reduce<string | undefined>((latest, link) => maxInstant(latest, link.at), undefined);
}

function refundEntry(
  facts: PaymentFacts,
  refundId: string,
  refund: RefundFacts,
  common: Omit<HistoryEntry, 'entryId' | 'kind' | 'status' | 'amount' | 'netAmount' | 'ledgerTransactionId' | 'failureCode' | 'occurredAt' | 'updatedAt'>,
): HistoryEntry | undefined {
  const amount = refund.succeeded?.amount ?? refund.requested?.amount;
  if (amount === undefined) return undefined;
  const status: EntryStatus = refund.succeeded ? 'succeeded' : refund.failed ? 'failed' : 'pending';
  const occurredAt = minInstant(minInstant(refund.requested?.at, refund.succeeded?.at), refund.failed?.at)!;
  const forThisRefund = (link: LedgerLink): boolean => link.refundId === refundId;
  const updatedAt = maxInstant(maxInstant(maxInstant(refund.requested?.at, refund.succeeded?.at), refund.failed?.at), ledgerInstant(facts, forThisRefund))!;
  return {
    ...common,
    entryId: refundEntryId(facts.paymentId, refundId),
    kind: 'refund',
    status,
    amount,
    netAmount: status === 'succeeded' ? (-BigInt(amount)).toString() : '0',
    ledgerTransactionId: latestLedgerTransaction(facts, forThisRefund),
    failureCode: null,
    occurredAt,
    updatedAt,
  };
}

/**
 * The history entries of a payment: the payment itself, each refund, each lost dispute. Pure:
 * the same facts (and the same kind of the saved method, which the wallet tells) give the same
 * entries. Nothing is shown until it is known who pays whom.
 */
export function deriveEntries(facts: PaymentFacts, methodKind?: string): HistoryEntry[] {
  const parties = facts.initiated ?? facts.movement;
  if (!parties) return [];
  const provider = facts.holder?.provider;
  const common = {
    paymentId: facts.paymentId,
    payerId: parties.payerId,
    counterpartyType: parties.counterpartyType,
    counterpartyId: parties.counterpartyId,
    app: facts.initiated?.app ?? null,
    country: facts.initiated?.country ?? null,
    currency: parties.currency,
    methodId: facts.initiated?.methodId ?? null,
    methodType: methodTypeOf(provider, methodKind),
    provider: provider ?? null,
  };
  const entries: HistoryEntry[] = [];

  const amount = facts.captured?.amount ?? facts.initiated?.amount ?? facts.authorized?.amount;
  if (amount !== undefined && facts.firstAt !== undefined) {
    const status = paymentStatus(facts);
    const forThePayment = (link: LedgerLink): boolean => link.refundId === undefined && link.disputeId === undefined;
    entries.push({
      ...common,
      entryId: paymentEntryId(facts.paymentId),
      kind: parties.kind as EntryKind,
      status,
      amount,
      netAmount: MONEY_MOVED.has(status) && facts.captured ? facts.captured.amount : '0',
      ledgerTransactionId: latestLedgerTransaction(facts, forThePayment),
      failureCode: status === 'failed' && facts.failed ? paymentFailureCodeOf(facts.failed.code) : null,
      occurredAt: facts.initiated?.at ?? facts.firstAt,
      updatedAt: facts.lastAt ?? facts.firstAt,
    });
  }

  for (const refundId of Object.keys(facts.refunds ?? {}).sort()) {
    const entry = refundEntry(facts, refundId, facts.refunds![refundId], common);
    if (entry) entries.push(entry);
  }

  for (const disputeId of Object.keys(facts.disputes ?? {}).sort()) {
    const { lost, opened } = facts.disputes![disputeId];
    if (!lost) continue;
    const forThisDispute = (link: LedgerLink): boolean => link.disputeId === disputeId;
    entries.push({
      ...common,
      entryId: chargebackEntryId(facts.paymentId, disputeId),
      kind: 'chargeback',
      status: 'charged_back',
      amount: lost.amount,
      netAmount: (-BigInt(lost.amount)).toString(),
      ledgerTransactionId: latestLedgerTransaction(facts, forThisDispute),
      failureCode: opened && isBankDebitFailureCode(opened.reason) ? opened.reason : null,
      occurredAt: lost.at,
      updatedAt: maxInstant(lost.at, ledgerInstant(facts, forThisDispute))!,
    });
  }
  return entries;
}
