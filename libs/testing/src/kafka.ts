import { Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';
import { uniqueName } from './postgres';

/** Brokers of the integration tier: KAFKA_BROKERS, else the local broker `infra:up` starts. */
export function testKafkaBrokers(): string[] {
  return (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
}

export function testKafka(clientId = uniqueName('test')): Kafka {
  return new Kafka({ clientId, brokers: testKafkaBrokers(), logLevel: logLevel.NOTHING });
}

/** Creates topics with unique names so that test files never share a partition. */
export async function createTestTopics(names: string[], partitions = 3): Promise<void> {
  const admin: Admin = testKafka().admin();
  await admin.connect();
  try {
    // The KRaft broker sometimes answers a CreateTopics request with UNKNOWN_TOPIC_OR_PARTITION while
    // it creates others' topics (seen on a fresh broker in CI): ask again; topics already made are kept.
    for (let attempt = 1; ; attempt += 1) {
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: names.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
        });
        return;
      } catch (error) {
        if ((error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION' || attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTestTopics(names: string[]): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: names });
  } catch {
    // best effort: a unique topic left behind harms no other test
  } finally {
    await admin.disconnect();
  }
}
