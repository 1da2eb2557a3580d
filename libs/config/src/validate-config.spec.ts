import { BaseServiceConfig } from './base-service.config';
import { ConfigError, loadConfig } from './validate-config';

describe('loadConfig', () => {
  it('applies defaults when nothing is set', () => {
    const config = loadConfig('wallet', BaseServiceConfig, {});
    expect(config.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/payments');
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(config.PORT).toBeUndefined();
  });

  it('parses lists and numbers', () => {
    const config = loadConfig('wallet', BaseServiceConfig, { KAFKA_BROKERS: 'a:9092, b:9093', PORT: '3001' });
    expect(config.KAFKA_BROKERS).toEqual(['a:9092', 'b:9093']);
    expect(config.PORT).toBe(3001);
  });

  it('takes a consumer session timeout the broker accepts (6 s to 5 minutes), none by default', () => {
    expect(loadConfig('wallet', BaseServiceConfig, {}).KAFKA_SESSION_TIMEOUT_MS).toBeUndefined();
    expect(loadConfig('wallet', BaseServiceConfig, { KAFKA_SESSION_TIMEOUT_MS: '15000' }).KAFKA_SESSION_TIMEOUT_MS).toBe(15_000);
    for (const bad of ['5999', '300001', '10s']) {
      expect(() => loadConfig('wallet', BaseServiceConfig, { KAFKA_SESSION_TIMEOUT_MS: bad })).toThrow(/KAFKA_SESSION_TIMEOUT_MS/);
    }
  });

  it("takes a replica's instance id for its consumer groups (none by default) and an off switch (on by default)", () => {
    const unset = loadConfig('wallet', BaseServiceConfig, {});
    expect(unset.KAFKA_GROUP_INSTANCE_ID).toBeUndefined();
    expect(unset.KAFKA_REJOIN_AFTER_RESTART).toBe(true);
    const pod = loadConfig('wallet', BaseServiceConfig, { KAFKA_GROUP_INSTANCE_ID: 'wallet-5d8f7c9b6-x7k2p', KAFKA_REJOIN_AFTER_RESTART: 'false' });
    expect(pod.KAFKA_GROUP_INSTANCE_ID).toBe('wallet-5d8f7c9b6-x7k2p');
    expect(pod.KAFKA_REJOIN_AFTER_RESTART).toBe(false);
    // Empty is unset, as for every variable: off.
    expect(loadConfig('wallet', BaseServiceConfig, { KAFKA_GROUP_INSTANCE_ID: '' }).KAFKA_GROUP_INSTANCE_ID).toBeUndefined();
    for (const bad of ['two words', '-leading-dash', 'a/b', 'x'.repeat(254)]) {
      expect(() => loadConfig('wallet', BaseServiceConfig, { KAFKA_GROUP_INSTANCE_ID: bad })).toThrow(/KAFKA_GROUP_INSTANCE_ID/);
    }
    expect(() => loadConfig('wallet', BaseServiceConfig, { KAFKA_REJOIN_AFTER_RESTART: 'yes' })).toThrow(/KAFKA_REJOIN_AFTER_RESTART/);
  });

  it('names every bad variable, and never its value', () => {
    const secret = 'mysql://root:hunter2@db';
    let error: unknown;
    try {
      loadConfig('wallet', BaseServiceConfig, { DATABASE_URL: secret, KAFKA_BROKERS: 'no-port', PORT: 'eighty' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/^wallet: invalid configuration: /);
    expect(message).toContain('DATABASE_URL must be a postgres:// URL');
    expect(message).toContain('KAFKA_BROKERS must be a comma-separated list of host:port');
    expect(message).toContain('PORT must be a whole number');
    expect(message).not.toContain('hunter2');
  });
});
