import { applyPaymentEvent } from './apply-payment-event';
import { PaymentTransitionError } from './payment-errors';
import type { PaymentEvent, PaymentInitiated, RefundReason, RefundRequested } from './payment-events';
import type { PaymentState } from './payment-state';
import { refundableAmount } from './payment-state';
import type { PaymentStatus } from './payment-status';
import { ACCEPTED_IN } from './transitions';

/**
 * The payment aggregate, event-sourced: its state is the fold of its events through
 * `applyPaymentEvent`, and it changes only by applying another one. Immutable: `apply` returns
 * a new Payment, so a refused event leaves the caller's payment as it was.
 */
export class Payment {
  private constructor(readonly state: PaymentState) {}

  /** A new payment from its first event. */
  static start(event: PaymentInitiated): Payment {
    return new Payment(applyPaymentEvent(undefined, event));
  }

  /** Rebuilds a payment from its whole stream, oldest first; refuses a stream the machine would not have produced. */
  static rehydrate(events: readonly PaymentEvent[]): Payment {
    if (events.length === 0) {
      throw new PaymentTransitionError('NOT_INITIATED', 'none', 'an empty stream', 'a payment is rebuilt from at least its PaymentInitiated event');
    }
    return new Payment(events.reduce<PaymentState | undefined>(applyPaymentEvent, undefined) as PaymentState);
  }

  /**
   * A payment from a state kept beside its stream (the store's row, written in the same
   * transaction as each append). The stream stays the source of truth: a kept state is only
   * ever one that `applyPaymentEvent` produced, and can be rebuilt with `rehydrate`.
   */
  static restore(state: PaymentState): Payment {
    return new Payment(state);
  }

  get id(): string {
    return this.state.paymentId;
  }

  get status(): PaymentStatus {
    return this.state.status;
  }

  /** Events applied so far; the expected version when appending the next ones. */
  get version(): number {
    return this.state.version;
  }

  /** Throws PaymentTransitionError (with the status and the event) when the event does not fit. */
  apply(event: PaymentEvent): Payment {
    return new Payment(applyPaymentEvent(this.state, event));
  }

  /** Applies several events in order, all or none. */
  applyAll(events: readonly PaymentEvent[]): Payment {
    return events.reduce<Payment>((payment, event) => payment.apply(event), this);
  }

  /** Whether the event would be accepted, without throwing. */
  accepts(event: PaymentEvent): boolean {
    try {
      applyPaymentEvent(this.state, event);
      return true;
    } catch (error) {
      if (error instanceof PaymentTransitionError) return false;
      throw error;
    }
  }

  refundableAmount(): bigint {
    return refundableAmount(this.state);
  }

  /**
   * Decides a refund: the event to append, or a PaymentTransitionError saying why not (not
   * captured, disputed, more than what is left). The full refund is the refundable amount.
   */
  requestRefund(input: { refundId: string; amount?: bigint; reason?: RefundReason }): RefundRequested {
    if (input.amount === undefined) {
      // Say why there is nothing to refund rather than complain about a zero amount.
      const acceptedIn = ACCEPTED_IN.RefundRequested;
      if (!acceptedIn.includes(this.status)) {
        throw new PaymentTransitionError(
          'TRANSITION_NOT_ALLOWED',
          this.status,
          'RefundRequested',
          `RefundRequested is accepted only in status ${acceptedIn.join(', ')}`,
        );
      }
      if (this.refundableAmount() === 0n)
        throw new PaymentTransitionError('REFUND_EXCEEDS_CAPTURED', this.status, 'RefundRequested', 'nothing is left to refund');
    }
    const event: RefundRequested = {
      type: 'RefundRequested',
      refundId: input.refundId,
      amount: input.amount ?? this.refundableAmount(),
      reason: input.reason ?? 'requested_by_customer',
    };
    this.apply(event);
    return event;
  }
}
