import { Controller, Get, Header, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ActsForPerson, Roles } from '@pay/auth';
import { ID_PATTERN } from '@pay/contracts';
import { Matches } from 'class-validator';
import type { ConversationView, MessageView } from '@pay/contracts';
import { ConversationStore } from '../conversations/conversation-store';

export class PersonParams {
  @Matches(ID_PATTERN, { message: 'personId must be 1 to 100 of letters, digits, "_", "-", ":" and "."' })
  personId!: string;
}

/** A person's own copy of everything support keeps of their conversations (until retention deletes it). */
@ApiTags('support')
@ApiBearerAuth()
@Controller('v1/support/persons/:personId/conversations')
@Roles('person')
@ActsForPerson('personId')
@ApiParam({ name: 'personId', example: 'p-000001' })
export class ExportConversationsController {
  constructor(private readonly store: ConversationStore) {}

  @Get('export')
  @Header('Content-Disposition', 'attachment; filename="support-conversations.json"')
  @ApiOperation({ summary: 'Export the caller’s conversations with every message, as JSON' })
  @ApiOkResponse({ description: '{ personId, exportedAt, conversations: [ { …, messages: [...] } ] }' })
  async export(
    @Param() params: PersonParams,
  ): Promise<{ personId: string; exportedAt: string; conversations: Array<ConversationView & { messages: MessageView[] }> }> {
    return { personId: params.personId, exportedAt: new Date().toISOString(), conversations: await this.store.exportFor(params.personId) };
  }
}
