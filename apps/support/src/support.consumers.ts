import type { InboxSubscription } from '@pay/messaging';
import type { SupportConfig } from './config';

/** The support service's one consumer group: its handlers need not name it. */
export const SUPPORT_TIMELINE = 'support-timeline';

/** The topics support reads, as configured. */
export function consumedTopics(config: SupportConfig): string[] {
  return [config.SUPPORT_PAYMENTS_TOPIC, config.SUPPORT_LEDGER_TOPIC, config.SUPPORT_WALLET_TOPIC];
}

/** Payment timelines and wallets' countries are built from these (ServiceDefinition.consumers). */
export function supportConsumers(config: SupportConfig): InboxSubscription[] {
  return [{ name: SUPPORT_TIMELINE, groupId: config.SUPPORT_CONSUMER_GROUP, topics: consumedTopics(config), enabled: config.SUPPORT_CONSUMER_ENABLED }];
}
