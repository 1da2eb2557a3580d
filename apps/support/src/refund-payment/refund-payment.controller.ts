import { BadRequestException, Body, Controller, Headers, HttpCode, HttpException, Inject, Param, Post, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { Principal, REFUND_APPROVAL_HEADER, Roles } from '@pay/auth';
import { IsMoney, Money, SUPPORT_REFUND_REASONS } from '@pay/contracts';
import type { SupportRefundReason } from '@pay/contracts';
import { IsIn, IsOptional } from 'class-validator';
import { ConversationParams } from '../agent-desk/agent-desk.controller';
import type { RefundStarted } from './refund-payment';
import { RefundPaymentForAgent, RefundRefused } from './refund-payment';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class AgentRefundBody {
  @ApiPropertyOptional({ example: { amount: '500', currency: 'USD' }, description: 'Absent: all that is still refundable' })
  @IsOptional()
  @IsMoney()
  amount?: Money;

  @ApiProperty({ enum: SUPPORT_REFUND_REASONS })
  @IsIn(SUPPORT_REFUND_REASONS, { message: `reason must be one of ${SUPPORT_REFUND_REASONS.join(', ')}` })
  reason!: SupportRefundReason;
}

@ApiTags('support agents')
@ApiBearerAuth()
@Controller('v1/support/conversations/:conversationId/refunds')
@Roles('support')
export class RefundPaymentController {
  constructor(@Inject(RefundPaymentForAgent) private readonly refunds: RefundPaymentForAgent) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Refund all or part of the payment the caller’s conversation is about, within what it still allows' })
  @ApiHeader({ name: 'Idempotency-Key', required: true, description: 'A UUID; passed on to payment-orchestration' })
  @ApiHeader({
    name: 'Refund-Approval',
    required: true,
    description: "The Pay Hub's approval of this refund (the agent's, this conversation's payment, the exact amount, this Idempotency-Key); passed on",
  })
  @ApiForbiddenResponse({ description: 'REFUND_APPROVAL_REFUSED: no approval, or one of another refund; nothing was refunded' })
  @ApiAcceptedResponse({ description: 'Requested; payments.payment.refunded (or refund-failed) follows and shows in the timeline' })
  @ApiNotFoundResponse({ description: 'Not a conversation assigned to the caller, or one about no payment' })
  @ApiUnprocessableEntityResponse({ description: 'NOTHING_TO_REFUND, REFUND_EXCEEDS_REFUNDABLE, CURRENCY_MISMATCH, or orchestration’s own refusal' })
  @ApiTooManyRequestsResponse({
    description:
      'SUPPORT_REFUND_BUDGET_EXCEEDED (with Retry-After): orchestration’s refund budget for this agent, or all agents, is spent for now; nothing was refunded',
  })
  async refund(
    @Param() params: ConversationParams,
    @Headers('idempotency-key') key: string | undefined,
    @Headers(REFUND_APPROVAL_HEADER) refundApproval: string | undefined,
    @Body() body: AgentRefundBody,
    @Principal() caller: Caller,
    @Res({ passthrough: true }) response: { setHeader(name: string, value: string): unknown },
  ): Promise<RefundStarted> {
    if (!key || !UUID.test(key.trim())) throw new BadRequestException({ code: 'IDEMPOTENCY_KEY_REQUIRED', message: 'send an Idempotency-Key header (a UUID)' });
    try {
      return await this.refunds.refund({
        conversationId: params.conversationId,
        agentId: caller.subject,
        refundApproval,
        idempotencyKey: key.trim().toLowerCase(),
        reason: body.reason,
        ...(body.amount ? { amount: body.amount } : {}),
      });
    } catch (error) {
      if (error instanceof RefundRefused) {
        if (error.retryAfterSeconds !== undefined) response.setHeader('Retry-After', String(error.retryAfterSeconds));
        const retry = error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {};
        throw new HttpException({ code: error.code, message: error.message, ...retry }, error.status);
      }
      throw error;
    }
  }
}
