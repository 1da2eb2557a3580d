import { kafkaConnectionFromEnv } from './kafka-connection';

describe("the operator tools' Kafka connection", () => {
  it('reads KAFKA_TLS as the services do: true or 1 is TLS, false, 0 or unset is none', () => {
    expect(kafkaConnectionFromEnv({ KAFKA_TLS: 'true' }).tls).toBe(true);
    expect(kafkaConnectionFromEnv({ KAFKA_TLS: '1' }).tls).toBe(true);
    expect(kafkaConnectionFromEnv({ KAFKA_TLS: '0' }).tls).toBe(false);
    expect(kafkaConnectionFromEnv({}).tls).toBe(false);
  });

  it('refuses a KAFKA_TLS it cannot read, instead of connecting without TLS', () => {
    expect(() => kafkaConnectionFromEnv({ KAFKA_TLS: 'yes' })).toThrow('KAFKA_TLS must be true or false (or 1 or 0); got "yes".');
  });

  it('reads KAFKA_BROKERS as a host:port list, the local broker when unset, and refuses anything else', () => {
    expect(kafkaConnectionFromEnv({ KAFKA_BROKERS: ' kafka-0:9093, kafka-1:9093 ' }).brokers).toEqual(['kafka-0:9093', 'kafka-1:9093']);
    expect(kafkaConnectionFromEnv({}).brokers).toEqual(['127.0.0.1:9092']);
    expect(() => kafkaConnectionFromEnv({ KAFKA_BROKERS: 'kafka-0' })).toThrow('KAFKA_BROKERS must be a comma-separated list of host:port');
  });
});
