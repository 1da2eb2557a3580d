import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { NOT_FOUND_BODY, Principal, Roles } from '@pay/auth';
import { DataSource } from 'typeorm';
import { ConversationParams } from '../agent-desk/agent-desk.controller';
import { ConversationStore } from '../conversations/conversation-store';
import type { PaymentTimelineView } from './payment-facts';
import { readPaymentTimeline } from './payment-facts';

/**
 * The timeline of the payment a conversation is about, for the agent it is assigned to: intake,
 * checks, PSP outcomes, refunds, disputes and ledger postings, as support consumed them.
 */
@ApiTags('support agents')
@ApiBearerAuth()
@Controller('v1/support/conversations/:conversationId/payment')
@Roles('support')
export class PaymentTimelineController {
  constructor(
    private readonly store: ConversationStore,
    private readonly dataSource: DataSource,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The payment the conversation is about: its timeline, and what may still be refunded' })
  @ApiOkResponse({ description: 'paymentId, payerId, currency, captured, refunded, refundable, timeline[]' })
  @ApiNotFoundResponse({ description: 'Not a conversation assigned to the caller, or one about no payment' })
  async timeline(@Param() params: ConversationParams, @Principal() caller: Caller): Promise<PaymentTimelineView> {
    const conversation = await this.store.findFor(params.conversationId, { party: 'agent', id: caller.subject });
    if (!conversation || conversation.status !== 'claimed' || !conversation.payment_id) throw new NotFoundException(NOT_FOUND_BODY);
    return readPaymentTimeline(this.dataSource, conversation.payment_id);
  }
}
