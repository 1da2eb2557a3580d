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
import { PostPaymentsToLedger } from './post-payments-to-ledger.service';

/** Consumer group `wallet.payments-ledger` on payments.events.v1 (PAYMENTS_LEDGER_CONSUMER_GROUP). */
@Injectable()
class PaymentsLedgerConsumer extends ConsumerLifecycle {
  constructor(
    @Inject(KAFKA) kafka: Kafka,
    dataSource: DataSource,
    @Inject(EVENT_PUBLISHER) publisher: EventPublisher,
    @Inject(LOGGER) logger: Logger,
    @Inject(SERVICE_CONFIG) private readonly config: WalletConfig,
    private readonly postings: PostPaymentsToLedger,
  ) {
    super({ kafka, dataSource, publisher, logger });
  }

  protected subscription(): ConsumerSubscription {
    return { groupId: this.config.PAYMENTS_LEDGER_CONSUMER_GROUP, topic: Topics.paymentEvents, handlers: this.postings.handlers() };
  }
}

/** Posts captured, refunded and dispute-lost payments to the ledger. */
@Module({
  imports: [LedgerModule],
  providers: [PostPaymentsToLedger, PaymentsLedgerConsumer],
})
export class PostPaymentsToLedgerModule {}
