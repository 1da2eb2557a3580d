/**
 * The tier's global set-up gave it a database and a broker apart from those `npm start` uses
 * (tools/start.ts: the local server's `payments` database, the broker on 127.0.0.1:9092), so
 * nothing a test writes is read or kept by the development services.
 */
import { DEFAULT_DATABASE_URL, DEFAULT_KAFKA_BROKERS } from '@pay/config';
import { testDatabaseUrl } from './database-url';
import { testKafka, testKafkaBrokers } from './kafka';
import { DEVELOPMENT_DATABASE_URL, DEVELOPMENT_KAFKA_BROKERS, sameDatabase } from './test-infrastructure-plan';

describe("the test tier's infrastructure", () => {
  it('is a database other than the development one, and every child process inherits it', () => {
    for (const development of [DEFAULT_DATABASE_URL, DEVELOPMENT_DATABASE_URL]) expect(sameDatabase(testDatabaseUrl(), development)).toBe(false);
    expect(process.env.DATABASE_URL).toBe(testDatabaseUrl());
  });

  it("is a broker of the run's own unless KAFKA_BROKERS named one, and it answers", async () => {
    if (process.env.TEST_KAFKA_SOURCE !== 'KAFKA_BROKERS') {
      const development = new Set([DEFAULT_KAFKA_BROKERS, ...DEVELOPMENT_KAFKA_BROKERS, 'localhost:9092']);
      expect(testKafkaBrokers().filter((broker) => development.has(broker))).toEqual([]);
    }
    const admin = testKafka().admin();
    await admin.connect();
    try {
      expect(await admin.listTopics()).toContain('payments.events.v1');
    } finally {
      await admin.disconnect();
    }
  });
});
