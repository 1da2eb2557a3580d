import { AsyncLocalStorage } from 'node:async_hooks';
import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';
import { metrics } from '@opentelemetry/api';

/** The platform's meter; instruments are no-ops until the SDK is started (telemetry.ts). */
export function meter(name = 'pay-platform'): Meter {
  return metrics.getMeter(name);
}

const collecting = new AsyncLocalStorage<string>();

/** Runs a metric reader's collection under the reader's name (telemetry.ts: `prometheus`, `otlp`). */
export function collectingAs<T>(reader: string, collect: () => Promise<T>): Promise<T> {
  return collecting.run(reader, collect);
}

/**
 * The metric reader whose collection runs the calling callback, if it said (collectingAs). A
 * reading that starts a new interval (the event loop's delay) keeps one interval per reader, so
 * Prometheus' scrapes and the OTLP pushes each cover the time since their own previous read.
 */
export function collectingReader(): string | undefined {
  return collecting.getStore();
}

/**
 * A gauge whose current values are set by the code that knows them (a consumer's lag per
 * partition, an outbox's backlog) and read when Prometheus scrapes.
 */
export class LastValueGauge {
  private readonly values = new Map<string, { value: number; attributes: Attributes }>();

  constructor(name: string, description: string, unit = '1') {
    meter()
      .createObservableGauge(name, { description, unit })
      .addCallback((result) => {
        for (const { value, attributes } of this.values.values()) result.observe(value, attributes);
      });
  }

  set(value: number, attributes: Attributes = {}): void {
    this.values.set(JSON.stringify(attributes), { value, attributes });
  }
}

let instruments:
  | {
      httpDuration: Histogram;
      messagesProcessed: Counter;
      processDuration: Histogram;
      consumerLag: LastValueGauge;
      consumerBlocked: LastValueGauge;
      consumerState: LastValueGauge;
      consumerStateChanges: Counter;
      outboxBacklog: LastValueGauge;
      outboxPublished: Counter;
      outboxPublishAttempts: Counter;
      outboxRelayFailing: LastValueGauge;
    }
  | undefined;

/** Latency buckets in seconds, from 1 ms to 10 s (the SDK's defaults are for milliseconds). */
export const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The instruments every service shares, created once per process. */
export function platformMetrics(): NonNullable<typeof instruments> {
  instruments ??= {
    httpDuration: meter().createHistogram('http.server.request.duration', {
      description: 'HTTP request latency',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
    messagesProcessed: meter().createCounter('messaging.process.messages', { description: 'Kafka messages processed, by outcome' }),
    processDuration: meter().createHistogram('messaging.process.duration', {
      description: 'Time to apply one Kafka message',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
    consumerLag: new LastValueGauge('messaging.consumer.lag', 'Messages behind the end of each partition'),
    consumerBlocked: new LastValueGauge(
      'messaging.consumer.blocked',
      'Seconds the next message of a partition has waited for an unavailable dependency (0: not waiting)',
      's',
    ),
    consumerState: new LastValueGauge(
      'messaging.consumer.state',
      "A consumer group member's state: 1 for the state it is in (joining, connected, rebalancing, disconnected, crashed, stopped), 0 for the others",
    ),
    consumerStateChanges: meter().createCounter('messaging.consumer.state_changes', {
      description: "Changes of a consumer group member's state, by the state entered",
    }),
    outboxBacklog: new LastValueGauge('outbox.backlog', 'Outbox rows written but not yet published'),
    outboxPublished: meter().createCounter('outbox.published', { description: 'Outbox rows published to Kafka' }),
    outboxPublishAttempts: meter().createCounter('outbox.publish_attempts', {
      description: "Outbox relay passes that tried to publish, by outcome: 'published' (a batch went out) or 'failed' (the database or Kafka refused)",
    }),
    outboxRelayFailing: new LastValueGauge(
      'outbox.relay.failing',
      "1 while an outbox relay's passes fail (it retries with backoff), 0 once it publishes again",
    ),
  };
  return instruments;
}
