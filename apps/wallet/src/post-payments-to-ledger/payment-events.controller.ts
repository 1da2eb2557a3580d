import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type {
  PaymentActionRequiredData,
  PaymentAuthorizedData,
  PaymentCanceledData,
  PaymentCapturedData,
  PaymentDisputeLostData,
  PaymentDisputeOpenedData,
  PaymentFailedData,
  PaymentInitiatedData,
  PaymentProcessingData,
  PaymentRefundedData,
} from '@pay/contracts';
import {
  PaymentActionRequiredV1,
  PaymentAuthorizedV1,
  PaymentCanceledV1,
  PaymentCapturedV1,
  PaymentDisputeLostV1,
  PaymentDisputeOpenedV1,
  PaymentFailedV1,
  PaymentInitiatedV1,
  PaymentProcessingV1,
  PaymentRefundedV1,
} from '@pay/contracts';
import type { ConsumedEvent } from '@pay/messaging';
import { InboxContext } from '@pay/messaging';
import { MarkBankAccountUnusable } from '../mark-bank-account-unusable/mark-bank-account-unusable';
import { PaymentsInProgress } from '../payments-in-progress/payments-in-progress';
import { PAYMENTS_LEDGER } from '../wallet.consumers';
import { PostPaymentsToLedger } from './post-payments-to-ledger.service';

/**
 * payments.events.v1 the wallet reads (consumer group PAYMENTS_LEDGER_CONSUMER_GROUP): those that
 * move money are posted to the ledger; those that start or end a payment's charge tell the
 * instrument release which payments await one (PaymentsInProgress); a bank's refusal for good,
 * late (failed) or after settlement (the return, a dispute opened with the bank's code), marks the
 * debited account unusable (MarkBankAccountUnusable). The others are acknowledged unread.
 */
@Controller()
export class PaymentEventsController {
  constructor(
    private readonly postings: PostPaymentsToLedger,
    private readonly inProgress: PaymentsInProgress,
    private readonly bankAccounts: MarkBankAccountUnusable,
  ) {}

  @EventPattern(PaymentInitiatedV1.type, { subscription: PAYMENTS_LEDGER })
  initiated(@Payload() event: ConsumedEvent<PaymentInitiatedData>, @Ctx() context: InboxContext): void {
    this.inProgress.initiated(context.getSql(), context.getBatch(), event.envelope.data);
  }

  @EventPattern(PaymentActionRequiredV1.type, { subscription: PAYMENTS_LEDGER })
  actionRequired(@Payload() event: ConsumedEvent<PaymentActionRequiredData>, @Ctx() context: InboxContext): void {
    this.inProgress.pastCharge(context.getSql(), context.getBatch(), event.envelope.data.paymentId);
  }

  @EventPattern(PaymentAuthorizedV1.type, { subscription: PAYMENTS_LEDGER })
  authorized(@Payload() event: ConsumedEvent<PaymentAuthorizedData>, @Ctx() context: InboxContext): void {
    this.inProgress.pastCharge(context.getSql(), context.getBatch(), event.envelope.data.paymentId);
  }

  @EventPattern(PaymentCanceledV1.type, { subscription: PAYMENTS_LEDGER })
  canceled(@Payload() event: ConsumedEvent<PaymentCanceledData>, @Ctx() context: InboxContext): void {
    this.inProgress.pastCharge(context.getSql(), context.getBatch(), event.envelope.data.paymentId);
  }

  @EventPattern(PaymentCapturedV1.type, { subscription: PAYMENTS_LEDGER })
  async captured(@Payload() event: ConsumedEvent<PaymentCapturedData>, @Ctx() context: InboxContext): Promise<void> {
    this.inProgress.pastCharge(context.getSql(), context.getBatch(), event.envelope.data.paymentId);
    await this.postings.captured(event, context.getSql(), context.getBatch());
  }

  @EventPattern(PaymentProcessingV1.type, { subscription: PAYMENTS_LEDGER })
  async processing(@Payload() event: ConsumedEvent<PaymentProcessingData>, @Ctx() context: InboxContext): Promise<void> {
    this.inProgress.pastCharge(context.getSql(), context.getBatch(), event.envelope.data.paymentId);
    await this.postings.processing(event, context.getSql(), context.getBatch());
  }

  @EventPattern(PaymentFailedV1.type, { subscription: PAYMENTS_LEDGER })
  async failed(@Payload() event: ConsumedEvent<PaymentFailedData>, @Ctx() context: InboxContext): Promise<void> {
    this.inProgress.pastCharge(context.getSql(), context.getBatch(), event.envelope.data.paymentId);
    await this.postings.failed(event, context.getSql(), context.getBatch());
    await this.bankAccounts.afterFailure(context.getSql(), event.envelope.data);
  }

  @EventPattern(PaymentRefundedV1.type, { subscription: PAYMENTS_LEDGER })
  refunded(@Payload() event: ConsumedEvent<PaymentRefundedData>, @Ctx() context: InboxContext): Promise<void> {
    return this.postings.refunded(event, context.getSql(), context.getBatch());
  }

  @EventPattern(PaymentDisputeOpenedV1.type, { subscription: PAYMENTS_LEDGER })
  disputeOpened(@Payload() event: ConsumedEvent<PaymentDisputeOpenedData>, @Ctx() context: InboxContext): Promise<void> {
    return this.bankAccounts.afterDisputeOpened(context.getSql(), event.envelope.data);
  }

  @EventPattern(PaymentDisputeLostV1.type, { subscription: PAYMENTS_LEDGER })
  disputeLost(@Payload() event: ConsumedEvent<PaymentDisputeLostData>, @Ctx() context: InboxContext): Promise<void> {
    return this.postings.disputeLost(event, context.getSql(), context.getBatch());
  }
}
