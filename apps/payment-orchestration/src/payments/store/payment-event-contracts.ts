import type { EventDefinition } from '@pay/contracts';
import {
  money,
  PaymentActionRequiredV1,
  PaymentAuthorizedV1,
  PaymentCanceledV1,
  PaymentCapturedV1,
  PaymentDisputeLostV1,
  PaymentDisputeOpenedV1,
  PaymentDisputeWonV1,
  PaymentFailedV1,
  PaymentInitiatedV1,
  PaymentProcessingV1,
  PaymentRefundedV1,
  PaymentRefundFailedV1,
  PaymentRefundRequestedV1,
} from '@pay/contracts';
import type { PaymentEvent, PaymentState } from '@pay/payments-domain';

export interface PublishedPaymentEvent {
  readonly definition: EventDefinition;
  readonly data: object;
}

/** Who pays whom, from the payment as it is after the event (the events that move money carry it). */
function movement(state: PaymentState, amount: bigint): object {
  return {
    paymentId: state.paymentId,
    kind: state.kind,
    payerId: state.payerId,
    counterparty: { ...state.counterparty },
    provider: state.provider,
    reference: state.reference,
    amount: money(amount, state.currency),
  };
}

/**
 * The `payments.events.v1` form of a domain event, given the payment's state right after it.
 * Validated by `createEvent` on the way out: an event consumers would refuse is never written.
 */
export function toPublishedEvent(event: PaymentEvent, after: PaymentState): PublishedPaymentEvent {
  const paymentId = after.paymentId;
  const amount = (value: bigint) => money(value, after.currency);
  switch (event.type) {
    case 'PaymentInitiated':
      return {
        definition: PaymentInitiatedV1,
        data: {
          paymentId,
          requestId: event.requestId,
          kind: event.kind,
          payerId: event.payerId,
          counterparty: { ...event.counterparty },
          app: event.app,
          country: event.country,
          amount: amount(event.amount),
          captureMethod: event.captureMethod,
          ...(event.paymentMethodId === undefined ? {} : { paymentMethodId: event.paymentMethodId }),
          ...(event.merchantCategory === undefined ? {} : { merchantCategory: event.merchantCategory }),
        },
      };
    case 'ActionRequired':
      return { definition: PaymentActionRequiredV1, data: { paymentId, provider: event.provider, reference: event.reference } };
    case 'Authorized':
      return { definition: PaymentAuthorizedV1, data: { paymentId, amount: amount(event.amount), provider: event.provider, reference: event.reference } };
    case 'DebitSubmitted':
      return { definition: PaymentProcessingV1, data: movement(after, event.amount) };
    case 'Captured':
      return { definition: PaymentCapturedV1, data: { ...movement(after, event.amount), authorizedAmount: amount(after.authorizedAmount) } };
    case 'Failed':
      return {
        definition: PaymentFailedV1,
        data: { paymentId, code: event.code, ...(event.declineCode === undefined ? {} : { declineCode: event.declineCode }) },
      };
    case 'Canceled':
      return { definition: PaymentCanceledV1, data: { paymentId, reason: event.reason } };
    case 'RefundRequested':
      return { definition: PaymentRefundRequestedV1, data: { paymentId, refundId: event.refundId, amount: amount(event.amount), reason: event.reason } };
    case 'Refunded':
      return {
        definition: PaymentRefundedV1,
        data: {
          ...movement(after, event.amount),
          refundId: event.refundId,
          refundedTotal: amount(after.refundedAmount),
          full: after.refundedAmount === after.capturedAmount,
        },
      };
    case 'RefundFailed':
      return { definition: PaymentRefundFailedV1, data: { paymentId, refundId: event.refundId, reason: event.reason } };
    case 'DisputeOpened':
      return { definition: PaymentDisputeOpenedV1, data: { paymentId, disputeId: event.disputeId, amount: amount(event.amount), reason: event.reason } };
    case 'DisputeWon':
      return { definition: PaymentDisputeWonV1, data: { paymentId, disputeId: event.disputeId, amount: amount(after.dispute?.amount ?? 0n) } };
    case 'DisputeLost':
      return { definition: PaymentDisputeLostV1, data: { ...movement(after, after.dispute?.amount ?? 0n), disputeId: event.disputeId } };
  }
}
