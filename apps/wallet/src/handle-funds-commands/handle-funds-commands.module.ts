import { Inject, Injectable, Module } from '@nestjs/common';
import { Topics } from '@pay/contracts';
import type { EventPublisher } from '@pay/messaging';
import type { Logger } from '@pay/observability';
import { EVENT_PUBLISHER, KAFKA, LOGGER, SERVICE_CONFIG } from '@pay/platform';
import type { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import type { WalletConfig } from '../config';
import { LedgerModule } from '../ledger';
import type { ConsumerSubscription } from '../money/consumer-lifecycle';
import { ConsumerLifecycle } from '../money/consumer-lifecycle';
import { HandleFundsCommands } from './handle-funds-commands.service';

/** Consumer group `wallet.funds-commands` on wallet.commands.v1 (FUNDS_COMMANDS_CONSUMER_GROUP). */
@Injectable()
class FundsCommandsConsumer extends ConsumerLifecycle {
  constructor(
    @Inject(KAFKA) kafka: Kafka,
    dataSource: DataSource,
    @Inject(EVENT_PUBLISHER) publisher: EventPublisher,
    @Inject(LOGGER) logger: Logger,
    @Inject(SERVICE_CONFIG) private readonly config: WalletConfig,
    private readonly funds: HandleFundsCommands,
  ) {
    super({ kafka, dataSource, publisher, logger });
  }

  protected subscription(): ConsumerSubscription {
    return { groupId: this.config.FUNDS_COMMANDS_CONSUMER_GROUP, topic: Topics.walletCommands, handlers: this.funds.handlers() };
  }
}

/** Reserves, posts and voids wallet balance for person-to-person payments, answering each command once. */
@Module({
  imports: [LedgerModule],
  providers: [HandleFundsCommands, FundsCommandsConsumer],
})
export class HandleFundsCommandsModule {}
