import { saslClientProperties, toolCommand } from './kafka-console';

describe('kafka:produce / kafka:consume on a cluster with SASL/SCRAM', () => {
  it('signs in with KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD, SCRAM-SHA-512 unless told otherwise', () => {
    expect(saslClientProperties({ KAFKA_SASL_USERNAME: 'app-instagram', KAFKA_SASL_PASSWORD: 'pw-123456' })).toBe(
      [
        'security.protocol=SASL_PLAINTEXT',
        'sasl.mechanism=SCRAM-SHA-512',
        'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="app-instagram" password="pw-123456";',
        '',
      ].join('\n'),
    );
    expect(
      saslClientProperties({ KAFKA_SASL_USERNAME: 'app-whatsapp', KAFKA_SASL_PASSWORD: 'pw', KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_TLS: 'true' }),
    ).toMatch(/^security\.protocol=SASL_SSL\nsasl\.mechanism=SCRAM-SHA-256\n/);
    expect(saslClientProperties({ KAFKA_SASL_USERNAME: 'app-whatsapp', KAFKA_SASL_PASSWORD: 'pw', KAFKA_TLS: '1' })).toMatch(/^security\.protocol=SASL_SSL\n/);
    expect(() => saslClientProperties({ KAFKA_SASL_USERNAME: 'app-whatsapp', KAFKA_SASL_PASSWORD: 'pw', KAFKA_TLS: 'yes' })).toThrow(
      'KAFKA_TLS must be true or false',
    );
  });

  it("signs in as KAFKA_USER with its password from npm start's users file", () => {
    const users = { admin: { name: 'admin', password: 'admin-pw' }, users: [{ name: 'app-instagram', password: 'insta-pw' }] };
    expect(saslClientProperties({ KAFKA_USER: 'app-instagram' }, users)).toMatch(/username="app-instagram" password="insta-pw";/);
    expect(() => saslClientProperties({ KAFKA_USER: 'app-tiktok' }, users)).toThrow('has no user "app-tiktok"; its users: admin, app-instagram');
    expect(() => saslClientProperties({ KAFKA_USER: 'app-instagram' })).toThrow('runs without SASL');
  });

  it('adds nothing without credentials (the local broker of npm start), and refuses half or unsafe ones', () => {
    expect(saslClientProperties({})).toBeUndefined();
    expect(saslClientProperties({ KAFKA_SASL_MECHANISM: 'scram-sha-512' })).toBeUndefined();
    expect(() => saslClientProperties({ KAFKA_SASL_USERNAME: 'app-instagram' })).toThrow('KAFKA_SASL_PASSWORD must be set');
    expect(() => saslClientProperties({ KAFKA_SASL_PASSWORD: 'pw' })).toThrow('KAFKA_SASL_USERNAME must be');
    // A quote would end the JAAS value and let the rest configure the login module.
    expect(() => saslClientProperties({ KAFKA_SASL_USERNAME: 'app-instagram', KAFKA_SASL_PASSWORD: 'pw" debug="true' })).toThrow('no spaces, quotes');
    expect(() => saslClientProperties({ KAFKA_SASL_USERNAME: 'app-instagram', KAFKA_SASL_PASSWORD: 'pw', KAFKA_SASL_MECHANISM: 'plain' })).toThrow(
      'KAFKA_SASL_MECHANISM must be',
    );
  });

  it('passes the properties file before the arguments, and the broker unless the arguments name one', () => {
    expect(toolCommand('produce', ['--command-config', '/tmp/x/client.properties', '--topic', 't'], '/libs')).toEqual([
      '-cp',
      '/libs/*',
      'org.apache.kafka.tools.ConsoleProducer',
      '--bootstrap-server',
      expect.any(String),
      '--command-config',
      '/tmp/x/client.properties',
      '--topic',
      't',
    ]);
  });
});
