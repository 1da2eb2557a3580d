import { applyPaymentEvent } from './apply-payment-event';
import { PaymentTransitionError } from './payment-errors';
import type { CancellationReason, PaymentEvent } from './payment-events';
import type { PaymentState } from './payment-state';
import { findRefund, refundableAmount } from './payment-state';
import type { PaymentStatus } from './payment-status';
import { hasCaptured, PAYMENT_STATUSES } from './payment-status';

/**
 * What a payment provider says about its side of a payment, in our words. The adapter turns a
 * provider object (a Stripe PaymentIntent from a response, a webhook or a reconciliation
 * read) into one of these; the planner below decides what, if anything, it changes.
 */
export type PspObservation =
  | { readonly stage: 'pending'; readonly reference: string }
  | { readonly stage: 'requires_action'; readonly reference: string }
  | { readonly stage: 'authorized'; readonly reference: string; readonly amount: bigint }
  /** A bank debit sent to the payer's bank: settles (captured) or fails (failed) in days. */
  | { readonly stage: 'processing'; readonly reference: string; readonly amount: bigint }
  | { readonly stage: 'captured'; readonly reference: string; readonly amount: bigint }
  /**
   * `bankDebit`: the provider's object is a bank debit (SEPA, ACH), whose failure may come after
   * it settled (the payer's bank returns it): then money goes back, it is no stale news.
   */
  | { readonly stage: 'failed'; readonly reference: string; readonly code: string; readonly declineCode?: string; readonly bankDebit?: boolean }
  | { readonly stage: 'canceled'; readonly reference: string; readonly reason: CancellationReason }
  /** A status this code does not know (providers add some): never acted upon, only logged. */
  | { readonly stage: 'unrecognized'; readonly reference: string; readonly providerStatus: string };

export interface RefundObservation {
  readonly refundId: string;
  readonly amount: bigint;
  readonly status: 'pending' | 'succeeded' | 'failed' | 'canceled';
  readonly reason?: string;
}

export interface DisputeObservation {
  readonly disputeId: string;
  readonly amount: bigint;
  readonly status: 'open' | 'won' | 'lost';
  readonly reason: string;
}

/**
 * What to do with an observation:
 * - `advance`: append these events (they apply to the state as it is);
 * - `unchanged`: nothing to do, because it was applied already, is older news than the state
 *   (webhooks arrive late and out of order), or carries no news;
 * - `conflict`: the provider says something our history contradicts (money moved on a payment
 *   we consider failed, another amount): nothing is applied, reconciliation must look.
 */
export type PspPlan =
  | { readonly outcome: 'advance'; readonly events: readonly PaymentEvent[] }
  | { readonly outcome: 'unchanged'; readonly reason: 'already_applied' | 'stale' | 'no_news' }
  | { readonly outcome: 'conflict'; readonly reason: string };

const already: PspPlan = { outcome: 'unchanged', reason: 'already_applied' };
const stale: PspPlan = { outcome: 'unchanged', reason: 'stale' };
const noNews: PspPlan = { outcome: 'unchanged', reason: 'no_news' };
const conflict = (reason: string): PspPlan => ({ outcome: 'conflict', reason });

/** An advance is returned only if every event applies; otherwise it is a conflict that says why. */
function advance(state: PaymentState, events: readonly PaymentEvent[]): PspPlan {
  try {
    events.reduce<PaymentState>(applyPaymentEvent, state);
  } catch (error) {
    if (error instanceof PaymentTransitionError) return conflict(error.message);
    throw error;
  }
  return { outcome: 'advance', events };
}

/**
 * The "never go backwards" rule for the provider's view of the authorisation and capture. An
 * observation behind the payment (a `processing` delivered after `succeeded`) changes nothing;
 * one ahead of it yields the events that bring the payment there, skipped steps included (an
 * automatic capture goes straight from created to succeeded: Authorized then Captured).
 */
export function planPaymentObservation(state: PaymentState, provider: string, observation: PspObservation): PspPlan {
  if (state.reference !== undefined && (state.reference !== observation.reference || state.provider !== provider)) {
    return conflict(`the payment is held by ${state.provider} ${state.reference}, the observation is of ${provider} ${observation.reference}`);
  }
  const status = state.status;
  const early = status === 'initiated' || status === 'requires_action';
  const { reference } = observation;
  switch (observation.stage) {
    case 'unrecognized':
    case 'pending':
      return noNews;
    case 'requires_action':
      if (status === 'initiated') return advance(state, [{ type: 'ActionRequired', provider, reference }]);
      return status === 'requires_action' ? already : stale;
    case 'processing':
      if (observation.amount !== state.amount) return conflict(`the provider debits ${observation.amount}, the payment is for ${state.amount}`);
      if (early) return advance(state, [{ type: 'DebitSubmitted', amount: observation.amount, provider, reference }]);
      if (status === 'processing') return already;
      // Settled or failed since (the bank answered before this webhook arrived).
      if (hasCaptured(status) || status === 'failed') return stale;
      return conflict(`the provider debits a payment that is ${status}`);
    case 'authorized':
      if (observation.amount !== state.amount) return conflict(`the provider holds ${observation.amount}, the payment is for ${state.amount}`);
      if (status === 'processing') return conflict('the provider holds an authorisation for a payment paid by bank debit');
      if (early) return advance(state, [{ type: 'Authorized', amount: observation.amount, provider, reference }]);
      if (status === 'authorized') return already;
      // A provider never authorises a payment again after a decline we recorded: money is held that should not be.
      if (status === 'failed') return conflict('the provider holds an authorisation for a payment that failed');
      // Captured since, or canceled (a canceled authorisation is released; its webhook may come after the cancellation's).
      return stale;
    case 'captured':
      if (early) {
        return advance(state, [
          { type: 'Authorized', amount: state.amount, provider, reference },
          { type: 'Captured', amount: observation.amount },
        ]);
      }
      // From processing: the bank debit settled.
      if (status === 'authorized' || status === 'processing') return advance(state, [{ type: 'Captured', amount: observation.amount }]);
      if (hasCaptured(status)) {
        return state.capturedAmount === observation.amount
          ? already
          : conflict(`the provider captured ${observation.amount}, the payment ${state.capturedAmount}`);
      }
      return conflict(`the provider captured money on a payment that is ${status}`);
    case 'failed':
      // From processing: the bank debit failed late; the wallet reverses what it posted as pending.
      if (early || status === 'processing')
        return advance(state, [
          observation.declineCode === undefined
            ? { type: 'Failed', code: observation.code }
            : { type: 'Failed', code: observation.code, declineCode: observation.declineCode },
        ]);
      // After settlement, a bank debit's failure is its return by the payer's bank: money goes back.
      if (observation.bankDebit && hasCaptured(status)) return planDebitReturn(state, observation.reference, observation.code);
      // A failed attempt that a later authorisation or a cancellation superseded.
      return status === 'failed' ? already : stale;
    case 'canceled':
      // A bank debit cannot be canceled once sent; it settles or fails.
      if (early || status === 'authorized') return advance(state, [{ type: 'Canceled', reason: observation.reason }]);
      if (status === 'canceled') return already;
      if (status === 'failed') return stale;
      return conflict(`the provider canceled a payment that is ${status}`);
  }
}

/** The id under which a bank debit's return is recorded: one return per debit, whoever reports it. */
export function debitReturnId(reference: string): string {
  return `return_${reference}`;
}

/**
 * A settled bank debit returned by the payer's bank (insufficient funds found late, mandate
 * revoked, an unauthorised debit claimed back): like a chargeback the bank already decided, so it
 * is recorded as a dispute opened and lost at once, for what the merchant still holds of the
 * payment (captured, less refunds settled or pending). The wallet posts it as it posts a lost
 * chargeback: the counterparty gives the money back to PSP clearing.
 */
function planDebitReturn(state: PaymentState, reference: string, code: string): PspPlan {
  const disputeId = debitReturnId(reference);
  if (state.dispute?.disputeId === disputeId)
    return state.dispute.outcome === 'lost' ? already : conflict(`the return ${disputeId} was ${state.dispute.outcome}`);
  if (state.dispute) return conflict(`the bank returned the debit while dispute ${state.dispute.disputeId} is ${state.dispute.outcome}`);
  const amount = refundableAmount(state);
  if (amount <= 0n) return conflict(`the bank returned the debit of a payment refunded in full (${state.refundedAmount} of ${state.capturedAmount})`);
  return advance(state, [
    { type: 'DisputeOpened', disputeId, amount, reason: code },
    { type: 'DisputeLost', disputeId },
  ]);
}

/** Refund news: settles or fails a requested refund, or records one made at the provider. */
export function planRefundObservation(state: PaymentState, observation: RefundObservation): PspPlan {
  const known = findRefund(state, observation.refundId);
  const { refundId, amount } = observation;
  if (known && known.amount !== amount) return conflict(`refund ${refundId} is of ${known.amount}, the provider says ${amount}`);
  switch (observation.status) {
    case 'pending':
      return known ? noNews : advance(state, [{ type: 'RefundRequested', refundId, amount, reason: 'psp' }]);
    case 'succeeded':
      if (!known || known.status === 'pending') return advance(state, [{ type: 'Refunded', refundId, amount }]);
      return known.status === 'succeeded' ? already : conflict(`refund ${refundId} failed earlier and now succeeded`);
    case 'failed':
    case 'canceled':
      if (!known) return noNews;
      if (known.status === 'pending') return advance(state, [{ type: 'RefundFailed', refundId, reason: observation.reason ?? `refund_${observation.status}` }]);
      // Providers can fail a refund after it succeeded (a closed card); that needs a reversal, not a silent change.
      return known.status === 'failed' ? already : conflict(`refund ${refundId} succeeded and is now ${observation.status}`);
  }
}

/** Dispute news, whichever order `created` and `closed` arrive in. */
export function planDisputeObservation(state: PaymentState, observation: DisputeObservation): PspPlan {
  const dispute = state.dispute;
  const { disputeId } = observation;
  if (dispute && dispute.disputeId !== disputeId) return conflict(`the payment is disputed by ${dispute.disputeId}, not ${disputeId}`);
  const opened: PaymentEvent = { type: 'DisputeOpened', disputeId, amount: observation.amount, reason: observation.reason };
  if (observation.status === 'open') {
    if (!dispute) return advance(state, [opened]);
    return dispute.outcome === 'open' ? already : stale;
  }
  const closed: PaymentEvent = observation.status === 'won' ? { type: 'DisputeWon', disputeId } : { type: 'DisputeLost', disputeId };
  if (!dispute) return advance(state, [opened, closed]);
  if (dispute.outcome === 'open') return advance(state, [closed]);
  return dispute.outcome === observation.status ? already : conflict(`dispute ${disputeId} was ${dispute.outcome}, the provider says ${observation.status}`);
}

/**
 * When a payment observation changes nothing, as a condition on a few facts of the payment (its
 * provider and reference, status, amount, captured amount) that a store can test in the same
 * statement that records the news, without loading the payment. It is sound, not complete: a
 * payment that matches it gets `unchanged` from `planPaymentObservation`; anything else goes
 * through the planner. `undefined`: no such shortcut for this observation.
 */
export interface UnchangedWhen {
  readonly provider: string;
  readonly reference: string;
  readonly statuses: readonly PaymentStatus[];
  /** When given, the payment's amount must equal it. */
  readonly amount?: bigint;
  /** When given, the payment's captured amount must equal it. */
  readonly capturedAmount?: bigint;
}

const except = (...left: PaymentStatus[]): PaymentStatus[] => PAYMENT_STATUSES.filter((status) => !left.includes(status));

export function unchangedWhen(provider: string, observation: PspObservation): UnchangedWhen {
  const held = { provider, reference: observation.reference };
  switch (observation.stage) {
    case 'unrecognized':
    case 'pending':
      return { ...held, statuses: [...PAYMENT_STATUSES] };
    case 'requires_action':
      return { ...held, statuses: except('initiated') };
    case 'processing':
      return { ...held, statuses: ['processing', 'failed', ...PAYMENT_STATUSES.filter(hasCaptured)], amount: observation.amount };
    case 'authorized':
      return { ...held, statuses: except('initiated', 'requires_action', 'failed', 'processing'), amount: observation.amount };
    case 'captured':
      return { ...held, statuses: PAYMENT_STATUSES.filter(hasCaptured), capturedAmount: observation.amount };
    case 'failed':
      // A bank debit's failure after it settled is its return: the planner decides (returned once, or a conflict).
      return observation.bankDebit
        ? { ...held, statuses: except('initiated', 'requires_action', 'processing', ...PAYMENT_STATUSES.filter(hasCaptured)) }
        : { ...held, statuses: except('initiated', 'requires_action', 'processing') };
    case 'canceled':
      return { ...held, statuses: ['canceled', 'failed'] };
  }
}

/** Whether a payment matches the condition (what the store's SQL checks, in TypeScript). */
export function matchesUnchangedWhen(state: PaymentState, condition: UnchangedWhen): boolean {
  return (
    state.provider === condition.provider &&
    state.reference === condition.reference &&
    condition.statuses.includes(state.status) &&
    (condition.amount === undefined || state.amount === condition.amount) &&
    (condition.capturedAmount === undefined || state.capturedAmount === condition.capturedAmount)
  );
}
