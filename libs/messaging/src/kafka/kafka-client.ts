import type { Logger } from '@pay/observability';
import type { logCreator, SASLOptions } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import { installMemberIdAcrossRestarts } from './kafkajs-member-id';
import { installRequestQueueTimerFix } from './kafkajs-request-queue';

/** How to reach and authenticate to the brokers. */
export interface KafkaConnection {
  brokers: string[];
  /** SCRAM credentials of this process's own principal (libs/contracts topic-access); none on the local broker. */
  sasl?: { mechanism: 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  tls?: boolean;
}

/** The connection a service's configuration describes (KAFKA_BROKERS, KAFKA_SASL_*, KAFKA_TLS). */
export function kafkaConnectionOf(config: {
  KAFKA_BROKERS: string[];
  KAFKA_SASL_MECHANISM?: 'scram-sha-256' | 'scram-sha-512';
  KAFKA_SASL_USERNAME?: string;
  KAFKA_SASL_PASSWORD?: string;
  KAFKA_TLS?: boolean;
}): KafkaConnection {
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = config;
  return {
    brokers: config.KAFKA_BROKERS,
    ...(mechanism && username && password ? { sasl: { mechanism, username, password } } : {}),
    ...(config.KAFKA_TLS ? { tls: true } : {}),
  };
}

/**
 * The SASL credentials an operator's tool signs in with (dlq:replay, kafka:acls): KAFKA_SASL_MECHANISM,
 * KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD, all or none (none: the local, unauthenticated broker).
 */
export function kafkaSaslFromEnv(env: NodeJS.ProcessEnv = process.env, defaultMechanism?: 'scram-sha-256' | 'scram-sha-512'): KafkaConnection['sasl'] {
  const mechanism = env.KAFKA_SASL_MECHANISM?.trim() || (env.KAFKA_SASL_USERNAME ? defaultMechanism : undefined);
  const username = env.KAFKA_SASL_USERNAME?.trim();
  const password = env.KAFKA_SASL_PASSWORD;
  if (!mechanism && !username && !password) return undefined;
  if (mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512') throw new Error('KAFKA_SASL_MECHANISM must be scram-sha-256 or scram-sha-512');
  if (!username || !/^[A-Za-z0-9._-]{1,64}$/.test(username))
    throw new Error('KAFKA_SASL_USERNAME must be a Kafka user name (1 to 64 of A-Z, a-z, 0-9, ".", "_", "-")');
  if (!password) throw new Error('KAFKA_SASL_PASSWORD must be set with KAFKA_SASL_USERNAME');
  return { mechanism, username, password };
}

/** kafkajs's sasl/ssl settings of a connection. */
export function kafkaSecurity(connection: Omit<KafkaConnection, 'brokers'>): { sasl?: SASLOptions; ssl?: boolean } {
  return {
    ...(connection.sasl ? { sasl: { ...connection.sasl } } : {}),
    ...(connection.tls ? { ssl: true } : {}),
  };
}

export interface KafkaClientOptions extends KafkaConnection {
  clientId: string;
  logger?: Logger;
  /** How long to wait for a broker before giving up, per attempt. */
  connectionTimeoutMs?: number;
  retries?: number;
}

/**
 * kafkajs logs through our structured (and scrubbed) logger: its warnings as warnings (they name a
 * cause in our configuration), its errors at debug level (`kafkajsLevel: 'error'`). Its errors are
 * its retries: during a broker outage every client wrote an error line per reconnection attempt
 * (issue 15: ~440 lines for 25 s). What an operator needs is said once per change instead: a
 * consumer's state (consumer-state.ts: disconnected, connected, …), and a producer's failure where
 * our code gets it (the outbox relay, a request that cannot publish).
 */
function logCreatorFor(logger: Logger): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, ...extra } = log;
      // The late answer to a request that had timed out (a broker slow to come back), which kafkajs
      // already retried: part of a retry, not a cause in our configuration.
      if (level === logLevel.WARN && message === 'Response without match') logger.debug({ kafka: extra, kafkajsLevel: 'warn' }, message);
      else if (level === logLevel.WARN) logger.warn({ kafka: extra }, message);
      else if (level === logLevel.ERROR) logger.debug({ kafka: extra, kafkajsLevel: 'error' }, message);
    };
}

export function createKafka(options: KafkaClientOptions): Kafka {
  installRequestQueueTimerFix();
  installMemberIdAcrossRestarts();
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    ...kafkaSecurity(options),
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    retry: { retries: options.retries ?? 5, initialRetryTime: 200, maxRetryTime: 5_000 },
    logLevel: options.logger ? logLevel.WARN : logLevel.NOTHING,
    logCreator: options.logger ? logCreatorFor(options.logger) : undefined,
  });
}
