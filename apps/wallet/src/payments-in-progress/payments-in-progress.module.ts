import { Module } from '@nestjs/common';
import { PaymentsInProgress } from './payments-in-progress';

/** The payments awaiting their charge, read by the instrument release, written by the payment events' consumer. */
@Module({ providers: [PaymentsInProgress], exports: [PaymentsInProgress] })
export class PaymentsInProgressModule {}
