import { Module } from '@nestjs/common';
import { LedgerModule } from '../ledger';
import { MarkBankAccountUnusable } from '../mark-bank-account-unusable/mark-bank-account-unusable';
import { PaymentsInProgressModule } from '../payments-in-progress/payments-in-progress.module';
import { PaymentEventsController } from './payment-events.controller';
import { PostPaymentsToLedger } from './post-payments-to-ledger.service';

/**
 * Posts captured, refunded and dispute-lost payments to the ledger, keeps track of the payments
 * awaiting their charge, and marks a bank account its bank refused for good.
 */
@Module({
  imports: [LedgerModule, PaymentsInProgressModule],
  controllers: [PaymentEventsController],
  providers: [PostPaymentsToLedger, MarkBankAccountUnusable],
})
export class PostPaymentsToLedgerModule {}
