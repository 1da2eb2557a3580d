import { Body, Controller, Headers, Inject, NotFoundException, Param, Post, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOperation,
  ApiParam,
  ApiPropertyOptional,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { describeActor, Principal, RequireScopes, Roles } from '@pay/auth';
import { money, Money, toMinorUnits } from '@pay/contracts';
import { Type } from 'class-transformer';
import { IsIn, IsOptional, ValidateNested } from 'class-validator';
import type { IdempotentResponse } from '../http/idempotency-key';
import { answerIdempotently, idempotencyKeyOf } from '../http/idempotency-key';
import { PaymentEventStore } from '../payments/store/payment-event-store';
import { mayRefundPayment, PAYMENT_NOT_FOUND } from '../view-payment/payment-access';
import { PaymentParams } from '../view-payment/view-payment.controller';
import type { RefundAccepted } from './refund-payment';
import { RefundPayment } from './refund-payment';

const REASONS = ['requested_by_customer', 'duplicate', 'fraudulent'] as const;

export class RefundPaymentRequest {
  @ApiPropertyOptional({ example: { amount: '500', currency: 'USD' }, description: 'Absent: all that is still refundable.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => Money)
  amount?: Money;

  @ApiPropertyOptional({ enum: REASONS })
  @IsOptional()
  @IsIn(REASONS)
  reason?: (typeof REASONS)[number];
}

/**
 * Refunds, full or partial, several up to the captured amount; for operators, for services with
 * `payments:refund` on the payments to the merchants their token acts for (another's: 404), and
 * for the support service (`payments:refund`) on any payment, for its agents.
 */
@ApiTags('payments')
@ApiBearerAuth()
@Controller('v1/payments/:paymentId/refunds')
@ApiParam({ name: 'paymentId', description: 'The payment to refund' })
@Roles('service', 'operator')
@RequireScopes('payments:refund')
export class RefundsController {
  constructor(
    @Inject(RefundPayment) private readonly refundPayment: RefundPayment,
    @Inject(PaymentEventStore) private readonly store: PaymentEventStore,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Refund all or part of a captured payment (idempotent by Idempotency-Key)' })
  @ApiHeader({ name: 'Idempotency-Key', required: true, description: 'A UUID' })
  @ApiAcceptedResponse({ description: 'The refund is requested; refunded or refund-failed follows on payments.events.v1' })
  @ApiNotFoundResponse({ description: "PAYMENT_NOT_FOUND: no such payment, or (for a service) not to a merchant its token's `merchants` names" })
  @ApiConflictResponse({ description: 'TRANSITION_NOT_ALLOWED (not captured, disputed), REFUND_NOT_SUPPORTED' })
  @ApiUnprocessableEntityResponse({ description: 'REFUND_EXCEEDS_CAPTURED, CURRENCY_MISMATCH, IDEMPOTENCY_KEY_REUSED' })
  async refund(
    @Param() params: PaymentParams,
    @Headers('idempotency-key') key: string | undefined,
    @Body() body: RefundPaymentRequest,
    @Principal() caller: Caller,
    @Res({ passthrough: true }) response: IdempotentResponse,
  ): Promise<RefundAccepted> {
    // The counterparty never changes, so checking before the refund's own transaction is enough.
    const payment = await this.store.load(params.paymentId);
    if (!payment || !mayRefundPayment(caller, payment)) throw new NotFoundException(PAYMENT_NOT_FOUND);
    const outcome = await this.refundPayment.request({
      paymentId: params.paymentId,
      idempotencyKey: idempotencyKeyOf(key),
      // A fresh Money in canonical form: the idempotency hash sees exactly these fields.
      ...(body.amount ? { amount: money(toMinorUnits(body.amount), body.amount.currency) } : {}),
      ...(body.reason ? { reason: body.reason } : {}),
      actor: describeActor(caller),
    });
    return answerIdempotently(response, outcome);
  }
}
