import { readFileSync } from 'node:fs';
import type { TopicAccess } from '@pay/contracts';
import { aclBindings, topicAccessOf } from '@pay/contracts';
import type { BrokerSecurity, ScramUser } from '@pay/local-infra';
import { grantAcls, scramClient } from '@pay/local-infra';
import { installRequestQueueTimerFix } from '@pay/messaging';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, SASLOptions } from 'kafkajs';
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

/**
 * The users of the tiers' broker when it runs with SASL (TEST_KAFKA_SASL=1: the global set-up
 * names their file in TEST_KAFKA_USERS_FILE); undefined for a broker without.
 */
export function testKafkaSecurity(): BrokerSecurity | undefined {
  const file = process.env.TEST_KAFKA_USERS_FILE?.trim();
  if (!file) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as BrokerSecurity;
}

/** The SCRAM user `name` of the tiers' broker (a principal of libs/contracts topic-access, or `admin`); undefined without SASL. */
export function testKafkaUser(name: string): ScramUser | undefined {
  const security = testKafkaSecurity();
  if (!security) return undefined;
  const user = name === security.admin.name ? security.admin : security.users.find((candidate) => candidate.name === name);
  if (!user)
    throw new Error(`the test broker has no Kafka user "${name}"; its users are the principals of libs/contracts topic-access and ${security.admin.name}`);
  return user;
}

/**
 * What a service started by a test signs in to Kafka with: KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME
 * (`user`, its principal) and KAFKA_SASL_PASSWORD when the tiers' broker runs with SASL; nothing
 * otherwise. Spread it into the service's environment next to KAFKA_BROKERS (see testKafkaEnv).
 */
export function testKafkaCredentials(user: string): Record<string, string> {
  const found = testKafkaUser(user);
  if (!found) return {};
  return { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: found.name, KAFKA_SASL_PASSWORD: found.password };
}

/**
 * The credentials of the service `name` when it is a Kafka principal (wallet, payment-orchestration,
 * history-projection, ad-signal-aggregation, support) and the broker runs with SASL; else nothing.
 * What the tiers' process starters (spawnBuiltService, the e2e kit's spawnFromDist) add to a
 * service's environment unless it names its own KAFKA_SASL_USERNAME.
 */
export function testServiceKafkaCredentials(name: string, env: Record<string, string | undefined> = {}): Record<string, string> {
  if (env.KAFKA_SASL_USERNAME !== undefined || env.KAFKA_BROKERS === undefined || !topicAccessOf(name)) return {};
  return testKafkaCredentials(name);
}

/**
 * Consumer groups of a test's own for every service (each reads its own variables and ignores the
 * others'), so that a service under test never takes over the real groups' partitions. Each keeps
 * its service's prefix: on a broker with ACLs a principal may join only groups named so.
 */
export function testConsumerGroupsEnv(tag: string): Record<string, string> {
  return {
    PAYMENTS_LEDGER_CONSUMER_GROUP: `wallet.${tag}.payments-ledger`,
    FUNDS_COMMANDS_CONSUMER_GROUP: `wallet.${tag}.funds-commands`,
    KAFKA_CONSUMER_GROUP_PREFIX: `payment-orchestration.${tag}`,
    HISTORY_CONSUMER_GROUP: `history-projection.${tag}`,
    AD_SIGNALS_CONSUMER_GROUP: `ad-signal-aggregation.${tag}`,
    SUPPORT_CONSUMER_GROUP: `support.${tag}`,
  };
}

/** KAFKA_BROKERS and the credentials of `user` (testKafkaCredentials): a service's Kafka environment in the tiers. */
export function testKafkaEnv(user: string): Record<string, string> {
  return { KAFKA_BROKERS: testKafkaBrokers().join(','), ...testKafkaCredentials(user) };
}

/**
 * A client of the tests' own. With SASL it signs in as `as` (default the super user, which reads
 * and writes everything, as the tests' probes and fixtures must); give a principal to act as a
 * service or an app backend would, under its ACLs.
 */
export function testKafka(clientId = uniqueName('test'), as?: string): Kafka {
  // Tests and benches connect like the services do: without kafkajs's 1 ms idle timer loop.
  installRequestQueueTimerFix();
  return new Kafka({ clientId, brokers: testKafkaBrokers(), logLevel: logLevel.NOTHING, ...testKafkaSasl(as) });
}

/** kafkajs's `sasl` setting of a client of the tests' own that builds its Kafka itself (testKafka's; nothing without SASL). */
export function testKafkaSasl(as?: string): { sasl?: SASLOptions } {
  const user = testKafkaUser(as ?? testKafkaSecurity()?.admin.name ?? '');
  return user ? scramClient(user) : {};
}

/**
 * ALLOW rules for what a test adds to the list of libs/contracts topic-access: its own topics (a
 * unique purchase-requests topic) and consumer groups, given as the principals' access to them.
 * Returns once the broker enforces them; nothing to do on a broker without SASL.
 */
export async function grantTestAccess(access: readonly TopicAccess<string>[]): Promise<void> {
  if (!testKafkaSecurity()) return;
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await grantAcls(admin, aclBindings(access));
  } finally {
    await admin.disconnect();
  }
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
