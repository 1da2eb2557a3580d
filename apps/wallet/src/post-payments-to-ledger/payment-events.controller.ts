import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { PaymentCapturedData, PaymentDisputeLostData, PaymentFailedData, PaymentProcessingData, PaymentRefundedData } from '@pay/contracts';
import { PaymentCapturedV1, PaymentDisputeLostV1, PaymentFailedV1, PaymentProcessingV1, PaymentRefundedV1 } from '@pay/contracts';
import type { ConsumedEvent } from '@pay/messaging';
import { InboxContext } from '@pay/messaging';
import { PAYMENTS_LEDGER } from '../wallet.consumers';
import { PostPaymentsToLedger } from './post-payments-to-ledger.service';

/** payments.events.v1 that move money (consumer group PAYMENTS_LEDGER_CONSUMER_GROUP); the other payment events are acknowledged unread. */
@Controller()
export class PaymentEventsController {
  constructor(private readonly postings: PostPaymentsToLedger) {}

  @EventPattern(PaymentCapturedV1.type, { subscription: PAYMENTS_LEDGER })
  captured(@Payload() event: ConsumedEvent<PaymentCapturedData>, @Ctx() context: InboxContext): Promise<void> {
    return this.postings.captured(event, context.getTransaction(), context.getBatch());
  }

  @EventPattern(PaymentProcessingV1.type, { subscription: PAYMENTS_LEDGER })
  processing(@Payload() event: ConsumedEvent<PaymentProcessingData>, @Ctx() context: InboxContext): Promise<void> {
    return this.postings.processing(event, context.getTransaction(), context.getBatch());
  }

  @EventPattern(PaymentFailedV1.type, { subscription: PAYMENTS_LEDGER })
  failed(@Payload() event: ConsumedEvent<PaymentFailedData>, @Ctx() context: InboxContext): Promise<void> {
    return this.postings.failed(event, context.getTransaction(), context.getBatch());
  }

  @EventPattern(PaymentRefundedV1.type, { subscription: PAYMENTS_LEDGER })
  refunded(@Payload() event: ConsumedEvent<PaymentRefundedData>, @Ctx() context: InboxContext): Promise<void> {
    return this.postings.refunded(event, context.getTransaction(), context.getBatch());
  }

  @EventPattern(PaymentDisputeLostV1.type, { subscription: PAYMENTS_LEDGER })
  disputeLost(@Payload() event: ConsumedEvent<PaymentDisputeLostData>, @Ctx() context: InboxContext): Promise<void> {
    return this.postings.disputeLost(event, context.getTransaction(), context.getBatch());
  }
}
