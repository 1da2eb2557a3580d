import type { EventEnvelope } from '@pay/contracts';
import { outgoingEventsAreValidated, parseEvent, serializeEvent } from '@pay/contracts';
import { traceHeaders } from '@pay/observability';
import type { Kafka, Message, Producer } from 'kafkajs';
import { CompressionTypes, Partitioners } from 'kafkajs';

export interface OutgoingEvent {
  topic: string;
  envelope: EventEnvelope;
  headers?: Record<string, string>;
}

/**
 * Publishes envelopes with an idempotent producer (acks from all in-sync replicas, no
 * duplicates on retry, retried until the brokers take them), keyed by subject so one
 * aggregate's events stay ordered. Envelopes are validated on the way out under tests only
 * (they are built from typed code; see outgoingEventsAreValidated).
 */
export class EventPublisher {
  private readonly producer: Producer;
  private connected = false;

  constructor(kafka: Kafka, transactionalId?: string) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      transactionalId,
      // kafkajs 2's default (murmur2, as Java clients key); named, kafkajs does not warn that it changed.
      createPartitioner: Partitioners.DefaultPartitioner,
      // kafkajs advances an idempotent producer's sequence numbers only when a send succeeds: a
      // send given up after N retries leaves them behind, and the next messages reuse them (the
      // broker may then take them for duplicates of a write it did keep). So the producer never
      // gives up on a batch (kafkajs warns otherwise: "Limiting retries..."); waits are capped.
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.producer.connect();
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.producer.disconnect();
  }

  async publish(events: readonly OutgoingEvent[]): Promise<void> {
    if (events.length === 0) return;
    const byTopic = new Map<string, Message[]>();
    for (const event of events) {
      // Built by typed code in this process (createEvent): checked under tests only.
      if (outgoingEventsAreValidated()) parseEvent(JSON.parse(serializeEvent(event.envelope)));
      const messages = byTopic.get(event.topic) ?? [];
      messages.push({
        key: event.envelope.subject,
        value: serializeEvent(event.envelope),
        headers: { ...traceHeaders(), ...event.headers, 'event-type': event.envelope.type, 'event-id': event.envelope.id },
      });
      byTopic.set(event.topic, messages);
    }
    await this.sendRaw([...byTopic].map(([topic, messages]) => ({ topic, messages })));
  }

  /** Sends prepared messages as they are (dead letters, outbox rows already validated when written). */
  async sendRaw(topicMessages: { topic: string; messages: Message[] }[]): Promise<void> {
    await this.connect();
    await this.producer.sendBatch({ acks: -1, compression: CompressionTypes.None, topicMessages });
  }
}
