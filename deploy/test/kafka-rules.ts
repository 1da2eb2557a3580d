/**
 * Rules for the Strimzi KafkaTopics, against the topics libs/contracts defines:
 *
 * - kafka-topics   exactly the topics of libs/contracts (allTopicSpecs()), each once, with its
 *                  partitions; in production replicas 3 and min.insync.replicas 2
 */
import type { Finding, KubeObject } from './kube-objects';
import { findingsOf } from './kube-objects';

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
