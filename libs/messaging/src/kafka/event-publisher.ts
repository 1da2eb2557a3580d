import type { EventEnvelope } from '@pay/contracts';
import { outgoingEventsAreValidated, parseEvent, serializeEvent } from '@pay/contracts';
import { traceHeaders } from '@pay/observability';
import type { ICustomPartitioner, Kafka, Message, Producer } from 'kafkajs';
import { CompressionTypes, Partitioners } from 'kafkajs';
import { UnprovenSendError, unwrittenPartitions } from './acknowledgements';

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
  private producer: Producer;
  private connected = false;
  /** The partition kafkajs routed each message of a send to (the partitioner's choice, its last try). */
  private readonly routedTo = new WeakMap<Message, number>();
  /** The highest base offset acknowledged to this publisher per partition (see unwrittenPartitions). */
  private readonly acknowledged = new Map<string, bigint>();

  constructor(
    private readonly kafka: Kafka,
    private readonly transactionalId?: string,
  ) {
    this.producer = this.newProducer();
  }

  private newProducer(): Producer {
    const { kafka, transactionalId } = this;
    return kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      transactionalId,
      // kafkajs 2's default (murmur2, as Java clients key); named, kafkajs does not warn that it changed.
      // Each choice is noted, so that the answer can be checked against every partition written to.
      createPartitioner: this.notingPartitioner(),
      // kafkajs advances an idempotent producer's sequence numbers only when a send succeeds: a
      // send given up after N retries leaves them behind, and the next messages reuse them (the
      // broker may then take them for duplicates of a write it did keep). So the producer does not
      // limit its retries (kafkajs warns otherwise: "Limiting retries..."), waits are capped, and a
      // batch kafkajs gives up on all the same retires the producer (sendRaw).
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
  }

  private notingPartitioner(): ICustomPartitioner {
    const routedTo = this.routedTo;
    return () => {
      const choose = Partitioners.DefaultPartitioner();
      return (args) => {
        const partition = choose(args);
        routedTo.set(args.message, partition);
        return partition;
      };
    };
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

  /**
   * Sends prepared messages as they are (dead letters, outbox rows already validated when written).
   *
   * kafkajs still gives a batch up despite the unlimited retries: when the broker stays out of reach
   * past the client's own reconnection retries, or answers with an error it does not retry. It then
   * takes the batch's sequence numbers back, but the broker may have kept the write (its answer was
   * lost with the connection): the next send at those numbers with other messages is refused as
   * out of order, every time (OUT_OF_ORDER_SEQUENCE_NUMBER: the outbox relay stalled for good after a
   * broker outage, broker-outage.e2e-spec.ts), or one with as many messages is taken for a duplicate
   * and dropped. So a failed send retires its producer: the next send gets a new producer id, its
   * sequences from 0, and sends again what the broker may already hold (at least once; consumers
   * deduplicate by event id).
   *
   * A send kafkajs resolves is also checked against its answer before the caller may count it
   * written (an outbox relay then moves its checkpoint past it): every partition its messages went
   * to must be answered, without error, at an offset past every earlier answer for that partition
   * (a batch the broker takes for a duplicate is answered with the first one's offset and written
   * nowhere). Otherwise the send fails as `UnprovenSendError` and retires the producer as above: a
   * relay once moved past a batch Kafka never held (docs/operations.md, "An outbox event that never
   * reached Kafka"), and this turns that into a logged, republished batch.
   */
  async sendRaw(topicMessages: { topic: string; messages: Message[] }[]): Promise<void> {
    await this.connect();
    const producer = this.producer;
    try {
      const acks = await producer.sendBatch({ acks: -1, compression: CompressionTypes.None, topicMessages });
      const routed = topicMessages.flatMap(({ topic, messages }) => messages.map((message) => ({ topic, partition: this.routedTo.get(message) })));
      const problems = unwrittenPartitions(routed, acks, this.acknowledged);
      if (problems.length > 0) throw new UnprovenSendError(problems);
    } catch (error) {
      if (this.producer === producer) {
        this.producer = this.newProducer();
        this.connected = false;
        await producer.disconnect().catch(() => undefined);
      }
      throw error;
    }
  }
}
