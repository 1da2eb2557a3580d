import { Module } from '@nestjs/common';
import { ForgetFinishedPayments } from './forget-finished-payments';
import { PaymentArrivals } from './payment-arrivals';
import { PaymentsInProgress } from './payments-in-progress';

/** The payments awaiting their charge, read by the instrument release, written by the payment events' consumer, and their housekeeping. */
@Module({ providers: [PaymentsInProgress, PaymentArrivals, ForgetFinishedPayments], exports: [PaymentsInProgress, PaymentArrivals, ForgetFinishedPayments] })
export class PaymentsInProgressModule {}
