import { Writable } from 'node:stream';
import { Partitioners } from 'kafkajs';
import { createLogger } from '@pay/observability';
import { createKafka } from './kafka-client';
import { EventPublisher } from './event-publisher';

describe('EventPublisher', () => {
  it('builds its idempotent producer without the warning of limited retries (kafkajs warns as it creates it)', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    // The services' client: retries are limited at the client level, which the producer would inherit.
    const kafka = createKafka({ clientId: 'publisher-spec', brokers: ['127.0.0.1:1'], logger: createLogger('publisher-spec', 'warn', sink) });
    kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner }); // the marker: an inherited limit warns
    expect(lines.join('')).toContain('Limiting retries for the idempotent producer');

    lines.length = 0;
    new EventPublisher(kafka);
    expect(lines.join('')).not.toContain('Limiting retries');
  });

  it('names its partitioner, so kafkajs does not warn that its default changed', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const kafka = createKafka({ clientId: 'publisher-spec', brokers: ['127.0.0.1:1'], logger: createLogger('publisher-spec', 'warn', sink) });
    new EventPublisher(kafka);
    expect(lines.join('')).not.toContain('switched default partitioner');
    kafka.producer(); // the marker: a producer without one warns (once per process)
    expect(lines.join('')).toContain('switched default partitioner');
  });
});
