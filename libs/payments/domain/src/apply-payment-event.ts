import type { PaymentRefusalCode } from './payment-errors';
import { PaymentInputError, PaymentTransitionError } from './payment-errors';
import type {
  ActionRequired,
  Authorized,
  Captured,
  DebitSubmitted,
  DisputeLost,
  DisputeOpened,
  DisputeWon,
  PaymentEvent,
  PaymentInitiated,
  RefundFailed,
  Refunded,
  RefundRequested,
} from './payment-events';
import type { PaymentState, RefundRecord } from './payment-state';
import { findRefund, refundableAmount } from './payment-state';
import type { PaymentStatus } from './payment-status';
import { ACCEPTED_IN } from './transitions';
import { validatePaymentEvent } from './validate-payment-event';

type Refuse = (code: PaymentRefusalCode, reason: string) => PaymentTransitionError;

/**
 * The one place a payment's state changes: folds an event into the state, or refuses it with a
 * PaymentTransitionError naming the status, the event and why. Pure: the same state and event
 * always give the same result, which is what makes rehydration exact.
 */
export function applyPaymentEvent(state: PaymentState | undefined, event: PaymentEvent): PaymentState {
  const status = state?.status ?? 'none';
  const eventType = typeof (event as { type?: unknown } | null)?.type === 'string' ? event.type : 'an untyped event';
  const refuse: Refuse = (code, reason) => new PaymentTransitionError(code, status, eventType, reason);
  try {
    validatePaymentEvent(event);
  } catch (error) {
    if (error instanceof PaymentInputError) throw refuse('INVALID_INPUT', error.message);
    throw error;
  }
  if (event.type === 'PaymentInitiated') {
    if (state) throw refuse('ALREADY_INITIATED', 'PaymentInitiated is only ever the first event of a payment');
    return initiate(event);
  }
  if (!state) throw refuse('NOT_INITIATED', 'the first event of a payment must be PaymentInitiated');
  const acceptedIn = ACCEPTED_IN[event.type];
  if (!acceptedIn.includes(state.status)) {
    throw refuse('TRANSITION_NOT_ALLOWED', `${event.type} is accepted only in status ${acceptedIn.join(', ')}`);
  }
  return { ...evolve(state, event, refuse), version: state.version + 1 };
}

function initiate(event: PaymentInitiated): PaymentState {
  return {
    paymentId: event.paymentId,
    requestId: event.requestId,
    kind: event.kind,
    payerId: event.payerId,
    counterparty: { type: event.counterparty.type, id: event.counterparty.id },
    app: event.app,
    country: event.country,
    currency: event.currency,
    amount: event.amount,
    captureMethod: event.captureMethod,
    ...(event.paymentMethodId === undefined ? {} : { paymentMethodId: event.paymentMethodId }),
    status: 'initiated',
    version: 1,
    authorizedAmount: 0n,
    capturedAmount: 0n,
    refundedAmount: 0n,
    refunds: [],
  };
}

function evolve(state: PaymentState, event: Exclude<PaymentEvent, PaymentInitiated>, refuse: Refuse): PaymentState {
  switch (event.type) {
    case 'ActionRequired':
      return requireAction(state, event, refuse);
    case 'Authorized':
      return authorize(state, event, refuse);
    case 'DebitSubmitted':
      return submitDebit(state, event, refuse);
    case 'Captured':
      return capture(state, event, refuse);
    case 'Failed':
      return {
        ...state,
        status: 'failed',
        failure: event.declineCode === undefined ? { code: event.code } : { code: event.code, declineCode: event.declineCode },
      };
    case 'Canceled':
      return { ...state, status: 'canceled', cancellationReason: event.reason };
    case 'RefundRequested':
      return requestRefund(state, event, refuse);
    case 'Refunded':
      return settleRefund(state, event, refuse);
    case 'RefundFailed':
      return failRefund(state, event, refuse);
    case 'DisputeOpened':
      return openDispute(state, event, refuse);
    case 'DisputeWon':
    case 'DisputeLost':
      return closeDispute(state, event, refuse);
  }
}

/** One payment is one provider object: a second reference means two authorisations exist. */
function checkReference(state: PaymentState, event: ActionRequired | Authorized | DebitSubmitted, refuse: Refuse): void {
  if (state.reference !== undefined && (state.reference !== event.reference || state.provider !== event.provider)) {
    throw refuse('REFERENCE_MISMATCH', `the payment is held by ${state.provider} ${state.reference}, not ${event.provider} ${event.reference}`);
  }
}

function requireAction(state: PaymentState, event: ActionRequired, refuse: Refuse): PaymentState {
  checkReference(state, event, refuse);
  return { ...state, status: 'requires_action', provider: event.provider, reference: event.reference };
}

function authorize(state: PaymentState, event: Authorized, refuse: Refuse): PaymentState {
  checkReference(state, event, refuse);
  // We never ask for a partial authorisation: another amount means the provider holds the wrong sum.
  if (event.amount !== state.amount) {
    throw refuse('AMOUNT_MISMATCH', `the authorised amount ${event.amount} must equal the payment amount ${state.amount}`);
  }
  return { ...state, status: 'authorized', provider: event.provider, reference: event.reference, authorizedAmount: event.amount };
}

/** The debit asks the payer's bank for the whole amount; it counts as authorised for the capture that settles it. */
function submitDebit(state: PaymentState, event: DebitSubmitted, refuse: Refuse): PaymentState {
  checkReference(state, event, refuse);
  if (event.amount !== state.amount) {
    throw refuse('AMOUNT_MISMATCH', `the debited amount ${event.amount} must equal the payment amount ${state.amount}`);
  }
  return { ...state, status: 'processing', provider: event.provider, reference: event.reference, authorizedAmount: event.amount };
}

function capture(state: PaymentState, event: Captured, refuse: Refuse): PaymentState {
  // A bank debit settles whole or not at all.
  if (state.status === 'processing' && event.amount !== state.authorizedAmount) {
    throw refuse('AMOUNT_MISMATCH', `the debit of ${state.authorizedAmount} settles whole, not for ${event.amount}`);
  }
  if (event.amount > state.authorizedAmount) {
    throw refuse('CAPTURE_EXCEEDS_AUTHORIZED', `the capture of ${event.amount} exceeds the authorised ${state.authorizedAmount}`);
  }
  return { ...state, status: 'captured', capturedAmount: event.amount };
}

function requestRefund(state: PaymentState, event: RefundRequested, refuse: Refuse): PaymentState {
  if (findRefund(state, event.refundId)) throw refuse('REFUND_ALREADY_KNOWN', `refund ${event.refundId} was already requested`);
  const refundable = refundableAmount(state);
  if (event.amount > refundable) {
    throw refuse('REFUND_EXCEEDS_CAPTURED', `the refund of ${event.amount} exceeds the refundable ${refundable} (captured ${state.capturedAmount})`);
  }
  const refund: RefundRecord = { refundId: event.refundId, amount: event.amount, reason: event.reason, status: 'pending' };
  return { ...state, refunds: [...state.refunds, refund] };
}

/** Partially refunded while something is left, refunded once the refunds reach the captured amount. */
function statusAfterRefunds(capturedAmount: bigint, refundedAmount: bigint): PaymentStatus {
  if (refundedAmount === 0n) return 'captured';
  return refundedAmount >= capturedAmount ? 'refunded' : 'partially_refunded';
}

function settleRefund(state: PaymentState, event: Refunded, refuse: Refuse): PaymentState {
  const known = findRefund(state, event.refundId);
  let refunds: readonly RefundRecord[];
  if (known) {
    if (known.status !== 'pending') throw refuse('REFUND_NOT_PENDING', `refund ${event.refundId} already ${known.status}`);
    if (known.amount !== event.amount) {
      throw refuse('AMOUNT_MISMATCH', `refund ${event.refundId} was requested for ${known.amount}, not ${event.amount}`);
    }
    refunds = state.refunds.map((refund) => (refund === known ? { ...refund, status: 'succeeded' as const } : refund));
  } else {
    // A refund made at the provider (its dashboard, its own dispute handling): recorded as it settles.
    if (state.status === 'disputed') throw refuse('REFUND_NOT_PENDING', 'a disputed payment only settles refunds requested before the dispute');
    const refundable = refundableAmount(state);
    if (event.amount > refundable) {
      throw refuse('REFUND_EXCEEDS_CAPTURED', `the refund of ${event.amount} exceeds the refundable ${refundable} (captured ${state.capturedAmount})`);
    }
    refunds = [...state.refunds, { refundId: event.refundId, amount: event.amount, reason: 'psp', status: 'succeeded' }];
  }
  const refundedAmount = state.refundedAmount + event.amount;
  const status = state.status === 'disputed' ? 'disputed' : statusAfterRefunds(state.capturedAmount, refundedAmount);
  return { ...state, status, refunds, refundedAmount };
}

function failRefund(state: PaymentState, event: RefundFailed, refuse: Refuse): PaymentState {
  const known = findRefund(state, event.refundId);
  if (!known || known.status !== 'pending') {
    throw refuse('REFUND_NOT_PENDING', known ? `refund ${event.refundId} already ${known.status}` : `refund ${event.refundId} was never requested`);
  }
  return { ...state, refunds: state.refunds.map((refund) => (refund === known ? { ...refund, status: 'failed' as const } : refund)) };
}

function openDispute(state: PaymentState, event: DisputeOpened, refuse: Refuse): PaymentState {
  if (state.dispute) throw refuse('TRANSITION_NOT_ALLOWED', `a charge is disputed at most once; ${state.dispute.disputeId} was ${state.dispute.outcome}`);
  const disputable = refundableAmount(state);
  if (event.amount > disputable) {
    throw refuse('DISPUTE_EXCEEDS_CAPTURED', `the disputed ${event.amount} exceeds what was captured and not refunded (${disputable})`);
  }
  return { ...state, status: 'disputed', dispute: { disputeId: event.disputeId, amount: event.amount, reason: event.reason, outcome: 'open' } };
}

function closeDispute(state: PaymentState, event: DisputeWon | DisputeLost, refuse: Refuse): PaymentState {
  const dispute = state.dispute;
  if (!dispute || dispute.disputeId !== event.disputeId || dispute.outcome !== 'open') {
    throw refuse('DISPUTE_NOT_OPEN', dispute ? `dispute ${dispute.disputeId} is ${dispute.outcome}` : 'no dispute is open');
  }
  if (event.type === 'DisputeLost') {
    // The bank kept the money: the payment stays disputed for good, and nothing more is refundable of it.
    return { ...state, dispute: { ...dispute, outcome: 'lost' } };
  }
  return { ...state, status: statusAfterRefunds(state.capturedAmount, state.refundedAmount), dispute: { ...dispute, outcome: 'won' } };
}
