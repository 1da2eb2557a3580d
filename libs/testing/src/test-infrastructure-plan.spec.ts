import fc from 'fast-check';
import type { TestEnvironment } from './test-infrastructure-plan';
import { DEVELOPMENT_DATABASE_URL, LOCAL_TEST_DATABASE_URL, needsDockerAnswer, planTestInfrastructure, sameDatabase } from './test-infrastructure-plan';

const BROKERS = 'kafka-1:9092,kafka-2:9092';
const DEV_URL = 'postgres://app:secret@db.internal:5433/shop';

describe('the test tiers choose their PostgreSQL and Kafka', () => {
  it('use testcontainers for both where a Docker engine answers and nothing is configured', () => {
    expect(planTestInfrastructure({}, true)).toEqual({ kafka: { source: 'testcontainers' }, postgres: { source: 'testcontainers' } });
  });

  it("use a broker of the run's own, with SASL and ACLs, and the local server's payments_test without Docker", () => {
    expect(planTestInfrastructure({}, false)).toEqual({
      kafka: { source: 'own broker', sasl: true },
      postgres: { source: 'local server', url: 'postgres://postgres@127.0.0.1:5432/payments_test' },
    });
  });

  it("use the run's own broker with SASL and ACLs on TEST_KAFKA_SASL=1, with or without Docker; without SASL on TEST_KAFKA_SASL=0", () => {
    for (const docker of [true, false]) {
      expect(planTestInfrastructure({ TEST_KAFKA_SASL: '1' }, docker).kafka).toEqual({ source: 'own broker', sasl: true });
      expect(planTestInfrastructure({ TEST_KAFKA_SASL: '0' }, docker).kafka).toEqual(
        docker ? { source: 'testcontainers' } : { source: 'own broker', sasl: false },
      );
    }
    expect(needsDockerAnswer({ TEST_KAFKA_SASL: '1', DATABASE_URL: DEV_URL })).toBe(false);
    expect(needsDockerAnswer({ TEST_KAFKA_SASL: '0', DATABASE_URL: DEV_URL })).toBe(true);
  });

  it('refuse TEST_KAFKA_SASL with KAFKA_BROKERS, and a TEST_KAFKA_SASL that is neither 1 nor 0', () => {
    expect(() => planTestInfrastructure({ TEST_KAFKA_SASL: '1', KAFKA_BROKERS: BROKERS }, false)).toThrow(/unset KAFKA_BROKERS/);
    expect(planTestInfrastructure({ TEST_KAFKA_SASL: '0', KAFKA_BROKERS: BROKERS }, false).kafka).toEqual({
      source: 'KAFKA_BROKERS',
      brokers: ['kafka-1:9092', 'kafka-2:9092'],
    });
    expect(() => planTestInfrastructure({ TEST_KAFKA_SASL: 'yes' }, false)).toThrow('TEST_KAFKA_SASL must be 1');
  });

  it('use KAFKA_BROKERS when set, with or without Docker', () => {
    for (const docker of [true, false]) {
      expect(planTestInfrastructure({ KAFKA_BROKERS: ` ${BROKERS} ` }, docker).kafka).toEqual({
        source: 'KAFKA_BROKERS',
        brokers: ['kafka-1:9092', 'kafka-2:9092'],
      });
    }
  });

  it("use TEST_DATABASE_URL when set, else DATABASE_URL's server with a _test database, with or without Docker", () => {
    for (const docker of [true, false]) {
      const test = 'postgres://ci@pg:5432/ci_test';
      expect(planTestInfrastructure({ TEST_DATABASE_URL: test, DATABASE_URL: DEV_URL }, docker).postgres).toEqual({ source: 'TEST_DATABASE_URL', url: test });
      expect(planTestInfrastructure({ DATABASE_URL: DEV_URL }, docker).postgres).toEqual({
        source: 'DATABASE_URL',
        url: 'postgres://app:secret@db.internal:5433/shop_test',
      });
    }
  });

  it('mix: containers only for what is not configured', () => {
    expect(planTestInfrastructure({ KAFKA_BROKERS: BROKERS }, true).postgres).toEqual({ source: 'testcontainers' });
    expect(planTestInfrastructure({ DATABASE_URL: DEV_URL }, true).kafka).toEqual({ source: 'testcontainers' });
  });

  it('ask Docker only when something is left to start', () => {
    expect(needsDockerAnswer({})).toBe(true);
    expect(needsDockerAnswer({ KAFKA_BROKERS: BROKERS })).toBe(true);
    expect(needsDockerAnswer({ DATABASE_URL: DEV_URL })).toBe(true);
    expect(needsDockerAnswer({ KAFKA_BROKERS: BROKERS, DATABASE_URL: DEV_URL })).toBe(false);
    expect(needsDockerAnswer({ KAFKA_BROKERS: BROKERS, TEST_DATABASE_URL: DEV_URL.replace('shop', 'shop_ci') })).toBe(false);
    expect(needsDockerAnswer({ KAFKA_BROKERS: ' ', TEST_DATABASE_URL: 'postgres://x/y' })).toBe(true);
  });

  it('refuse a TEST_DATABASE_URL that names the development database, naming neither password nor URL', () => {
    expect(() => planTestInfrastructure({ TEST_DATABASE_URL: 'postgres://postgres@localhost/payments' }, false)).toThrow(
      /^TEST_DATABASE_URL names the development database \(payments on 127\.0\.0\.1:5432\)/,
    );
    expect(() => planTestInfrastructure({ TEST_DATABASE_URL: DEV_URL, DATABASE_URL: DEV_URL }, false)).toThrow(
      /^TEST_DATABASE_URL names the development database/,
    );
    expect(() => planTestInfrastructure({ TEST_DATABASE_URL: DEV_URL, DATABASE_URL: DEV_URL }, false)).not.toThrow(/secret/);
  });

  it('never resolve to the database `npm start` uses, nor start Kafka where it runs, whatever the environment', () => {
    const url = fc.constantFrom(
      DEVELOPMENT_DATABASE_URL,
      DEV_URL,
      'postgres://postgres@localhost:5432/payments',
      'postgres://u@h:6543/payments_test',
      LOCAL_TEST_DATABASE_URL,
    );
    const env = fc.record({ DATABASE_URL: fc.option(url, { nil: undefined }), TEST_DATABASE_URL: fc.option(url, { nil: undefined }) }, { requiredKeys: [] });
    fc.assert(
      fc.property(env, fc.boolean(), (environment: TestEnvironment, docker) => {
        const development = environment.DATABASE_URL ?? DEVELOPMENT_DATABASE_URL;
        let plan;
        try {
          plan = planTestInfrastructure(environment, docker);
        } catch {
          return environment.TEST_DATABASE_URL !== undefined && sameDatabase(environment.TEST_DATABASE_URL, development);
        }
        // Without KAFKA_BROKERS (the caller's own choice) the broker is always a new one.
        if (plan.kafka.source !== 'testcontainers' && plan.kafka.source !== 'own broker') return false;
        if (plan.postgres.source === 'testcontainers') return docker && !environment.DATABASE_URL && !environment.TEST_DATABASE_URL;
        return !sameDatabase(plan.postgres.url, development);
      }),
    );
  });
});
