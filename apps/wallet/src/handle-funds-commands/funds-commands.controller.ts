import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { PostReservedFundsData, ReserveFundsData, ReturnFundsData, VoidReservedFundsData } from '@pay/contracts';
import { PostReservedFundsV1, ReserveFundsV1, ReturnFundsV1, VoidReservedFundsV1 } from '@pay/contracts';
import type { ConsumedEvent } from '@pay/messaging';
import { InboxContext } from '@pay/messaging';
import { FUNDS_COMMANDS } from '../wallet.consumers';
import { HandleFundsCommands } from './handle-funds-commands.service';

/** wallet.commands.v1 (consumer group FUNDS_COMMANDS_CONSUMER_GROUP): each command answered once, in the inbox's transaction. */
@Controller()
export class FundsCommandsController {
  constructor(private readonly funds: HandleFundsCommands) {}

  @EventPattern(ReserveFundsV1.type, { subscription: FUNDS_COMMANDS })
  reserve(@Payload() event: ConsumedEvent<ReserveFundsData>, @Ctx() context: InboxContext): Promise<void> {
    return this.funds.reserveFunds(event, context.getSql());
  }

  @EventPattern(PostReservedFundsV1.type, { subscription: FUNDS_COMMANDS })
  post(@Payload() event: ConsumedEvent<PostReservedFundsData>, @Ctx() context: InboxContext): Promise<void> {
    return this.funds.postReservedFunds(event, context.getSql());
  }

  @EventPattern(VoidReservedFundsV1.type, { subscription: FUNDS_COMMANDS })
  void(@Payload() event: ConsumedEvent<VoidReservedFundsData>, @Ctx() context: InboxContext): Promise<void> {
    return this.funds.voidReservedFunds(event, context.getSql());
  }

  @EventPattern(ReturnFundsV1.type, { subscription: FUNDS_COMMANDS })
  return(@Payload() event: ConsumedEvent<ReturnFundsData>, @Ctx() context: InboxContext): Promise<void> {
    return this.funds.returnFunds(event, context.getSql());
  }
}
