import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ConsentChangedV1, PaymentCapturedV1, PaymentInitiatedV1, PaymentMethodAddedV1, PaymentRefundedV1 } from '@pay/contracts';
import type { ConsumedEvent } from '@pay/messaging';
import { InboxContext } from '@pay/messaging';
import { PeriodicWindowCloser } from '../close-windows/periodic-window-closer';
import { RecordConsent } from '../record-consent/consent.recorder';
import { RecordPaymentFacts } from '../record-payment-facts/payment-facts.recorder';

/**
 * Payment and wallet events, applied exactly once (inbox, manual commits). Input that is not a
 * payment fact — an unknown type version, a bad amount — goes to `<topic>.dlq` with the reason.
 * Each applied event may move the watermark, so the window closer is told (it runs no sooner than
 * an interval later, by when the inbox transaction has committed).
 */
@Controller()
export class PaymentUsageController {
  constructor(
    private readonly payments: RecordPaymentFacts,
    private readonly consent: RecordConsent,
    private readonly windows: PeriodicWindowCloser,
  ) {}

  @EventPattern(PaymentInitiatedV1.type)
  initiated(@Payload() event: ConsumedEvent, @Ctx() context: InboxContext): Promise<void> {
    return this.thenTellWindowCloser(this.payments.initiated(event, context.getSql(), context.getBatch()));
  }

  @EventPattern(PaymentCapturedV1.type)
  captured(@Payload() event: ConsumedEvent, @Ctx() context: InboxContext): Promise<void> {
    return this.thenTellWindowCloser(this.payments.captured(event, context.getSql(), context.getBatch()));
  }

  @EventPattern(PaymentRefundedV1.type)
  refunded(@Payload() event: ConsumedEvent, @Ctx() context: InboxContext): Promise<void> {
    return this.thenTellWindowCloser(this.payments.refunded(event, context.getSql(), context.getBatch()));
  }

  @EventPattern(ConsentChangedV1.type)
  consentChanged(@Payload() event: ConsumedEvent, @Ctx() context: InboxContext): Promise<void> {
    return this.thenTellWindowCloser(this.consent.consentChanged(event, context.getSql(), context.getBatch()));
  }

  @EventPattern(PaymentMethodAddedV1.type)
  methodAdded(@Payload() event: ConsumedEvent, @Ctx() context: InboxContext): Promise<void> {
    return this.thenTellWindowCloser(this.consent.methodAdded(event, context.getSql(), context.getBatch()));
  }

  private async thenTellWindowCloser(applying: Promise<void>): Promise<void> {
    await applying;
    this.windows.watermarkMayHaveMoved();
  }
}
