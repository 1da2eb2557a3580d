import { Body, Controller, ForbiddenException, Get, HttpCode, Inject, NotFoundException, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import type { Principal as Caller } from '@pay/auth';
import { Principal, Roles } from '@pay/auth';
import { APPS, ID_PATTERN } from '@pay/contracts';
import type { AppName } from '@pay/contracts';
import { ROLLOUT } from '@pay/rollout';
import type { RolloutSource } from '@pay/rollout';
import { IsIn, IsISO31661Alpha2, IsOptional, Matches } from 'class-validator';
import { DataSource } from 'typeorm';
import type { ConversationView } from '@pay/contracts';
import { ConversationStore } from '../conversations/conversation-store';
import type { ChatAvailability } from './chat-availability';
import { chatAvailability } from './chat-availability';

export class ChatPlace {
  @ApiProperty({ example: 'US', description: 'ISO 3166-1 alpha-2; the country of the person’s wallet wins when support knows it' })
  @IsISO31661Alpha2({ message: 'country must be an ISO 3166-1 alpha-2 code, e.g. US' })
  country!: string;

  @ApiProperty({ enum: APPS })
  @IsIn(APPS, { message: `app must be one of ${APPS.join(', ')}` })
  app!: AppName;
}

export class OpenConversationRequest extends ChatPlace {
  @ApiPropertyOptional({ example: 'pay_01J…', description: 'One of the person’s own payments the conversation is about' })
  @IsOptional()
  @Matches(ID_PATTERN, { message: 'paymentId must be 1 to 100 of letters, digits, "_", "-", ":" and "."' })
  paymentId?: string;
}

/** A person opens a conversation, where chat is rolled out; it waits in the agents' queue. */
@ApiTags('support')
@ApiBearerAuth()
@Controller('v1/support')
@Roles('person')
export class OpenConversationController {
  constructor(
    @Inject(ROLLOUT) private readonly rollout: RolloutSource,
    private readonly store: ConversationStore,
    private readonly dataSource: DataSource,
  ) {}

  @Get('availability')
  @ApiOperation({ summary: 'Whether chat is available to the caller in a country and app (the answer a client shows before offering chat)' })
  @ApiOkResponse({ description: '{ available: true } or { available: false, code, message }' })
  async availability(@Query() place: ChatPlace, @Principal() caller: Caller): Promise<ChatAvailability> {
    return chatAvailability(this.rollout.policy, await this.countryOf(caller.subject, place.country), place.app);
  }

  @Post('conversations')
  @HttpCode(201)
  @ApiOperation({ summary: 'Open a support conversation, optionally about one of the caller’s payments; then join it over the WebSocket' })
  @ApiCreatedResponse({ description: 'The conversation, queued for an agent' })
  @ApiForbiddenResponse({ description: 'SUPPORT_CHAT_NOT_AVAILABLE_IN_COUNTRY, SUPPORT_CHAT_NOT_AVAILABLE_IN_APP: chat is not offered there yet' })
  @ApiNotFoundResponse({ description: 'PAYMENT_NOT_FOUND: no payment of the caller’s has this id (or support has not seen it yet)' })
  async open(@Body() request: OpenConversationRequest, @Principal() caller: Caller): Promise<ConversationView> {
    const country = await this.countryOf(caller.subject, request.country);
    const availability = chatAvailability(this.rollout.policy, country, request.app);
    if (!availability.available) throw new ForbiddenException({ code: availability.code, message: availability.message, country });
    if (request.paymentId !== undefined) {
      const [payment] = await this.dataSource.query<Array<{ payer_id: string | null }>>('SELECT payer_id FROM payments WHERE payment_id = $1', [
        request.paymentId,
      ]);
      if (payment?.payer_id !== caller.subject) {
        throw new NotFoundException({
          code: 'PAYMENT_NOT_FOUND',
          message: 'no payment of yours has this id (a payment made moments ago may take a few seconds to appear)',
        });
      }
    }
    return this.store.open({ personId: caller.subject, country, app: request.app, ...(request.paymentId ? { paymentId: request.paymentId } : {}) });
  }

  /** The wallet's country (from wallet.wallet.opened) when known: a person cannot pick a country to get chat. */
  private async countryOf(personId: string, declared: string): Promise<string> {
    const [person] = await this.dataSource.query<Array<{ country: string }>>('SELECT country FROM persons WHERE person_id = $1', [personId]);
    return (person?.country ?? declared).toUpperCase();
  }
}
