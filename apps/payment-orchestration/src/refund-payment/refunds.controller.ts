import {
  Body,
  Controller,
  ForbiddenException,
  Headers,
  HttpException,
  HttpStatus,
  Inject,
  NotFoundException,
  Param,
  Post,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOperation,
  ApiParam,
  ApiPropertyOptional,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { AccessTokenVerifier, Principal as Caller, VerifiedRefundApproval, VerifiedSupportCase } from '@pay/auth';
import {
  ACCESS_TOKEN_VERIFIER,
  AuthenticationError,
  describeActor,
  KeySetUnavailableError,
  Principal,
  REFUND_APPROVAL_HEADER,
  refundDifference,
  RequireScopes,
  Roles,
  SUPPORT_CASE_HEADER,
} from '@pay/auth';
import { IsMoney, money, Money, toMinorUnits } from '@pay/contracts';
import { IsIn, IsOptional } from 'class-validator';
import { DataSource } from 'typeorm';
import type { IdempotentResponse } from '../http/idempotency-key';
import { answerIdempotently, idempotencyKeyOf } from '../http/idempotency-key';
import { PaymentEventStore } from '../payments/store/payment-event-store';
import { isSupportService, mayRefundPayment, PAYMENT_NOT_FOUND } from '../view-payment/payment-access';
import { PaymentParams } from '../view-payment/view-payment.controller';
import type { RefundAccepted } from './refund-payment';
import { RefundPayment } from './refund-payment';
import { SupportRefundBudgetExceeded } from './support-refund-budget';
import { spendSupportCase } from './spent-support-cases';

const REASONS = ['requested_by_customer', 'duplicate', 'fraudulent'] as const;

export class RefundPaymentRequest {
  @ApiPropertyOptional({ example: { amount: '500', currency: 'USD' }, description: 'Absent: all that is still refundable.' })
  @IsOptional()
  @IsMoney()
  amount?: Money;

  @ApiPropertyOptional({ enum: REASONS })
  @IsOptional()
  @IsIn(REASONS)
  reason?: (typeof REASONS)[number];
}

/**
 * Refunds, full or partial, several up to the captured amount; for operators, for services with
 * `payments:refund` on the payments to the merchants their token acts for (another's: 404), and
 * for the support service (`payments:refund`) only with a case reference it signed (`Support-Case`)
 * naming this payment, this Idempotency-Key and this amount, together with the Pay Hub's approval of
 * the same refund by the agent the case names (`Refund-Approval`), within support's refund budget
 * (docs/security.md, "Support's refunds").
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
    @Inject(ACCESS_TOKEN_VERIFIER) private readonly verifier: AccessTokenVerifier,
    @Inject(DataSource) private readonly dataSource: DataSource,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Refund all or part of a captured payment (idempotent by Idempotency-Key)' })
  @ApiHeader({ name: 'Idempotency-Key', required: true, description: 'A UUID' })
  @ApiHeader({
    name: 'Support-Case',
    required: false,
    description: 'The support service only (required there): its signed case reference naming this payment, the Idempotency-Key and the amount',
  })
  @ApiHeader({
    name: 'Refund-Approval',
    required: false,
    description: "The support service only (required there): the Pay Hub's approval of this refund by the agent the case names, passed on by support",
  })
  @ApiForbiddenResponse({
    description:
      "SUPPORT_CASE_REFUSED: the support service without a valid case reference for this refund; REFUND_APPROVAL_REFUSED: without the Pay Hub's valid, unused approval of the same refund",
  })
  @ApiTooManyRequestsResponse({
    description:
      'SUPPORT_REFUND_BUDGET_EXCEEDED (support only, with Retry-After): beyond the refunds an agent, or all agents, may start an hour; nothing was written',
  })
  @ApiAcceptedResponse({ description: 'The refund is requested; refunded or refund-failed follows on payments.events.v1' })
  @ApiNotFoundResponse({ description: "PAYMENT_NOT_FOUND: no such payment, or (for a service) not to a merchant its token's `merchants` names" })
  @ApiConflictResponse({ description: 'TRANSITION_NOT_ALLOWED (not captured, disputed), REFUND_NOT_SUPPORTED' })
  @ApiUnprocessableEntityResponse({ description: 'REFUND_EXCEEDS_CAPTURED, CURRENCY_MISMATCH, IDEMPOTENCY_KEY_REUSED' })
  async refund(
    @Param() params: PaymentParams,
    @Headers('idempotency-key') key: string | undefined,
    @Headers(SUPPORT_CASE_HEADER) supportCaseHeader: string | undefined,
    @Headers(REFUND_APPROVAL_HEADER) approvalHeader: string | undefined,
    @Body() body: RefundPaymentRequest,
    @Principal() caller: Caller,
    @Res({ passthrough: true }) response: IdempotentResponse,
  ): Promise<RefundAccepted> {
    // The support service is refused without a case before its request is looked at.
    const supportCase = isSupportService(caller) ? await this.verifiedSupportCase(supportCaseHeader) : undefined;
    // …and without the hub's approval of the same refund: support's key alone (code running in support) refunds nothing an agent did not ask for.
    const approval = supportCase ? await this.verifiedRefundApproval(approvalHeader) : undefined;
    const idempotencyKey = idempotencyKeyOf(key);
    const amount = body.amount ? money(toMinorUnits(body.amount), body.amount.currency) : undefined;
    if (supportCase && approval) matchSupportCase(supportCase, approval, idempotencyKey, amount);
    // The counterparty never changes, so checking before the refund's own transaction is enough.
    const payment = await this.store.load(params.paymentId);
    if (!payment || !mayRefundPayment(caller, payment, supportCase)) throw new NotFoundException(PAYMENT_NOT_FOUND);
    // A case is good for the one request support signed it for: a copy (also once the conversation closed) gets nothing.
    if (supportCase && !(await spendSupportCase(this.dataSource, supportCase.caseId, supportCase.expiresAt))) {
      refuseSupportCase('this support case was used already: support signs a case for each refund request');
    }
    // …and an approval for the one click of the agent's (ids of both kinds are random UUIDs, spent in one table).
    if (approval && !(await spendSupportCase(this.dataSource, approval.approvalId, approval.expiresAt))) {
      refuseRefundApproval('this refund approval was used already: the Pay Hub approves each refund request of an agent');
    }
    const outcome = await this.refundPayment
      .request({
        paymentId: params.paymentId,
        idempotencyKey,
        // A fresh Money in canonical form: the idempotency hash sees exactly these fields.
        ...(amount ? { amount } : {}),
        ...(body.reason ? { reason: body.reason } : {}),
        // For support, the agent the case names is who asked, and the refund spends support's budget.
        actor: supportCase ? `support:${supportCase.agentId} via ${describeActor(caller)}` : describeActor(caller),
        ...(supportCase ? { supportAgentId: supportCase.agentId } : {}),
      })
      .catch((error: unknown) => {
        if (!(error instanceof SupportRefundBudgetExceeded)) throw error;
        response.setHeader('Retry-After', String(error.retryAfterSeconds));
        throw new HttpException({ code: error.code, message: error.message, retryAfterSeconds: error.retryAfterSeconds }, HttpStatus.TOO_MANY_REQUESTS);
      });
    return answerIdempotently(response, outcome);
  }

  /** The Pay Hub's approval, passed on by support: signed by a key whose grant holds refunds:approve, unexpired; else 403. */
  private async verifiedRefundApproval(header: string | undefined): Promise<VerifiedRefundApproval> {
    const token = header?.trim();
    if (!token) return refuseRefundApproval("the support service refunds only with the Pay Hub's approval of the agent's refund (Refund-Approval header)");
    try {
      return await this.verifier.verifyRefundApproval(token);
    } catch (error) {
      if (error instanceof AuthenticationError) return refuseRefundApproval(error.message);
      if (error instanceof KeySetUnavailableError) throw new ServiceUnavailableException({ code: 'AUTH_KEYS_UNAVAILABLE', message: error.message });
      throw error;
    }
  }

  /** The support service's case reference, verified: signed by support's registered key, not expired; else 403 with what was wrong. */
  private async verifiedSupportCase(header: string | undefined): Promise<VerifiedSupportCase> {
    if (!header?.trim()) return refuseSupportCase('the support service refunds only with a case reference (Support-Case header) naming this payment');
    try {
      return await this.verifier.verifySupportCase(header.trim());
    } catch (error) {
      if (error instanceof AuthenticationError) return refuseSupportCase(error.message);
      if (error instanceof KeySetUnavailableError) throw new ServiceUnavailableException({ code: 'AUTH_KEYS_UNAVAILABLE', message: error.message });
      throw error;
    }
  }
}

function refuseSupportCase(message: string): never {
  throw new ForbiddenException({ code: 'SUPPORT_CASE_REFUSED', message });
}

function refuseRefundApproval(message: string): never {
  throw new ForbiddenException({ code: 'REFUND_APPROVAL_REFUSED', message });
}

/**
 * A case is for one refund: this Idempotency-Key and this amount (the payment is matched by
 * mayRefundPayment); the approval is for the same one (conversation, agent, payment, key, amount).
 */
function matchSupportCase(supportCase: VerifiedSupportCase, approval: VerifiedRefundApproval, idempotencyKey: string, amount: Money | undefined): void {
  if (supportCase.idempotencyKey !== idempotencyKey) refuseSupportCase('the support case is for another refund (Idempotency-Key)');
  if (!amount || amount.amount !== supportCase.amount.amount || amount.currency !== supportCase.amount.currency) {
    refuseSupportCase('the support case is for another amount');
  }
  const differs = refundDifference(supportCase, approval);
  if (differs) refuseRefundApproval(`the refund approval is for another refund than the support case (${differs})`);
}
