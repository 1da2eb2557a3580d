import { Module } from '@nestjs/common';
import { PaymentArrivals } from './payment-arrivals';
import { PaymentsInProgress } from './payments-in-progress';

/** The payments awaiting their charge, read by the instrument release, written by the payment events' consumer. */
@Module({ providers: [PaymentsInProgress, PaymentArrivals], exports: [PaymentsInProgress, PaymentArrivals] })
export class PaymentsInProgressModule {}
