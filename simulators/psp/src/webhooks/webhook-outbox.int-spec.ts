import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookOutbox } from './webhook-outbox';

/** A receiver that holds every request until told to answer, and counts how many it holds. */
async function holdingReceiver(): Promise<{ url: string; held: () => number; peak: () => number; answerAll: () => void; close: () => Promise<void> }> {
  const waiting: Array<ServerResponse<IncomingMessage>> = [];
  let peak = 0;
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      waiting.push(response);
      peak = Math.max(peak, waiting.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    held: () => waiting.length,
    peak: () => peak,
    answerAll: () => waiting.splice(0).forEach((response) => response.writeHead(200).end('{}')),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe('WebhookOutbox concurrency', () => {
  it('has up to `concurrency` deliveries in flight at once, and every event is delivered', async () => {
    const receiver = await holdingReceiver();
    const outbox = new WebhookOutbox({ url: receiver.url, secret: 'whsec_test', retries: 0, retryDelayMs: 0, concurrency: 3 });
    for (let i = 0; i < 7; i += 1) outbox.emit('payment_intent.created', { id: `pi_${i}` }, '2024-06-20', { id: null, idempotency_key: null });
    await until(() => receiver.held() === 3);
    // Three held, none of the four others sent: the lanes wait for their answers.
    expect(receiver.peak()).toBe(3);
    const drained = outbox.idle();
    while (outbox.deliveries.length < 7) {
      await until(() => receiver.held() > 0);
      receiver.answerAll();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await drained;
    expect(receiver.peak()).toBe(3);
    expect(new Set(outbox.deliveries.map((delivery) => delivery.eventId)).size).toBe(7);
    expect(outbox.deliveries.every((delivery) => delivery.status === 200)).toBe(true);
    await receiver.close();
  });

  it('sends one at a time, in the order of events, by default', async () => {
    const receiver = await holdingReceiver();
    const outbox = new WebhookOutbox({ url: receiver.url, secret: 'whsec_test', retries: 0, retryDelayMs: 0 });
    for (let i = 0; i < 3; i += 1) outbox.emit('payment_intent.created', { id: `pi_${i}` }, '2024-06-20', { id: null, idempotency_key: null });
    const drained = outbox.idle();
    while (outbox.deliveries.length < 3) {
      await until(() => receiver.held() > 0);
      receiver.answerAll();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await drained;
    expect(receiver.peak()).toBe(1);
    expect(outbox.deliveries.map((delivery) => delivery.eventId)).toEqual(outbox.events.map((event) => event.id));
    await receiver.close();
  });

  it('refuses a concurrency that is not a whole number of at least 1', () => {
    expect(() => new WebhookOutbox({ url: undefined, secret: 'whsec_test', retries: 0, retryDelayMs: 0, concurrency: 0 })).toThrow(RangeError);
  });
});

describe('WebhookOutbox subscription (enabled events)', () => {
  const request = { id: null, idempotency_key: null };

  it('sends only the event types the endpoint is subscribed to, and records every event', async () => {
    const receiver = await holdingReceiver();
    const outbox = new WebhookOutbox({
      url: receiver.url,
      secret: 'whsec_test',
      retries: 0,
      retryDelayMs: 0,
      enabledEvents: ['payment_intent.succeeded', 'refund.updated'],
    });
    outbox.emit('payment_intent.created', { id: 'pi_1' }, '2024-06-20', request);
    outbox.emit('payment_intent.succeeded', { id: 'pi_1' }, '2024-06-20', request);
    outbox.emit('customer.created', { id: 'cus_1' }, '2024-06-20', request);
    outbox.emit('refund.updated', { id: 're_1' }, '2024-06-20', request);
    const drained = outbox.idle();
    while (outbox.deliveries.length < 2) {
      await until(() => receiver.held() > 0);
      receiver.answerAll();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await drained;
    expect(outbox.deliveries.map((delivery) => delivery.type)).toEqual(['payment_intent.succeeded', 'refund.updated']);
    expect(outbox.events.map((event) => event.type)).toEqual(['payment_intent.created', 'payment_intent.succeeded', 'customer.created', 'refund.updated']);
    await receiver.close();
  });

  it('holds only subscribed events, and `*` subscribes to every type', () => {
    const some = new WebhookOutbox({ url: undefined, secret: 'whsec_test', retries: 0, retryDelayMs: 0, enabledEvents: ['payment_intent.succeeded'] });
    const every = new WebhookOutbox({ url: undefined, secret: 'whsec_test', retries: 0, retryDelayMs: 0, enabledEvents: ['*'] });
    for (const outbox of [some, every]) {
      outbox.setPolicy({ mode: 'hold' });
      outbox.emit('payment_intent.created', { id: 'pi_1' }, '2024-06-20', request);
      outbox.emit('payment_intent.succeeded', { id: 'pi_1' }, '2024-06-20', request);
    }
    expect(some.heldEvents().map((event) => event.type)).toEqual(['payment_intent.succeeded']);
    expect(every.heldEvents().map((event) => event.type)).toEqual(['payment_intent.created', 'payment_intent.succeeded']);
  });

  it('resends only an event of a subscribed type, and lists the subscribed events apart', async () => {
    const outbox = new WebhookOutbox({ url: undefined, secret: 'whsec_test', retries: 0, retryDelayMs: 0, enabledEvents: ['payment_intent.succeeded'] });
    const created = outbox.emit('payment_intent.created', { id: 'pi_1' }, '2024-06-20', request);
    const succeeded = outbox.emit('payment_intent.succeeded', { id: 'pi_1' }, '2024-06-20', request);
    await expect(outbox.resend(created.id)).rejects.toThrow('not subscribed to payment_intent.created');
    await expect(outbox.resend(succeeded.id)).resolves.toBeUndefined();
    expect(outbox.subscribedEvents().map((event) => event.id)).toEqual([succeeded.id]);
  });
});
