import { Body, ConflictException, Controller, Get, HttpCode, NotFoundException, Param, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPropertyOptional,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { NOT_FOUND_BODY, Principal, Roles } from '@pay/auth';
import { CONVERSATION_CLOSE_REASONS, ID_PATTERN } from '@pay/contracts';
import type { ConversationCloseReason } from '@pay/contracts';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO31661Alpha2, IsOptional, IsUUID, Matches, Max, Min } from 'class-validator';
import type { ConversationView, QueuedConversationView } from '@pay/contracts';
import { ConversationNotFoundError, ConversationStore } from '../conversations/conversation-store';
import type { AgentCommand } from '../domain/conversation';
import { ConversationRuleError } from '../domain/conversation';

export class ConversationParams {
  // Declared for OpenAPI: a @Param() class's fields are the route's path parameters only when they say so.
  @ApiProperty({ format: 'uuid', description: 'The conversation', example: '3f1c2a9e-6a4b-4c1e-9f51-2b7d8e0a1c44' })
  @IsUUID()
  conversationId!: string;
}

export class QueueQuery {
  @ApiPropertyOptional({ example: 'US' })
  @IsOptional()
  @IsISO31661Alpha2({ message: 'country must be an ISO 3166-1 alpha-2 code, e.g. US' })
  country?: string;

  @ApiPropertyOptional({ default: 50, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class HandOverRequest {
  @ApiPropertyOptional({ example: 'agent-7', description: 'The agent to hand the conversation to; absent: back to the queue' })
  @IsOptional()
  @Matches(ID_PATTERN, { message: 'toAgentId must be 1 to 100 of letters, digits, "_", "-", ":" and "."' })
  toAgentId?: string;
}

export class CloseRequest {
  @ApiProperty({ enum: CONVERSATION_CLOSE_REASONS })
  @IsIn(CONVERSATION_CLOSE_REASONS, { message: `reason must be one of ${CONVERSATION_CLOSE_REASONS.join(', ')}` })
  reason!: ConversationCloseReason;
}

/**
 * The agents' desk (role `support`): the queue of open conversations by country and age, and
 * claiming, handing over and closing one. Only the agent a conversation is assigned to acts on it;
 * to anyone else it does not exist.
 */
@ApiTags('support agents')
@ApiBearerAuth()
@Controller('v1/support')
@Roles('support')
export class AgentDeskController {
  constructor(private readonly store: ConversationStore) {}

  @Get('queue')
  @ApiOperation({ summary: 'Conversations waiting for an agent, oldest first (optionally of one country)' })
  async queue(@Query() query: QueueQuery): Promise<{ conversations: QueuedConversationView[] }> {
    return { conversations: await this.store.queue(query.country?.toUpperCase(), query.limit ?? 50) };
  }

  @Get('agents/me/conversations')
  @ApiOperation({ summary: 'The conversations assigned to the calling agent' })
  async mine(@Principal() caller: Caller): Promise<{ conversations: ConversationView[] }> {
    return { conversations: await this.store.assignedTo(caller.subject) };
  }

  @Post('conversations/:conversationId/claim')
  @HttpCode(200)
  @ApiOperation({ summary: 'Take a queued conversation' })
  @ApiOkResponse({ description: 'The conversation, assigned to the caller; join it over the WebSocket' })
  @ApiConflictResponse({ description: 'CONVERSATION_NOT_QUEUED (another agent was first), CONVERSATION_CLOSED' })
  async claim(@Param() params: ConversationParams, @Principal() caller: Caller): Promise<ConversationView> {
    return this.apply(params.conversationId, { kind: 'claim', agentId: caller.subject });
  }

  @Post('conversations/:conversationId/hand-over')
  @HttpCode(200)
  @ApiOperation({ summary: 'Hand the caller’s conversation to another agent, or back to the queue' })
  @ApiNotFoundResponse({ description: 'Not a conversation assigned to the caller' })
  async handOver(@Param() params: ConversationParams, @Body() body: HandOverRequest, @Principal() caller: Caller): Promise<ConversationView> {
    return this.apply(params.conversationId, { kind: 'hand-over', agentId: caller.subject, ...(body.toAgentId ? { toAgentId: body.toAgentId } : {}) });
  }

  @Post('conversations/:conversationId/close')
  @HttpCode(200)
  @ApiOperation({ summary: 'Close the caller’s conversation with a reason (support.conversation.closed)' })
  @ApiNotFoundResponse({ description: 'Not a conversation assigned to the caller' })
  async close(@Param() params: ConversationParams, @Body() body: CloseRequest, @Principal() caller: Caller): Promise<ConversationView> {
    return this.apply(params.conversationId, { kind: 'close', agentId: caller.subject, reason: body.reason });
  }

  private async apply(conversationId: string, command: AgentCommand): Promise<ConversationView> {
    try {
      return await this.store.applyAgentCommand(conversationId, command);
    } catch (error) {
      if (error instanceof ConversationNotFoundError) throw new NotFoundException(NOT_FOUND_BODY);
      if (error instanceof ConversationRuleError) {
        // Someone else's conversation is not shown to exist, except that a queued one was taken.
        if (error.code === 'CONVERSATION_NOT_YOURS') throw new NotFoundException(NOT_FOUND_BODY);
        throw new ConflictException({ code: error.code, message: error.message });
      }
      throw error;
    }
  }
}
