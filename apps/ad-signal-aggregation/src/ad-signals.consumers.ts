import type { InboxSubscription } from '@pay/messaging';
import type { AdSignalAggregationConfig } from './config';

/** The service's one consumer group: its handlers need not name it. */
export const PAYMENT_USAGE = 'payment-usage';

/** Payment and wallet events, each applied exactly once (ServiceDefinition.consumers). */
export function adSignalConsumers(config: AdSignalAggregationConfig): InboxSubscription[] {
  return [
    {
      name: PAYMENT_USAGE,
      groupId: config.AD_SIGNALS_CONSUMER_GROUP,
      topics: [config.AD_SIGNALS_PAYMENT_EVENTS_TOPIC, config.AD_SIGNALS_WALLET_EVENTS_TOPIC],
      options: { gatherMs: config.AD_SIGNALS_CONSUMER_GATHER_MS || undefined },
    },
  ];
}
