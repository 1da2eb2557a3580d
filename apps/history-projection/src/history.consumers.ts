import type { InboxSubscription } from '@pay/messaging';
import type { HistoryProjectionConfig } from './config';

/** The projection's one consumer group: its handlers need not name it. */
export const HISTORY_PROJECTION = 'history-projection';

/** The topics the projection reads, as configured. */
export function consumedTopics(config: HistoryProjectionConfig): string[] {
  return [config.HISTORY_PAYMENTS_TOPIC, config.HISTORY_LEDGER_TOPIC, config.HISTORY_WALLET_TOPIC];
}

/**
 * The history's consumer group (ServiceDefinition.consumers). With HISTORY_CONSUMER_ENABLED=false
 * the instance serves queries only (a read replica): it is declared, not consumed.
 */
export function historyConsumers(config: HistoryProjectionConfig): InboxSubscription[] {
  return [
    {
      name: HISTORY_PROJECTION,
      groupId: config.HISTORY_CONSUMER_GROUP,
      topics: consumedTopics(config),
      enabled: config.HISTORY_CONSUMER_ENABLED,
      options: { gatherMs: config.HISTORY_CONSUMER_GATHER_MS || undefined },
    },
  ];
}
