/**
 * Who may read and write which topic: one Kafka principal (a SCRAM user) per service and per
 * app backend, each granted exactly the topics its code uses. Kafka's authorizer enforces it
 * (ACLs applied by `npm run kafka:acls`, and in Kubernetes the Strimzi KafkaUsers of
 * deploy/k8s/base/kafka/users.yaml, which a repo test compares with this list). So the wallet
 * takes funds commands only from orchestration: no other principal may write wallet.commands.
 */
// Decorator-free imports only: plain scripts load this file by path (tools/infra).
import { APPS } from './apps';
import type { TopicName } from './topics';
import { deadLetterTopicOf, Topics } from './topics';

/** `Topic` is a topic of libs/contracts in the list; a test's own topics (unique names) are plain strings. */
export interface TopicAccess<Topic extends string = TopicName> {
  /** The Kafka user (SCRAM) the principal authenticates as: `User:<name>` in ACLs. */
  readonly user: string;
  readonly description: string;
  /** Topics it consumes; it may also write their dead-letter topics. */
  readonly reads: readonly Topic[];
  /** Topics it publishes to. */
  readonly writes: readonly Topic[];
  /** Consumer groups it may join: every group whose id starts with one of these. */
  readonly groupPrefixes: readonly string[];
}

const APP_BACKENDS: TopicAccess[] = APPS.map((app) => ({
  user: `app-${app}`,
  description: `The ${app} backend: publishes its purchase requests, reads nothing.`,
  reads: [],
  writes: [Topics.purchaseRequests],
  groupPrefixes: [],
}));

export const TOPIC_ACCESS: readonly TopicAccess[] = [
  {
    user: 'payment-orchestration',
    description: 'Consumes purchase requests and wallet events; publishes payment events and funds commands to the wallet.',
    reads: [Topics.purchaseRequests, Topics.walletEvents],
    writes: [Topics.paymentEvents, Topics.walletCommands],
    groupPrefixes: ['payment-orchestration.'],
  },
  {
    user: 'wallet',
    description: 'Consumes payment events (postings) and funds commands; publishes ledger transactions and wallet events.',
    reads: [Topics.paymentEvents, Topics.walletCommands],
    writes: [Topics.ledgerTransactions, Topics.walletEvents],
    groupPrefixes: ['wallet.'],
  },
  {
    user: 'history-projection',
    description: 'Consumes payment events, ledger transactions and wallet events; publishes nothing.',
    reads: [Topics.paymentEvents, Topics.ledgerTransactions, Topics.walletEvents],
    writes: [],
    groupPrefixes: ['history-projection'],
  },
  {
    user: 'ad-signal-aggregation',
    description: 'Consumes payment and wallet events; publishes the aggregated, anonymous ad signals.',
    reads: [Topics.paymentEvents, Topics.walletEvents],
    writes: [Topics.adSignalAggregates],
    groupPrefixes: ['ad-signal-aggregation'],
  },
  {
    user: 'support',
    description: "Consumes payment events, ledger transactions and wallet events (payments' timelines); publishes support events.",
    reads: [Topics.paymentEvents, Topics.ledgerTransactions, Topics.walletEvents],
    writes: [Topics.supportEvents],
    groupPrefixes: ['support'],
  },
  ...APP_BACKENDS,
];

export type AclOperation = 'read' | 'write';

/** One ALLOW rule of Kafka's authorizer. */
export interface AclBinding {
  readonly user: string;
  readonly resource: 'topic' | 'group';
  readonly pattern: 'literal' | 'prefixed';
  readonly name: string;
  readonly operation: AclOperation;
}

/** The ALLOW rules that give each principal its access and nothing more (READ and WRITE imply DESCRIBE). */
export function aclBindings(access: readonly TopicAccess<string>[] = TOPIC_ACCESS): AclBinding[] {
  const bindings: AclBinding[] = [];
  for (const principal of access) {
    const topic = (name: string, operation: AclOperation): AclBinding => ({ user: principal.user, resource: 'topic', pattern: 'literal', name, operation });
    for (const name of principal.reads) bindings.push(topic(name, 'read'), topic(deadLetterTopicOf(name), 'write'));
    for (const name of principal.writes) bindings.push(topic(name, 'write'));
    for (const prefix of principal.groupPrefixes)
      bindings.push({ user: principal.user, resource: 'group', pattern: 'prefixed', name: prefix, operation: 'read' });
  }
  return bindings;
}

/** The principal a service or app backend authenticates as. */
export function topicAccessOf(user: string): TopicAccess | undefined {
  return TOPIC_ACCESS.find((principal) => principal.user === user);
}
