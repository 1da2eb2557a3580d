/**
 * The tier's global set-up gave it a database and a broker apart from those `npm start` uses
 * (tools/start.ts: the local server's `payments` database, the broker on 127.0.0.1:9092), so
 * nothing a test writes is read or kept by the development services.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DEFAULT_DATABASE_URL, DEFAULT_KAFKA_BROKERS } from '@pay/config';
import { testDatabaseUrl } from './database-url';
import { testKafka, testKafkaBrokers } from './kafka';
import { DEVELOPMENT_DATABASE_URL, DEVELOPMENT_KAFKA_BROKERS, sameDatabase } from './test-infrastructure-plan';
import type { WorkerBroker } from './worker-kafka';
import { WORKER_BROKERS_VARIABLE } from './worker-kafka';

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

  it("is this worker's own broker when the run has several, also for a process started without an environment of its own", async () => {
    const listed = process.env[WORKER_BROKERS_VARIABLE];
    if (listed) {
      const brokers = JSON.parse(listed) as WorkerBroker[];
      const mine = brokers[Number(process.env.JEST_WORKER_ID) - 1];
      expect(testKafkaBrokers().join(',')).toBe(mine?.KAFKA_BROKERS);
      expect(process.env.TEST_KAFKA_HOME).toBe(mine?.TEST_KAFKA_HOME);
      expect(new Set(brokers.map((broker) => broker.KAFKA_BROKERS)).size).toBe(brokers.length);
    }
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', 'process.stdout.write(process.env.KAFKA_BROKERS ?? "")']);
    expect(stdout).toBe(testKafkaBrokers().join(','));
  });
});
