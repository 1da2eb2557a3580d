import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import type { ConsumerStats, EventPublisher } from '@pay/messaging';
import { InboxConsumer } from '@pay/messaging';
import type { Logger } from '@pay/observability';
import { EVENT_PUBLISHER, KAFKA, LOGGER } from '@pay/platform';
import type { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import type { AdSignalSettings } from '../ad-signals.settings';
import { AD_SIGNAL_SETTINGS } from '../ad-signals.tokens';
import { RecordConsent } from '../record-consent/consent.recorder';
import { RecordPaymentFacts } from '../record-payment-facts/payment-facts.recorder';

/**
 * Consumes payment and wallet events exactly once (inbox, manual commits). Input that is not a
 * payment fact — an unknown type version, a bad amount — goes to `<topic>.dlq` with the reason.
 */
@Injectable()
export class PaymentUsageConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly consumer: InboxConsumer;

  constructor(
    @Inject(AD_SIGNAL_SETTINGS) settings: AdSignalSettings,
    @Inject(KAFKA) kafka: Kafka,
    @Inject(EVENT_PUBLISHER) publisher: EventPublisher,
    @Inject(LOGGER) logger: Logger,
    dataSource: DataSource,
    payments: RecordPaymentFacts,
    consent: RecordConsent,
  ) {
    this.consumer = new InboxConsumer({
      groupId: settings.consumerGroup,
      topics: [settings.topics.paymentEvents, settings.topics.walletEvents],
      handlers: { ...payments.handlers(), ...consent.handlers() },
      kafka,
      dataSource,
      publisher,
      logger,
      fromBeginning: true,
    });
  }

  get stats(): ConsumerStats {
    return this.consumer.stats;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.consumer.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
  }
}
