import { Controller, Get, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { Principal, RequireScopes, Roles } from '@pay/auth';
import { ID_PATTERN } from '@pay/contracts';
import type { Payment } from '@pay/payments-domain';
import { refundableAmount } from '@pay/payments-domain';
import { IsUUID, Matches } from 'class-validator';
import { PaymentEventStore } from '../payments/store/payment-event-store';
import { mayAccessPayment, mayInitiateInApp, PAYMENT_NOT_FOUND } from './payment-access';

export class PaymentParams {
  @Matches(ID_PATTERN, { message: 'paymentId must be 1 to 100 of letters, digits, "_", "-", ":" and "."' })
  paymentId!: string;
}

/** A producer's lookup of its request's outcome: the request id and the payer it asked for (in its own app). */
export class PaymentByRequestQuery {
  @ApiProperty({ format: 'uuid', description: 'The requestId of the purchase request (Kafka) or the Idempotency-Key (HTTP)' })
  @IsUUID(undefined, { message: 'requestId must be a UUID: the requestId of the purchase request' })
  requestId!: string;

  @ApiProperty({ example: 'person-42', description: 'The payer named in the request; a payment whose payer differs is not returned' })
  @Matches(ID_PATTERN, { message: 'payerId must be 1 to 100 of letters, digits, "_", "-", ":" and "." (the payer named in the request)' })
  payerId!: string;
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

  /**
   * For a producer that does not read payments.events.v1: the payment its request created, found by
   * requestId. Least privilege: internal services only (they act for the payer they name), and the
   * payer must be the one the request named; otherwise, or before the request is processed, or when
   * it was refused (payments.payment.rejected; the HTTP door answered the refusal at once), the list
   * is empty.
   */
  @Get()
  @Roles('service')
  @RequireScopes('payments:initiate')
  @ApiOperation({ summary: "The payment a purchase request created, by the request's requestId and payer (0 or 1 payments)" })
  @ApiOkResponse({ description: '{ payments: [the payment] } or { payments: [] }: not processed yet, refused, or another payer' })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: only app backends (role service, scope payments:initiate) look payments up by request' })
  async findByRequest(@Query() query: PaymentByRequestQuery, @Principal() caller: Caller): Promise<{ payments: Record<string, unknown>[] }> {
    const paymentId = await this.store.paymentIdOfRequest(query.requestId, query.payerId);
    const payment = paymentId === undefined ? undefined : await this.store.load(paymentId);
    // Another app's payment is not this backend's to see, whoever knows its ids.
    return { payments: payment && mayInitiateInApp(caller, payment.state.app) ? [paymentView(payment)] : [] };
  }

  @Get(':paymentId')
  @ApiParam({ name: 'paymentId', example: 'pay_7f1d3c1e8a47' })
  @ApiOperation({ summary: 'A payment as it is now (rebuilt from its events)' })
  @RequireScopes('payments:read')
  @ApiOkResponse({ description: 'The payment' })
  @ApiNotFoundResponse({ description: "PAYMENT_NOT_FOUND: no such payment, or (for a service) not to a merchant its token's `merchants` names" })
  async view(@Param() params: PaymentParams, @Principal() caller: Caller): Promise<Record<string, unknown>> {
    const payment = await this.store.load(params.paymentId);
    if (!payment || !mayAccessPayment(caller, payment)) throw new NotFoundException(PAYMENT_NOT_FOUND);
    return paymentView(payment);
  }
}
