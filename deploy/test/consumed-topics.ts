/**
 * The topics each service consumes (../shared/DESIGN.md, "Services and what each owns"), by the
 * service's `app.kubernetes.io/name`. A consumer group spreads over at most as many consumers
 * as the topic has partitions, so a service's replicas beyond the smallest partition count
 * among these would sit idle: the HPA rule caps maxReplicas there, counting the partitions in
 * libs/contracts/src/topics.ts, not in the manifests.
 */
import type { TopicName } from '@pay/contracts';
import { Topics } from '@pay/contracts';

export const CONSUMED_TOPICS: Readonly<Record<string, readonly TopicName[]>> = {
  wallet: [Topics.paymentEvents, Topics.walletCommands],
  'payment-orchestration': [Topics.purchaseRequests, Topics.walletEvents],
  'history-projection': [Topics.paymentEvents, Topics.ledgerTransactions, Topics.walletEvents],
  'ad-signal-aggregation': [Topics.paymentEvents, Topics.walletEvents],
  support: [Topics.paymentEvents, Topics.ledgerTransactions, Topics.walletEvents],
};
