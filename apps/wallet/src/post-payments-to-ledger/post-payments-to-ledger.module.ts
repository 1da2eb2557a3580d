import { Module } from '@nestjs/common';
import { LedgerModule } from '../ledger';
import { PaymentsInProgressModule } from '../payments-in-progress/payments-in-progress.module';
import { PaymentEventsController } from './payment-events.controller';
import { PostPaymentsToLedger } from './post-payments-to-ledger.service';

/** Posts captured, refunded and dispute-lost payments to the ledger, and keeps track of the payments awaiting their charge. */
@Module({
  imports: [LedgerModule, PaymentsInProgressModule],
  controllers: [PaymentEventsController],
  providers: [PostPaymentsToLedger],
})
export class PostPaymentsToLedgerModule {}
