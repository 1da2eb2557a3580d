import type { Counter, Histogram } from '@opentelemetry/api';
import { LastValueGauge, meter, SECONDS_BUCKETS } from '@pay/observability';

let instruments: { messages: Counter; delivery: Histogram; connections: LastValueGauge } | undefined;

/** The chat's instruments: counts and latencies by outcome and role, never text or ids. */
export function chatMetrics(): NonNullable<typeof instruments> {
  instruments ??= {
    messages: meter().createCounter('support.chat.messages', {
      description: 'Chat messages sent, by outcome (stored, replayed, or the refusal code) and role',
    }),
    delivery: meter().createHistogram('support.chat.delivery.duration', {
      description: 'From a message stored to its emission to a connected party, on the instance that party is connected to',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
    connections: new LastValueGauge('support.chat.connections', 'Open chat WebSocket connections on this instance, by role'),
  };
  return instruments;
}
