import { Writable } from 'node:stream';
import { createEvent, defineEvent } from '@pay/contracts';
import { createLogger, startTelemetry, tracer } from '@pay/observability';
import type { TestSchema } from '@pay/testing';
import { createTestSchema, createTestTopics, deleteTestTopics, prometheusValue, testKafka, uniqueName, waitFor } from '@pay/testing';
import { context, trace } from '@opentelemetry/api';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { IsString } from 'class-validator';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { EventPublisher } from '../kafka/event-publisher';
import { DependencyUnavailableError } from './dependency-unavailable';
import { InboxConsumer } from './inbox-consumer';
import { INBOX_TABLE_SQL } from './inbox.schema';

class Note {
  @IsString()
  text!: string;
}

const NoteV1 = defineEvent({ type: 'test.note.written', version: 1, topic: 'it.notes', dataClass: Note, description: 'test' });

class CreateInbox1700000000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(INBOX_TABLE_SQL);
  }
  async down(): Promise<void> {}
}

const spans = new InMemorySpanExporter();
const telemetry = startTelemetry({ service: 'messaging-test', spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
const logger = createLogger('messaging-test', 'silent');

describe('InboxConsumer: long handlers and trace context', () => {
  let db: TestSchema;
  let publisher: EventPublisher;
  const kafka = testKafka();
  const topics: string[] = [];

  beforeAll(async () => {
    db = await createTestSchema('it_inbox_hb', [CreateInbox1700000000000]);
    publisher = new EventPublisher(kafka);
  });

  afterAll(async () => {
    await publisher.disconnect();
    await deleteTestTopics(topics);
    await db.drop();
    await telemetry.shutdown();
  });

  async function freshTopic(): Promise<string> {
    const topic = uniqueName('it.notes').replace(/_/g, '-');
    topics.push(topic);
    await createTestTopics([topic], 1);
    return topic;
  }

  it('keeps heartbeating while a handler runs longer than the session timeout, so the batch is not redelivered', async () => {
    const topic = await freshTopic();
    const calls: string[] = [];
    const consumer = new InboxConsumer({
      groupId: uniqueName('it-heartbeat'),
      topics: [topic],
      kafka,
      dataSource: db.dataSource,
      publisher,
      logger,
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 500,
      handlers: {
        [NoteV1.type]: async (event) => {
          calls.push(event.envelope.id);
          // Twice the session timeout: without heartbeats the broker would evict the member.
          await new Promise((resolve) => setTimeout(resolve, 12_000));
        },
      },
    });
    const first = createEvent({ definition: NoteV1, source: 'wallet', subject: 'n', sequence: 1, data: { text: 'slow' } });
    const second = createEvent({ definition: NoteV1, source: 'wallet', subject: 'n', sequence: 2, data: { text: 'next' } });
    await publisher.publish([first, second].map((envelope) => ({ topic, envelope })));
    await consumer.start();
    try {
      await waitFor(
        () => consumer.stats.applied,
        (applied) => applied >= 2,
        { what: 'both messages applied', timeoutMs: 60_000, intervalMs: 200 },
      );
      expect(consumer.stats.applied).toBe(2);
      expect(calls).toEqual([first.id, second.id]); // each handler ran once: no rebalance redelivered it
    } finally {
      await consumer.stop();
    }
  }, 90_000);

  it('heartbeats while a message waits for an unavailable dependency longer than the session timeout, and shows the wait in messaging_consumer_blocked', async () => {
    const topic = await freshTopic();
    const groupId = uniqueName('it-blocked');
    let down = true;
    const consumer = new InboxConsumer({
      groupId,
      topics: [topic],
      kafka,
      dataSource: db.dataSource,
      publisher,
      logger,
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 500,
      unavailableBackoffMaxMs: 2_000,
      handlers: {
        [NoteV1.type]: async () => {
          if (down) throw new DependencyUnavailableError('test-service', 'the test service does not answer');
        },
      },
    });
    const blocked = async (): Promise<number> => {
      const { resourceMetrics } = await telemetry.prometheus.collect();
      return prometheusValue(new PrometheusSerializer().serialize(resourceMetrics), 'messaging_consumer_blocked', {
        consumer: groupId,
        topic,
        partition: '0',
        dependency: 'test-service',
      });
    };
    await publisher.publish([{ topic, envelope: createEvent({ definition: NoteV1, source: 'wallet', subject: 'n', sequence: 1, data: { text: 'waits' } }) }]);
    await consumer.start();
    try {
      // Twice the session timeout: a member that stopped heartbeating would have been evicted, and
      // the message handed over again, its wait starting over from 0.
      await waitFor(blocked, (seconds) => seconds >= 12, { what: 'messaging_consumer_blocked at 12 s', timeoutMs: 60_000, intervalMs: 200 });
      expect(await blocked()).toBeGreaterThanOrEqual(12);
      expect(consumer.stats).toMatchObject({ applied: 0, deadLettered: 0 });
      // Still the group's member: not evicted for silence.
      const admin = kafka.admin();
      await admin.connect();
      const { groups } = await admin.describeGroups([groupId]);
      await admin.disconnect();
      expect({ state: groups[0].state, members: groups[0].members.length }).toEqual({ state: 'Stable', members: 1 });

      down = false;
      await waitFor(
        () => consumer.stats.applied,
        (applied) => applied >= 1,
        { what: 'the message applied once its dependency is back', timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(consumer.stats).toMatchObject({ applied: 1, deadLettered: 0 });
      expect(await blocked()).toBe(0);
    } finally {
      await consumer.stop();
    }
  }, 90_000);

  it('shows its state on a real broker: joining, then connected once in its group, stopped after stop(), one log line each', async () => {
    const topic = await freshTopic();
    const groupId = uniqueName('it-state');
    const written: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written.push(chunk.toString());
        done();
      },
    });
    const consumer = new InboxConsumer({
      groupId,
      topics: [topic],
      kafka,
      dataSource: db.dataSource,
      publisher,
      logger: createLogger('messaging-test', 'info', sink),
      handlers: { [NoteV1.type]: async () => undefined },
    });
    const state = async (): Promise<Record<string, number>> => {
      const text = new PrometheusSerializer().serialize((await telemetry.prometheus.collect()).resourceMetrics);
      return Object.fromEntries(
        ['joining', 'connected', 'stopped'].map((each) => [each, prometheusValue(text, 'messaging_consumer_state', { consumer: groupId, state: each })]),
      );
    };
    await consumer.start();
    await waitFor(
      () => consumer.state,
      (state) => state === 'connected',
      { what: 'the consumer connected', timeoutMs: 30_000 },
    );
    expect(await state()).toEqual({ joining: 0, connected: 1, stopped: 0 });
    await consumer.stop();
    expect(await state()).toEqual({ joining: 0, connected: 0, stopped: 1 });
    const changes = written.map((line) => JSON.parse(line) as { consumer?: string; state?: string; previous?: string | null }).filter((line) => line.state);
    expect(changes.map((line) => [line.consumer, line.previous, line.state])).toEqual([
      [groupId, null, 'joining'],
      [groupId, 'joining', 'connected'],
      [groupId, 'connected', 'stopped'],
    ]);
  }, 60_000);

  it('runs the handler in the publisher’s trace (W3C traceparent in the Kafka headers)', async () => {
    const topic = await freshTopic();
    let handlerTraceId: string | undefined;
    const consumer = new InboxConsumer({
      groupId: uniqueName('it-trace'),
      topics: [topic],
      kafka,
      dataSource: db.dataSource,
      publisher,
      logger,
      handlers: {
        [NoteV1.type]: async () => {
          handlerTraceId = trace.getActiveSpan()?.spanContext().traceId;
        },
      },
    });
    const span = tracer('test').startSpan('publish a note');
    const publishedTraceId = span.spanContext().traceId;
    await context.with(trace.setSpan(context.active(), span), () =>
      publisher.publish([{ topic, envelope: createEvent({ definition: NoteV1, source: 'wallet', subject: 'n', sequence: 1, data: { text: 'traced' } }) }]),
    );
    span.end();
    await consumer.start();
    try {
      await waitFor(
        () => handlerTraceId,
        (traceId) => traceId !== undefined,
        { what: 'the handler run', timeoutMs: 30_000 },
      );
      expect(handlerTraceId).toBe(publishedTraceId);
      const consumerSpan = spans.getFinishedSpans().find((s) => s.name === `${topic} process`);
      expect(consumerSpan?.spanContext().traceId).toBe(publishedTraceId);
    } finally {
      await consumer.stop();
    }
  });
});
