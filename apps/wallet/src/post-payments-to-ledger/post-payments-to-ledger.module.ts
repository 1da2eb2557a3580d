import { Module } from '@nestjs/common';
import { LedgerModule } from '../ledger';
import { PaymentEventsController } from './payment-events.controller';
import { PostPaymentsToLedger } from './post-payments-to-ledger.service';

/** Posts captured, refunded and dispute-lost payments to the ledger. */
@Module({
  imports: [LedgerModule],
  controllers: [PaymentEventsController],
  providers: [PostPaymentsToLedger],
})
export class PostPaymentsToLedgerModule {}
