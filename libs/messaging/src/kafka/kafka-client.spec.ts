import { Writable } from 'node:stream';
import { createLogger } from '@pay/observability';
import { createKafka, kafkaConnectionOf, kafkaSaslFromEnv, kafkaSecurity } from './kafka-client';

describe('Kafka connection settings', () => {
  it('signs a service in as its own principal when its config names one, and not otherwise', () => {
    const base = { KAFKA_BROKERS: ['kafka:9092'] };
    expect(kafkaConnectionOf(base)).toEqual({ brokers: ['kafka:9092'] });
    const connection = kafkaConnectionOf({
      ...base,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'wallet',
      KAFKA_SASL_PASSWORD: 'secret-pw',
      KAFKA_TLS: true,
    });
    expect(connection).toEqual({ brokers: ['kafka:9092'], sasl: { mechanism: 'scram-sha-512', username: 'wallet', password: 'secret-pw' }, tls: true });
    expect(kafkaSecurity(connection)).toEqual({ sasl: { mechanism: 'scram-sha-512', username: 'wallet', password: 'secret-pw' }, ssl: true });
  });

  it("reads an operator tool's credentials from the environment, all or none, with clear errors", () => {
    expect(kafkaSaslFromEnv({})).toBeUndefined();
    expect(kafkaSaslFromEnv({ KAFKA_SASL_USERNAME: 'ops', KAFKA_SASL_PASSWORD: 'pw' }, 'scram-sha-512')).toEqual({
      mechanism: 'scram-sha-512',
      username: 'ops',
      password: 'pw',
    });
    expect(() => kafkaSaslFromEnv({ KAFKA_SASL_USERNAME: 'ops' }, 'scram-sha-512')).toThrow('KAFKA_SASL_PASSWORD must be set');
    expect(() => kafkaSaslFromEnv({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'ops', KAFKA_SASL_PASSWORD: 'pw' })).toThrow(
      'scram-sha-256 or scram-sha-512',
    );
    expect(() => kafkaSaslFromEnv({ KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'a b', KAFKA_SASL_PASSWORD: 'pw' })).toThrow(
      'KAFKA_SASL_USERNAME',
    );
  });

  it("logs kafkajs's warnings as warnings, but its retries (errors, a timed-out request's late answer) at debug only", () => {
    const written: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written.push(chunk.toString());
        done();
      },
    });
    const kafka = createKafka({ clientId: 'client-spec', brokers: ['127.0.0.1:1'], logger: createLogger('client-spec', 'debug', sink) });
    kafka.logger().warn('Response without match', { correlationId: 17 });
    kafka.logger().error('Connection error: connect ECONNREFUSED', {});
    kafka.logger().warn('a warning that names our configuration', {});
    const levels = written.map((line) => JSON.parse(line) as { level: string; msg: string }).map((line) => [line.level, line.msg]);
    expect(levels).toEqual([
      ['debug', 'Response without match'],
      ['debug', 'Connection error: connect ECONNREFUSED'],
      ['warn', 'a warning that names our configuration'],
    ]);
  });
});
