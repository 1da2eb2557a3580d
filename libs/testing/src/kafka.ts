import { installRequestQueueTimerFix } from '@pay/messaging';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';
import { uniqueName } from './postgres';

/**
 * Brokers of the integration and end-to-end tiers, which their global set-up names in
 * KAFKA_BROKERS. No default: falling back to the development broker would leave the tests'
 * events for `npm start` to read.
 */
export function testKafkaBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS?.trim();
  if (!brokers) {
    throw new Error(
      "KAFKA_BROKERS is not set: run through Jest's integration or e2e project (its global set-up starts a broker), or `tsx libs/testing/src/with-test-infra.ts <command>`.",
    );
  }
  return brokers.split(',').map((b) => b.trim());
}

export function testKafka(clientId = uniqueName('test')): Kafka {
  // Tests and benches connect like the services do: without kafkajs's 1 ms idle timer loop.
  installRequestQueueTimerFix();
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
