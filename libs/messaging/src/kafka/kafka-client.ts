import type { Logger } from '@pay/observability';
import type { logCreator } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import { installRequestQueueTimerFix } from './kafkajs-request-queue';

export interface KafkaClientOptions {
  clientId: string;
  brokers: string[];
  logger?: Logger;
  /** How long to wait for a broker before giving up, per attempt. */
  connectionTimeoutMs?: number;
  retries?: number;
}

/** kafkajs logs through our structured (and scrubbed) logger, warnings and up only. */
function logCreatorFor(logger: Logger): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, ...extra } = log;
      const fields = { kafka: extra };
      if (level === logLevel.ERROR) logger.error(fields, message);
      else if (level === logLevel.WARN) logger.warn(fields, message);
    };
}

export function createKafka(options: KafkaClientOptions): Kafka {
  installRequestQueueTimerFix();
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    retry: { retries: options.retries ?? 5, initialRetryTime: 200, maxRetryTime: 5_000 },
    logLevel: options.logger ? logLevel.WARN : logLevel.NOTHING,
    logCreator: options.logger ? logCreatorFor(options.logger) : undefined,
  });
}
