import { Module } from '@nestjs/common';
import { LedgerModule } from '../ledger';
import { FundsCommandsController } from './funds-commands.controller';
import { HandleFundsCommands } from './handle-funds-commands.service';

/** Reserves, posts and voids wallet balance for person-to-person payments, answering each command once. */
@Module({
  imports: [LedgerModule],
  controllers: [FundsCommandsController],
  providers: [HandleFundsCommands],
})
export class HandleFundsCommandsModule {}
