/**
 * Every Kafka topic of the platform, in one typed place. Infrastructure scripts create them
 * from this list, services subscribe and publish by these names, and the AsyncAPI document is
 * generated from it. Keep this file free of decorators so plain scripts can import it.
 */
export const Topics = {
  purchaseRequests: 'payments.purchase-requests.v1',
  paymentEvents: 'payments.events.v1',
  ledgerTransactions: 'ledger.transactions.v1',
  walletEvents: 'wallet.events.v1',
  walletCommands: 'wallet.commands.v1',
  adSignalAggregates: 'ad-signals.aggregates.v1',
  supportEvents: 'support.events.v1',
} as const;

export type TopicName = (typeof Topics)[keyof typeof Topics];

export interface TopicSpec {
  name: string;
  /** Partitions bound how many consumers of one group work in parallel. */
  partitions: number;
  /** Whether some service consumes it, and so needs a `<topic>.dlq`. */
  consumed: boolean;
  description: string;
}

export const TOPIC_SPECS: readonly TopicSpec[] = [
  {
    name: Topics.purchaseRequests,
    partitions: 12,
    consumed: true,
    description: 'Purchase, donation and transfer requests published by the apps.',
  },
  {
    name: Topics.paymentEvents,
    partitions: 12,
    consumed: true,
    description: 'Every state change of every payment aggregate.',
  },
  {
    name: Topics.ledgerTransactions,
    partitions: 12,
    consumed: true,
    description: 'Every transaction appended to the ledger journal, keyed by payment: in journal order per payment.',
  },
  {
    name: Topics.walletEvents,
    partitions: 6,
    consumed: true,
    description: 'Changes to a wallet: methods, apps, PIN state, consent. Never secrets.',
  },
  {
    name: Topics.walletCommands,
    partitions: 6,
    consumed: true,
    description: 'Commands to the wallet (reserve, post, void funds) from orchestration.',
  },
  {
    name: Topics.adSignalAggregates,
    partitions: 3,
    consumed: false,
    description: 'Closed, k-anonymous windows of payment usage for advertisers.',
  },
  {
    name: Topics.supportEvents,
    partitions: 3,
    consumed: false,
    description: 'Support conversations opened and closed, and refunds agents started. Never message text.',
  },
];

/** A Kafka topic name as Kafka accepts it: at most 249 of these characters. */
export const TOPIC_NAME_PATTERN = /^[A-Za-z0-9._-]{1,249}$/;
export const TOPIC_NAME_RULE = 'a Kafka topic name: 1 to 249 of letters, digits, ".", "_" and "-"';

/** A consumer group id (each consumer's inbox is named after it): what every config and tool accepts. */
export const CONSUMER_GROUP_ID_PATTERN = /^[A-Za-z0-9._-]{1,200}$/;
export const CONSUMER_GROUP_ID_RULE = 'a Kafka consumer group id: 1 to 200 of letters, digits, ".", "_" and "-"';

export const DLQ_SUFFIX = '.dlq';
export const DLQ_PARTITIONS = 3;

export function deadLetterTopicOf(topic: string): string {
  return `${topic}${DLQ_SUFFIX}`;
}

/** Every topic to create, dead-letter topics included. */
export function allTopicSpecs(): TopicSpec[] {
  const specs: TopicSpec[] = [];
  for (const spec of TOPIC_SPECS) {
    specs.push(spec);
    if (spec.consumed) {
      specs.push({
        name: deadLetterTopicOf(spec.name),
        partitions: DLQ_PARTITIONS,
        consumed: false,
        description: `Messages of ${spec.name} that could not be applied, with the reason in headers.`,
      });
    }
  }
  return specs;
}
