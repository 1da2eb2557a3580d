/**
 * Rules for the Strimzi KafkaTopics, against the topics libs/contracts defines:
 *
 * - kafka-topics   exactly the topics of libs/contracts (allTopicSpecs()), each once, with its
 *                  partitions; in production replicas 3 and min.insync.replicas 2
 * - kafka-users    exactly the principals of libs/contracts topic-access (TOPIC_ACCESS) as Strimzi
 *                  KafkaUsers, each once, SCRAM-SHA-512, with the ACLs aclBindings() gives it and
 *                  no other; every server signs in as its own user, its password from that user's
 *                  Secret (which Strimzi's User Operator writes)
 */
import type { AclBinding } from '@pay/contracts';
import { aclBindings, TOPIC_ACCESS } from '@pay/contracts';
import type { Finding, KubeObject } from './kube-objects';
import { findingsOf, SERVICE_LABEL, workloadContainers } from './kube-objects';

export const PRODUCTION_TOPIC_REPLICAS = 3;
export const PRODUCTION_MIN_INSYNC_REPLICAS = 2;

export interface TopicPartitions {
  name: string;
  partitions: number;
}

export interface TopicContext {
  /** Production rules on top: KafkaTopic replicas 3 and min.insync.replicas 2. */
  production: boolean;
  /** Every topic that must exist, with its partitions (libs/contracts allTopicSpecs()). */
  topics: readonly TopicPartitions[];
}

export function checkKafkaTopics(objects: readonly KubeObject[], context: TopicContext): Finding[] {
  return findingsOf('kafka-topics', (say) => {
    const topics = objects.filter((o) => o.kind === 'KafkaTopic');
    const nameOf = (topic: KubeObject): string => (topic.spec as { topicName?: string } | undefined)?.topicName ?? topic.metadata.name ?? '';
    for (const expected of context.topics) {
      const found = topics.filter((topic) => nameOf(topic) === expected.name);
      if (found.length === 0)
        say({ kind: 'KafkaTopic', metadata: { name: expected.name } }, `missing: libs/contracts defines it with ${expected.partitions} partitions`);
      if (found.length > 1) say(found[1], `topic ${expected.name} is declared ${found.length} times`);
    }
    for (const topic of topics) {
      const spec = (topic.spec ?? {}) as { partitions?: number; replicas?: number; config?: Record<string, unknown> };
      const expected = context.topics.find((t) => t.name === nameOf(topic));
      if (!expected) {
        say(topic, 'is not a topic of libs/contracts/src/topics.ts');
        continue;
      }
      if (spec.partitions !== expected.partitions) say(topic, `has ${spec.partitions} partitions; libs/contracts says ${expected.partitions}`);
      if (context.production) {
        if (spec.replicas !== PRODUCTION_TOPIC_REPLICAS) say(topic, `has ${spec.replicas} replicas; production needs ${PRODUCTION_TOPIC_REPLICAS}`);
        const minInsync = spec.config?.['min.insync.replicas'] as number | string | undefined;
        if (Number(minInsync) !== PRODUCTION_MIN_INSYNC_REPLICAS) {
          say(topic, `has min.insync.replicas ${minInsync ?? '<unset>'}; production needs ${PRODUCTION_MIN_INSYNC_REPLICAS}`);
        }
      }
    }
  });
}

interface StrimziAcl {
  resource?: { type?: string; name?: string; patternType?: string };
  operations?: string[];
  operation?: string;
  host?: string;
}

const bindingKey = (b: AclBinding): string => `${b.resource} ${b.pattern} ${b.name} ${b.operation}`;

/** A KafkaUser's ACLs as bindings (Strimzi's patternType `prefix` is the authorizer's PREFIXED). */
function bindingsOf(user: string, acls: readonly StrimziAcl[]): string[] {
  return acls.flatMap((acl) =>
    (acl.operations ?? (acl.operation ? [acl.operation] : [])).map((operation) =>
      bindingKey({
        user,
        resource: acl.resource?.type === 'group' ? 'group' : 'topic',
        pattern: acl.resource?.patternType === 'prefix' ? 'prefixed' : 'literal',
        name: acl.resource?.name ?? '',
        operation: operation.toLowerCase() === 'read' ? 'read' : operation.toLowerCase() === 'write' ? 'write' : (operation.toLowerCase() as 'read'),
      }),
    ),
  );
}

export function checkKafkaUsers(objects: readonly KubeObject[]): Finding[] {
  return findingsOf('kafka-users', (say) => {
    const users = objects.filter((o) => o.kind === 'KafkaUser');
    for (const principal of TOPIC_ACCESS) {
      const found = users.filter((user) => user.metadata.name === principal.user);
      if (found.length === 0) {
        say({ kind: 'KafkaUser', metadata: { name: principal.user } }, 'missing: libs/contracts/src/topic-access.ts defines this principal');
        continue;
      }
      if (found.length > 1) say(found[1], `is declared ${found.length} times`);
      const spec = (found[0].spec ?? {}) as { authentication?: { type?: string }; authorization?: { type?: string; acls?: StrimziAcl[] } };
      if (spec.authentication?.type !== 'scram-sha-512')
        say(found[0], `authenticates by ${spec.authentication?.type ?? 'nothing'}; the services sign in with scram-sha-512`);
      if (spec.authorization?.type !== 'simple') say(found[0], 'has no simple authorization: its ACLs would not apply');
      const have = bindingsOf(principal.user, spec.authorization?.acls ?? []);
      const want = aclBindings([principal]).map(bindingKey);
      for (const missing of want.filter((key) => !have.includes(key))) say(found[0], `lacks the ACL ${missing} that topic-access.ts gives it`);
      for (const extra of have.filter((key) => !want.includes(key))) say(found[0], `has the ACL ${extra}, which topic-access.ts does not give it`);
      for (const acl of spec.authorization?.acls ?? []) if (acl.host !== undefined && acl.host !== '*') say(found[0], `limits an ACL to host ${acl.host}`);
    }
    for (const user of users) {
      if (!TOPIC_ACCESS.some((principal) => principal.user === user.metadata.name)) say(user, 'is not a principal of libs/contracts/src/topic-access.ts');
    }
    // Every server is its own principal: its user name, and the password of that user's Secret.
    for (const { owner, container, main, where } of workloadContainers(objects)) {
      const service = owner.metadata.labels?.[SERVICE_LABEL];
      if (owner.kind !== 'Deployment' || !main || !service || !TOPIC_ACCESS.some((principal) => principal.user === service)) continue;
      const env = new Map((container.env ?? []).map((variable) => [variable.name, variable]));
      if (env.get('KAFKA_SASL_USERNAME')?.value !== service) say(owner, `${where}: KAFKA_SASL_USERNAME must be ${service}, its own Kafka principal`);
      const password = env.get('KAFKA_SASL_PASSWORD')?.valueFrom?.secretKeyRef;
      if (password?.name !== service || password.key !== 'password')
        say(owner, `${where}: KAFKA_SASL_PASSWORD must come from Secret ${service}, key password (written by Strimzi for KafkaUser ${service})`);
    }
  });
}
