import type { PaymentCapturedData, PaymentDisputeLostData, PaymentProcessingData, PaymentRefundedData } from '@pay/contracts';
import { paymentLinkMetadata } from '@pay/contracts';
import type { Metadata, OpenAccountInput, PostingInput, ReverseCommand, TransferCommand } from '@pay/ledger-domain';
import { resolutionTransactionId } from '@pay/ledger-domain';
import { counterpartyAccount, counterpartyPending, feeRevenue, personWallet, pspClearing, pspPending } from '../money/chart-of-accounts';
import {
  captureTransactionId,
  debitFailedTransactionId,
  debitPendingTransactionId,
  disputeLossTransactionId,
  refundTransactionId,
  transferReservationId,
} from '../money/ledger-ids';
import type { FeeRule } from '../money/payment-fee';
import { describeFeeRule, paymentFee } from '../money/payment-fee';

/**
 * Which ledger transaction a payment event becomes (docs/adr/0007-payment-postings.md). Pure:
 * the handler opens the accounts, records the command and remembers what it posted.
 *
 * Captured by a PSP, amount A, fee F:   debit PSP clearing A, credit the counterparty A - F, credit fee revenue F.
 * Refunded R (fee kept):                debit the counterparty R, credit PSP clearing R.
 * Dispute lost D (fee kept), fee DF:    debit the counterparty D, credit PSP clearing D; debit the counterparty DF, credit fee revenue DF.
 * Bank debit on its way, amount A:     debit PSP pending A, credit the counterparty's pending A.
 * Its settlement is the capture above, in the same transaction with the pending layer emptied
 * (debit the counterparty's pending A, credit PSP pending A); a late failure empties it alone.
 * Provider `wallet` (transfer from balance): the capture was posted by the reservation (funds
 * commands), so nothing is posted here; a refund reverses that posted reservation.
 */

/** The provider of transfers from wallet balance: its money moves by reservation, not here. */
export const WALLET_PROVIDER = 'wallet';

export type Movement = 'capture' | 'refund' | 'dispute_loss' | 'debit_pending' | 'debit_failed';

export interface PostingPolicy {
  /** Our fee on purchases and donations. Transfers between persons carry no fee. */
  readonly fee: FeeRule;
  /** Charged to a business that loses a dispute; 0 for none. */
  readonly disputeFeeMinor: bigint;
}

/** The line the handler remembers (payment_ledger_postings); absent for wallet transfers. */
export interface PostingRecord {
  readonly clearingAccountId: string;
  readonly counterpartyAccountId: string;
  readonly currency: string;
  readonly amount: bigint;
  readonly fee: bigint;
}

/** The line remembered for a capture, read back: a refund or chargeback is checked against it. */
export interface PostedCapture extends PostingRecord {
  readonly transactionId: string;
}

export interface PostingPlan {
  readonly movement: Movement;
  readonly paymentId: string;
  readonly transactionId: string;
  /** Opened (idempotently) before the command is recorded. */
  readonly accounts: readonly OpenAccountInput[];
  readonly command: TransferCommand | ReverseCommand;
  readonly record?: PostingRecord;
}

/** The event cannot be posted whatever the number of retries; the message says why. */
export class PostingRefused extends Error {
  override name = 'PostingRefused';
}

const EXPECTED_COUNTERPARTY = { purchase: 'merchant', donation: 'non-profit', transfer: 'person' } as const;

type MovementData = PaymentCapturedData | PaymentRefundedData | PaymentDisputeLostData | PaymentProcessingData;

function positiveAmount(data: MovementData, what: string): bigint {
  const amount = BigInt(data.amount.amount);
  if (amount <= 0n) throw new PostingRefused(`payment ${data.paymentId}: the ${what} amount must be greater than zero to be posted, got ${amount}`);
  return amount;
}

function assertCounterpartyFitsKind(data: MovementData): void {
  const expected = EXPECTED_COUNTERPARTY[data.kind];
  if (data.counterparty.type !== expected) {
    throw new PostingRefused(`payment ${data.paymentId}: a ${data.kind} is paid to a ${expected}, not to a ${data.counterparty.type}`);
  }
  // Wallet balance moves only by reservation between persons (funds commands): nothing else to post it from.
  if (data.provider === WALLET_PROVIDER && data.kind !== 'transfer') {
    throw new PostingRefused(`payment ${data.paymentId}: only transfers between persons are paid from wallet balance, not a ${data.kind}`);
  }
}

const posting = (accountId: string, direction: 'debit' | 'credit', amount: bigint, currency: string): PostingInput => ({
  accountId,
  direction,
  amount,
  currency,
});

/** A bank debit on its way: posted to the pending layer, neither the PSP's debt nor the counterparty's money yet. */
export function planDebitPending(data: PaymentProcessingData): PostingPlan {
  assertCounterpartyFitsKind(data);
  if (data.provider === WALLET_PROVIDER) throw new PostingRefused(`payment ${data.paymentId}: wallet balance is not debited from a bank`);
  const amount = positiveAmount(data, 'debited');
  const currency = data.amount.currency;
  const pending = pspPending(data.provider, currency);
  const counterparty = counterpartyPending(data.counterparty, currency);
  const transactionId = debitPendingTransactionId(data.paymentId);
  return {
    movement: 'debit_pending',
    paymentId: data.paymentId,
    transactionId,
    accounts: [pending, counterparty],
    command: {
      type: 'transfer',
      transactionId,
      postings: [posting(pending.id, 'debit', amount, currency), posting(counterparty.id, 'credit', amount, currency)],
      metadata: {
        ...paymentLinkMetadata({ paymentId: data.paymentId }),
        movement: 'debit_pending',
        kind: data.kind,
        provider: data.provider,
        reference: data.reference,
      },
    },
    record: { clearingAccountId: pending.id, counterpartyAccountId: counterparty.id, currency, amount, fee: 0n },
  };
}

/** The postings that empty a debit's pending layer (settled or failed). */
const releasePending = (debit: PostingRecord): PostingInput[] => [
  posting(debit.counterpartyAccountId, 'debit', debit.amount, debit.currency),
  posting(debit.clearingAccountId, 'credit', debit.amount, debit.currency),
];

/** A bank debit failed after it was posted as pending: the pending layer is emptied, nothing else moved. */
export function planDebitFailed(paymentId: string, debit: PostedCapture): PostingPlan {
  const transactionId = debitFailedTransactionId(paymentId);
  return {
    movement: 'debit_failed',
    paymentId,
    transactionId,
    accounts: [],
    command: {
      type: 'transfer',
      transactionId,
      postings: releasePending(debit),
      metadata: { ...paymentLinkMetadata({ paymentId }), movement: 'debit_failed', pending: debit.transactionId },
    },
    record: { ...debit, fee: 0n },
  };
}

/**
 * The capture's transaction, or null when there is nothing to post (a transfer from wallet
 * balance). A settled bank debit (`debit`: its pending posting) also empties its pending layer,
 * in the same transaction, so the capture posts once and the pending layer never double-counts.
 */
export function planCapture(data: PaymentCapturedData, policy: PostingPolicy, debit?: PostedCapture): PostingPlan | null {
  assertCounterpartyFitsKind(data);
  if (data.provider === WALLET_PROVIDER) return null;
  const amount = positiveAmount(data, 'captured');
  const currency = data.amount.currency;
  const charged = data.kind !== 'transfer';
  const fee = charged ? paymentFee(amount, policy.fee) : 0n;
  const clearing = pspClearing(data.provider, currency);
  const counterparty = counterpartyAccount(data.counterparty, currency);
  const revenue = feeRevenue(currency);
  const postings = [posting(clearing.id, 'debit', amount, currency)];
  if (amount > fee) postings.push(posting(counterparty.id, 'credit', amount - fee, currency));
  if (fee > 0n) postings.push(posting(revenue.id, 'credit', fee, currency));
  if (debit) {
    if (debit.amount !== amount || debit.currency !== currency) {
      throw new PostingRefused(`payment ${data.paymentId}: the debit of ${debit.amount} ${debit.currency} settles whole, not as ${amount} ${currency}`);
    }
    postings.push(...releasePending(debit));
  }
  const metadata: Record<string, string> = {
    ...paymentLinkMetadata({ paymentId: data.paymentId }),
    movement: 'capture',
    kind: data.kind,
    provider: data.provider,
    reference: data.reference,
  };
  if (charged) metadata.feeRule = describeFeeRule(policy.fee);
  if (debit) metadata.pending = debit.transactionId;
  const transactionId = captureTransactionId(data.paymentId);
  return {
    movement: 'capture',
    paymentId: data.paymentId,
    transactionId,
    accounts: fee > 0n ? [clearing, counterparty, revenue] : [clearing, counterparty],
    command: { type: 'transfer', transactionId, postings, metadata },
    record: { clearingAccountId: clearing.id, counterpartyAccountId: counterparty.id, currency, amount, fee },
  };
}

/**
 * A refund or chargeback of a card payment takes money back from the counterparty into PSP
 * clearing. It must match what was captured (same counterparty, provider and currency) and,
 * with everything taken back before, never exceed the captured amount.
 */
function planTakeBack(
  movement: 'refund' | 'dispute_loss',
  data: PaymentRefundedData | PaymentDisputeLostData,
  capture: PostedCapture | undefined,
  takenBackSoFar: bigint,
): { amount: bigint; currency: string; postings: PostingInput[]; accounts: OpenAccountInput[] } {
  const what = movement === 'refund' ? 'refund' : 'chargeback';
  if (!capture) {
    throw new PostingRefused(
      `payment ${data.paymentId} has no posted capture, so its ${what} cannot be posted: post its captured event first (replay it from the dead-letter topic)`,
    );
  }
  const amount = positiveAmount(data, what);
  const currency = data.amount.currency;
  if (currency !== capture.currency)
    throw new PostingRefused(`payment ${data.paymentId} was captured in ${capture.currency}; a ${what} in ${currency} cannot be posted`);
  const clearing = pspClearing(data.provider, currency);
  const counterparty = counterpartyAccount(data.counterparty, currency);
  if (clearing.id !== capture.clearingAccountId || counterparty.id !== capture.counterpartyAccountId) {
    throw new PostingRefused(`payment ${data.paymentId}: the ${what} names another provider or counterparty than the capture`);
  }
  if (takenBackSoFar + amount > capture.amount) {
    throw new PostingRefused(
      `payment ${data.paymentId}: a ${what} of ${amount} ${currency} would take back more than the ${capture.amount} captured (${takenBackSoFar} already refunded or charged back)`,
    );
  }
  return {
    amount,
    currency,
    postings: [posting(counterparty.id, 'debit', amount, currency), posting(clearing.id, 'credit', amount, currency)],
    accounts: [clearing, counterparty],
  };
}

export function planRefund(data: PaymentRefundedData, capture: PostedCapture | undefined, refundedSoFar: bigint): PostingPlan {
  assertCounterpartyFitsKind(data);
  if (data.provider === WALLET_PROVIDER) return planWalletTransferRefund(data);
  const taken = planTakeBack('refund', data, capture, refundedSoFar);
  const transactionId = refundTransactionId(data.paymentId, data.refundId);
  const metadata: Metadata = {
    ...paymentLinkMetadata({ paymentId: data.paymentId, refundId: data.refundId }),
    movement: 'refund',
    capture: (capture as PostedCapture).transactionId,
  };
  return {
    movement: 'refund',
    paymentId: data.paymentId,
    transactionId,
    accounts: taken.accounts,
    command: { type: 'transfer', transactionId, postings: taken.postings, metadata },
    record: { clearingAccountId: taken.accounts[0].id, counterpartyAccountId: taken.accounts[1].id, currency: taken.currency, amount: taken.amount, fee: 0n },
  };
}

export function planDisputeLoss(data: PaymentDisputeLostData, capture: PostedCapture | undefined, takenBackSoFar: bigint, policy: PostingPolicy): PostingPlan {
  assertCounterpartyFitsKind(data);
  if (data.provider === WALLET_PROVIDER) {
    throw new PostingRefused(`payment ${data.paymentId} was paid from wallet balance: there is no card network to lose a dispute to`);
  }
  const taken = planTakeBack('dispute_loss', data, capture, takenBackSoFar);
  // A person receiving a card-funded transfer is not charged for the payer's dispute.
  const disputeFee = data.counterparty.type === 'person' ? 0n : policy.disputeFeeMinor;
  const postings = [...taken.postings];
  const accounts = [...taken.accounts];
  if (disputeFee > 0n) {
    const revenue = feeRevenue(taken.currency);
    postings.push(posting(taken.accounts[1].id, 'debit', disputeFee, taken.currency), posting(revenue.id, 'credit', disputeFee, taken.currency));
    accounts.push(revenue);
  }
  const transactionId = disputeLossTransactionId(data.paymentId, data.disputeId);
  const metadata: Metadata = {
    ...paymentLinkMetadata({ paymentId: data.paymentId, disputeId: data.disputeId }),
    movement: 'dispute_loss',
    capture: (capture as PostedCapture).transactionId,
    disputeFee: disputeFee.toString(),
  };
  return {
    movement: 'dispute_loss',
    paymentId: data.paymentId,
    transactionId,
    accounts,
    command: { type: 'transfer', transactionId, postings, metadata },
    record: {
      clearingAccountId: taken.accounts[0].id,
      counterpartyAccountId: taken.accounts[1].id,
      currency: taken.currency,
      amount: taken.amount,
      fee: disputeFee,
    },
  };
}

/** What is given back of a transfer from wallet balance: one refund of it. */
export interface TransferReturn {
  readonly paymentId: string;
  readonly refundId: string;
  readonly senderId: string;
  readonly recipientId: string;
  readonly amount: bigint;
  readonly currency: string;
}

/**
 * A refund of a transfer from wallet balance reverses (part of) the posted reservation: back
 * from the recipient's wallet to the sender's. The ledger checks that it never exceeds what was
 * posted, and refuses it if the recipient's balance no longer covers it. The wallet posts it when
 * orchestration asks (a `return` funds command, answered before the refund settles); the
 * `refunded` event that follows plans the same command under the same id, which replays it.
 */
export function planTransferReturn(input: TransferReturn): PostingPlan {
  const { paymentId, refundId, amount, currency } = input;
  if (amount <= 0n) throw new PostingRefused(`payment ${paymentId}: the refund amount must be greater than zero to be posted, got ${amount}`);
  const recipient = personWallet(input.recipientId, currency);
  const sender = personWallet(input.senderId, currency);
  const transactionId = refundTransactionId(paymentId, refundId);
  return {
    movement: 'refund',
    paymentId,
    transactionId,
    accounts: [],
    command: {
      type: 'reverse',
      transactionId,
      reverses: resolutionTransactionId(transferReservationId(paymentId), 'post'),
      postings: [posting(recipient.id, 'debit', amount, currency), posting(sender.id, 'credit', amount, currency)],
      metadata: { ...paymentLinkMetadata({ paymentId, refundId }), movement: 'refund' },
    },
  };
}

function planWalletTransferRefund(data: PaymentRefundedData): PostingPlan {
  return planTransferReturn({
    paymentId: data.paymentId,
    refundId: data.refundId,
    senderId: data.payerId,
    recipientId: data.counterparty.id,
    amount: positiveAmount(data, 'refund'),
    currency: data.amount.currency,
  });
}
