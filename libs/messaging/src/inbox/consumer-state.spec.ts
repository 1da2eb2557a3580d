import { Writable } from 'node:stream';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { createLogger, startTelemetry } from '@pay/observability';
import { ConsumerStateTracker } from './consumer-state';

const telemetry = startTelemetry({ service: 'consumer-state-test' });

function capture(): { lines: () => Array<Record<string, unknown>>; stream: Writable } {
  const written: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      written.push(chunk.toString());
      done();
    },
  });
  return { lines: () => written.map((line) => JSON.parse(line) as Record<string, unknown>), stream };
}

/** The Prometheus samples of one consumer: `state` -> value, for a metric name. */
async function samples(name: string, consumer: string): Promise<Record<string, number>> {
  const { resourceMetrics } = await telemetry.prometheus.collect();
  const text = new PrometheusSerializer().serialize(resourceMetrics);
  const found: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}\\{(.*)\\} (\\S+)`).exec(line);
    if (!match || !match[1].includes(`consumer="${consumer}"`)) continue;
    const state = /state="([a-z]+)"/.exec(match[1])?.[1];
    if (state) found[state] = Number(match[2]);
  }
  return found;
}

afterAll(() => telemetry.shutdown());

describe('ConsumerStateTracker', () => {
  it('logs each change of state once, with the state it left and why, and ignores a repeat', () => {
    const { lines, stream } = capture();
    const tracker = new ConsumerStateTracker('wallet.payments-ledger', createLogger('wallet', 'info', stream));
    expect(tracker.enter('joining')).toBe(true);
    expect(tracker.enter('connected', { partitions: 6 })).toBe(true);
    expect(
      tracker.enter('disconnected', { reason: 'KafkaJSNumberOfRetriesExceeded: Connection error: connect ECONNREFUSED 127.0.0.1:9092', retryInMs: 1500 }),
    ).toBe(true);
    // Every failed reconnection attempt of an outage: no new line.
    expect(tracker.enter('disconnected', { reason: 'again' })).toBe(false);
    expect(tracker.enter('disconnected', { reason: 'and again' })).toBe(false);
    expect(tracker.enter('connected', { partitions: 6 })).toBe(true);
    expect(tracker.enter('stopped')).toBe(true);
    expect(tracker.state).toBe('stopped');

    const logged = lines();
    expect(logged.map((line) => [line.level, line.state, line.previous])).toEqual([
      ['info', 'joining', null],
      ['info', 'connected', 'joining'],
      ['warn', 'disconnected', 'connected'],
      ['info', 'connected', 'disconnected'],
      ['info', 'stopped', 'connected'],
    ]);
    expect(logged.every((line) => line.consumer === 'wallet.payments-ledger')).toBe(true);
    expect(logged[2]).toMatchObject({ reason: 'KafkaJSNumberOfRetriesExceeded: Connection error: connect ECONNREFUSED 127.0.0.1:9092', retryInMs: 1500 });
    expect(logged[3].previousForMs).toEqual(expect.any(Number));
  });

  it('logs a crash without restart as an error', () => {
    const { lines, stream } = capture();
    const tracker = new ConsumerStateTracker('history.payments', createLogger('history', 'info', stream));
    tracker.enter('connected');
    tracker.enter('crashed', { reason: 'KafkaJSNonRetriableError: Topic authorization failed' });
    expect(lines().at(-1)).toMatchObject({
      level: 'error',
      state: 'crashed',
      previous: 'connected',
      reason: 'KafkaJSNonRetriableError: Topic authorization failed',
    });
  });

  it('shows the current state as 1 and every other as 0 in messaging_consumer_state, and counts the changes', async () => {
    const consumer = 'orchestration.purchase-requests';
    const tracker = new ConsumerStateTracker(consumer, createLogger('orchestration', 'silent'));
    tracker.enter('joining');
    tracker.enter('connected');
    expect(await samples('messaging_consumer_state', consumer)).toEqual({ joining: 0, connected: 1, rebalancing: 0, disconnected: 0, crashed: 0, stopped: 0 });
    tracker.enter('disconnected');
    tracker.enter('disconnected');
    expect(await samples('messaging_consumer_state', consumer)).toEqual({ joining: 0, connected: 0, rebalancing: 0, disconnected: 1, crashed: 0, stopped: 0 });
    tracker.enter('connected');
    expect(await samples('messaging_consumer_state_changes_total', consumer)).toEqual({ joining: 1, connected: 2, disconnected: 1 });
  });
});
