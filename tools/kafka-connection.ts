import { DEFAULT_KAFKA_BROKERS, parseFlag } from '@pay/config';

/** The cluster an operator's tool talks to, read from the environment as the services' configuration reads it. */
export interface KafkaConnection {
  readonly brokers: string[];
  readonly tls: boolean;
}

/**
 * KAFKA_BROKERS (comma-separated host:port; the local broker when unset) and KAFKA_TLS (true/false
 * or 1/0, as the services accept it; anything else is refused rather than read as "no TLS").
 */
export function kafkaConnectionFromEnv(env: NodeJS.ProcessEnv): KafkaConnection {
  const brokers = (env.KAFKA_BROKERS?.trim() || DEFAULT_KAFKA_BROKERS)
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  if (!brokers.every((broker) => /^[A-Za-z0-9.-]+:\d{1,5}$/.test(broker))) throw new Error('KAFKA_BROKERS must be a comma-separated list of host:port');
  return { brokers, tls: parseFlag('KAFKA_TLS', env.KAFKA_TLS, false) };
}
