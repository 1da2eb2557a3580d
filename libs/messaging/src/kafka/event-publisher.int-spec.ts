import { connect as connectSocket } from 'node:net';
import type { Socket } from 'node:net';
import { createTestTopics, deleteTestTopics, isTrue, testKafka, testKafkaBrokers, testKafkaSasl, uniqueName, waitFor } from '@pay/testing';
import type { ISocketFactory } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import { EventPublisher } from './event-publisher';

const topic = uniqueName('it.publisher').replace(/_/g, '-');

/**
 * The network between the publisher and the real broker: `loseNextProduceAnswer` lets the next
 * produce request reach the broker (which writes it) and cuts the connection before its answer
 * arrives, then refuses new connections until `restore`: what a broker killed at the wrong moment
 * does to a producer.
 */
class Link {
  private armed = false;
  private forging = false;
  /** The last produce answer the broker sent (size-prefixed, as on the wire). */
  private lastProduceAnswer?: Buffer;
  down = false;
  producesAnswered = 0;
  producesForged = 0;

  loseNextProduceAnswer(): void {
    this.armed = true;
  }

  /**
   * The next produce request never reaches the broker; the client gets the broker's previous
   * produce answer in its place (its correlation id rewritten): a send acknowledged without being
   * written, as a broker answers a batch it takes for a duplicate (the first batch's offset).
   */
  answerNextProduceWithThePreviousAnswer(): void {
    this.forging = true;
  }

  restore(): void {
    this.down = false;
  }

  readonly socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    // A port nothing listens on: the connection is refused, as by a broker that is down.
    if (this.down) return connectSocket({ host: '127.0.0.1', port: 1 }, onConnect);
    const socket = connectSocket({ host, port }, onConnect);
    let producing = false;
    const write = socket.write.bind(socket) as (chunk: Buffer, ...rest: unknown[]) => boolean;
    socket.write = (chunk: Buffer, ...rest: unknown[]) => {
      // A request: int32 size, int16 api key (0: Produce), int16 version, int32 correlation id, ...
      const produce = Buffer.isBuffer(chunk) && chunk.length > 12 && chunk.readInt16BE(4) === 0;
      if (produce && this.forging && this.lastProduceAnswer) {
        this.forging = false;
        this.producesForged += 1;
        const answer = Buffer.from(this.lastProduceAnswer);
        answer.writeInt32BE(chunk.readInt32BE(8), 4); // an answer: int32 size, int32 correlation id, ...
        setImmediate(() => emit('data', answer));
        const done = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
        done?.();
        return true;
      }
      if (produce) producing = true;
      return write(chunk, ...rest);
    };
    const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
    socket.emit = ((event: string | symbol, ...args: unknown[]) => {
      if (event === 'data' && producing) {
        producing = false;
        const answer = args[0] as Buffer;
        // One answer per chunk here (small ones): what the forged answer replays.
        if (Buffer.isBuffer(answer) && answer.length >= 8 && answer.readInt32BE(0) === answer.length - 4) this.lastProduceAnswer = Buffer.from(answer);
        if (this.armed) {
          // The broker answered: it wrote the batch. The answer is lost with the connection.
          this.armed = false;
          this.down = true;
          socket.destroy(new Error('connection lost before the produce answer'));
          return true;
        }
        this.producesAnswered += 1;
      }
      return emit(event, ...args);
    }) as Socket['emit'];
    return socket;
  };
}

describe('EventPublisher against a real broker', () => {
  const link = new Link();
  // Few reconnection retries, as the services' client has (kafka-client.ts): kafkajs gives the batch up.
  const kafka = new Kafka({
    clientId: uniqueName('it-publisher'),
    brokers: testKafkaBrokers(),
    logLevel: logLevel.NOTHING,
    socketFactory: link.socketFactory,
    ...testKafkaSasl(),
    retry: { retries: 2, initialRetryTime: 50, maxRetryTime: 200 },
  });
  const publisher = new EventPublisher(kafka);
  const received: string[] = [];
  const reader = testKafka().consumer({ groupId: uniqueName('it-publisher-reader'), maxWaitTimeInMs: 100 });

  beforeAll(async () => {
    await createTestTopics([topic], 1);
    await reader.connect();
    await reader.subscribe({ topic, fromBeginning: true });
    await reader.run({ eachMessage: async ({ message }) => void received.push(message.value?.toString() ?? '') });
  });

  afterAll(async () => {
    await reader.disconnect();
    await publisher.disconnect();
    await deleteTestTopics([topic]);
  });

  const batch = (...values: string[]) => [{ topic, messages: values.map((value) => ({ key: 'k', value })) }];

  it('fails a send acknowledged with an offset it was already given (written nowhere), and writes it with its next producer', async () => {
    received.length = 0;
    await publisher.sendRaw(batch('f'));
    link.answerNextProduceWithThePreviousAnswer();
    // kafkajs resolves this send: its answer names the partition, without error, at f's offset.
    await expect(publisher.sendRaw(batch('g'))).rejects.toThrow(/acknowledged at offset \d+, not past \d+ acknowledged before/);
    expect(link.producesForged).toBe(1);
    // What an outbox relay does next: the same rows again (its checkpoint did not move).
    await publisher.sendRaw(batch('g'));
    await publisher.sendRaw(batch('h'));
    await waitFor(() => received.includes('h'), isTrue, { what: 'the last message read back', timeoutMs: 30_000, intervalMs: 50 });
    expect(received).toEqual(['f', 'g', 'h']);
  });

  it('after a batch given up whose write the broker kept, sends the next batch again instead of being refused as out of order for good', async () => {
    received.length = 0;
    await publisher.sendRaw(batch('a'));
    link.loseNextProduceAnswer();
    // The broker writes b and c; the answer is lost and no reconnection succeeds: kafkajs gives up.
    await expect(publisher.sendRaw(batch('b', 'c'))).rejects.toThrow();
    link.restore();
    // What an outbox relay does next: the rows from its checkpoint again, and a newer one.
    await publisher.sendRaw(batch('b', 'c', 'd'));
    await publisher.sendRaw(batch('e'));
    await waitFor(() => received.includes('e'), isTrue, { what: 'the last message read back', timeoutMs: 30_000, intervalMs: 50 });
    // At least once: b and c twice (the broker kept the first write), then everything after them once, in order.
    expect(received).toEqual(['a', 'b', 'c', 'b', 'c', 'd', 'e']);
  });
});
