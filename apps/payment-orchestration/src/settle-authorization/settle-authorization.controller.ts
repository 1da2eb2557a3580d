import { Body, Controller, Headers, HttpCode, Inject, NotFoundException, Param, Post, Res } from '@nestjs/common';
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
import { IsMoney, money, Money, toMinorUnits } from '@pay/contracts';
import { IsOptional } from 'class-validator';
import type { IdempotentResponse } from '../http/idempotency-key';
import { answerIdempotently, idempotencyKeyOf } from '../http/idempotency-key';
import { PaymentEventStore } from '../payments/store/payment-event-store';
import { mayAccessPayment, PAYMENT_NOT_FOUND } from '../view-payment/payment-access';
import { PaymentParams } from '../view-payment/view-payment.controller';
import type { AuthorizationDecision, SettlementAccepted } from './settle-authorization';
import { SettleAuthorization } from './settle-authorization';

export class CapturePaymentRequest {
  @ApiPropertyOptional({ example: { amount: '1500', currency: 'USD' }, description: 'Absent: the whole authorised amount. Less releases the rest.' })
  @IsOptional()
  @IsMoney()
  amount?: Money;
}

/**
 * Manual capture (a purchase requested with `captureMethod: manual` is only authorised): its
 * merchant's backend (`payments:initiate`, for the merchants its token acts for; another's: 404)
 * or an operator captures it, in whole or part, or voids it. One decision per authorisation.
 */
@ApiTags('payments')
@ApiBearerAuth()
@Controller('v1/payments/:paymentId')
@ApiParam({ name: 'paymentId', description: 'An authorized payment with captureMethod manual' })
@Roles('service', 'operator')
@RequireScopes('payments:initiate')
export class SettleAuthorizationController {
  constructor(
    @Inject(SettleAuthorization) private readonly settle: SettleAuthorization,
    @Inject(PaymentEventStore) private readonly store: PaymentEventStore,
  ) {}

  @Post('capture')
  @HttpCode(202)
  @ApiOperation({ summary: 'Capture all or part of a manual authorisation (idempotent by Idempotency-Key)' })
  @ApiHeader({ name: 'Idempotency-Key', required: true, description: 'A UUID' })
  @ApiAcceptedResponse({ description: 'The capture is asked of the provider; payments.payment.captured (or canceled) follows on payments.events.v1' })
  @ApiNotFoundResponse({ description: "PAYMENT_NOT_FOUND: no such payment, or (for a service) not to a merchant its token's `merchants` names" })
  @ApiConflictResponse({ description: 'CAPTURE_METHOD_AUTOMATIC, TRANSITION_NOT_ALLOWED (not authorized), AUTHORIZATION_ALREADY_SETTLING' })
  @ApiUnprocessableEntityResponse({ description: 'CAPTURE_EXCEEDS_AUTHORIZED, CURRENCY_MISMATCH, IDEMPOTENCY_KEY_REUSED' })
  capture(
    @Param() params: PaymentParams,
    @Headers('idempotency-key') key: string | undefined,
    @Body() body: CapturePaymentRequest,
    @Principal() caller: Caller,
    @Res({ passthrough: true }) response: IdempotentResponse,
  ): Promise<SettlementAccepted> {
    // A fresh Money in canonical form: the idempotency hash sees exactly these fields.
    const amount = body.amount ? money(toMinorUnits(body.amount), body.amount.currency) : undefined;
    return this.decide(params.paymentId, key, { action: 'capture', ...(amount ? { amount } : {}) }, caller, response);
  }

  @Post('void')
  @HttpCode(202)
  @ApiOperation({ summary: 'Release a manual authorisation: nothing is charged (idempotent by Idempotency-Key)' })
  @ApiHeader({ name: 'Idempotency-Key', required: true, description: 'A UUID' })
  @ApiAcceptedResponse({ description: 'The void is asked of the provider; payments.payment.canceled follows on payments.events.v1' })
  @ApiNotFoundResponse({ description: "PAYMENT_NOT_FOUND: no such payment, or (for a service) not to a merchant its token's `merchants` names" })
  @ApiConflictResponse({ description: 'CAPTURE_METHOD_AUTOMATIC, TRANSITION_NOT_ALLOWED (not authorized), AUTHORIZATION_ALREADY_SETTLING' })
  @ApiUnprocessableEntityResponse({ description: 'IDEMPOTENCY_KEY_REUSED' })
  void(
    @Param() params: PaymentParams,
    @Headers('idempotency-key') key: string | undefined,
    @Principal() caller: Caller,
    @Res({ passthrough: true }) response: IdempotentResponse,
  ): Promise<SettlementAccepted> {
    return this.decide(params.paymentId, key, { action: 'void' }, caller, response);
  }

  private async decide(
    paymentId: string,
    key: string | undefined,
    decision: AuthorizationDecision,
    caller: Caller,
    response: IdempotentResponse,
  ): Promise<SettlementAccepted> {
    const idempotencyKey = idempotencyKeyOf(key);
    // The counterparty never changes, so checking before the decision's own transaction is enough.
    const payment = await this.store.load(paymentId);
    if (!payment || !mayAccessPayment(caller, payment)) throw new NotFoundException(PAYMENT_NOT_FOUND);
    const outcome = await this.settle.request({ paymentId, idempotencyKey, decision, actor: describeActor(caller) });
    return answerIdempotently(response, outcome);
  }
}
