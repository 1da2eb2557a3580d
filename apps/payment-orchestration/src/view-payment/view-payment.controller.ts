import { Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '@pay/auth';
import { ID_PATTERN } from '@pay/contracts';
import type { Payment } from '@pay/payments-domain';
import { refundableAmount } from '@pay/payments-domain';
import { Matches } from 'class-validator';
import { PaymentEventStore } from '../payments/store/payment-event-store';

export class PaymentParams {
  @Matches(ID_PATTERN, { message: 'paymentId must be 1 to 100 of letters, digits, "_", "-", ":" and "."' })
  paymentId!: string;
}

const minor = (amount: bigint, currency: string) => ({ amount: amount.toString(), currency });

/** The payment as its events made it, for the apps and support. Amounts in minor units as strings. */
export function paymentView(payment: Payment): Record<string, unknown> {
  const s = payment.state;
  return {
    paymentId: s.paymentId,
    requestId: s.requestId,
    kind: s.kind,
    status: s.status,
    payerId: s.payerId,
    counterparty: s.counterparty,
    app: s.app,
    country: s.country,
    amount: minor(s.amount, s.currency),
    capturedAmount: minor(s.capturedAmount, s.currency),
    refundedAmount: minor(s.refundedAmount, s.currency),
    refundableAmount: minor(refundableAmount(s), s.currency),
    ...(s.provider ? { provider: s.provider, reference: s.reference } : {}),
    refunds: s.refunds.map((r) => ({ refundId: r.refundId, amount: minor(r.amount, s.currency), reason: r.reason, status: r.status })),
    ...(s.dispute ? { dispute: { ...s.dispute, amount: minor(s.dispute.amount, s.currency) } } : {}),
    ...(s.failure ? { failure: s.failure } : {}),
    ...(s.cancellationReason ? { cancellationReason: s.cancellationReason } : {}),
    version: s.version,
  };
}

@ApiTags('payments')
@ApiBearerAuth()
@Controller('v1/payments')
@Roles('service', 'operator')
export class ViewPaymentController {
  constructor(@Inject(PaymentEventStore) private readonly store: PaymentEventStore) {}

  @Get(':paymentId')
  @ApiOperation({ summary: 'A payment as it is now (rebuilt from its events)' })
  @ApiOkResponse({ description: 'The payment' })
  @ApiNotFoundResponse({ description: 'PAYMENT_NOT_FOUND' })
  async view(@Param() params: PaymentParams): Promise<Record<string, unknown>> {
    const payment = await this.store.load(params.paymentId);
    if (!payment) throw new NotFoundException({ code: 'PAYMENT_NOT_FOUND', message: 'no payment has this id' });
    return paymentView(payment);
  }
}
