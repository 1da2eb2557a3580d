import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { TestIssuer } from '@pay/auth/testing';
import { createTestIssuer } from '@pay/auth/testing';
import type { EventEnvelope } from '@pay/contracts';
import { deadLetterTopicOf } from '@pay/contracts';
import type { RunningService } from '@pay/platform';
import { createService } from '@pay/platform';
import { createTestTopics, deleteTestTopics, dropSchema, grantTestAccess, testDatabaseUrl, testKafka, testKafkaEnv, uniqueName, waitFor } from '@pay/testing';
import type { Socket } from 'socket.io-client';
import { io } from 'socket.io-client';
import type { MessageView, ReceiptView } from '@pay/contracts';
import type { SupportConfig } from '../src/config';
import { supportService } from '../src/support.service';

export interface SupportTopics {
  payments: string;
  ledger: string;
  wallet: string;
  support: string;
}

export interface HttpAnswer<T> {
  status: number;
  body: T;
}

/** HTTP as one caller (a signed token), against one instance. */
export class SupportCaller {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  async request<T = Record<string, unknown>>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer<T>> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
  }

  get<T = Record<string, unknown>>(path: string): Promise<HttpAnswer<T>> {
    return this.request<T>('GET', path);
  }

  post<T = Record<string, unknown>>(path: string, body: unknown = {}, headers?: Record<string, string>): Promise<HttpAnswer<T>> {
    return this.request<T>('POST', path, body, headers);
  }
}

/** One chat client (socket.io) with everything it received, in arrival order. */
export class ChatClient {
  readonly messages: MessageView[] = [];
  readonly receipts: ReceiptView[] = [];
  readonly updates: Array<{ id: string; status: string; agentId: string | null }> = [];
  readonly assigned: Array<{ id: string }> = [];
  socket?: Socket;

  constructor(
    private readonly url: string,
    private readonly token: string,
    /** Confirm each message as delivered, as a real client does. */
    private readonly confirmDelivery = true,
  ) {}

  async connect(url = this.url): Promise<void> {
    const socket = io(`${url}/support`, { auth: { token: this.token }, transports: ['websocket'], reconnection: false, forceNew: true });
    socket.on('message', (message: MessageView) => {
      this.messages.push(message);
      if (this.confirmDelivery) socket.emit('message.receipt', { conversationId: message.conversationId, kind: 'delivered', seq: message.seq });
    });
    socket.on('receipt', (receipt: ReceiptView) => this.receipts.push(receipt));
    socket.on('conversation.updated', (view: { id: string; status: string; agentId: string | null }) => this.updates.push(view));
    socket.on('conversation.assigned', (view: { id: string }) => this.assigned.push(view));
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (error) => reject(error));
    });
  }

  async join(conversationId: string, afterSeq?: number): Promise<Record<string, unknown>> {
    return (await this.socket!.emitWithAck('conversation.join', { conversationId, ...(afterSeq === undefined ? {} : { afterSeq }) })) as Record<
      string,
      unknown
    >;
  }

  async send(
    conversationId: string,
    text: string,
    clientMessageId = crypto.randomUUID(),
  ): Promise<{ ok: boolean; code?: string; message?: MessageView | string }> {
    return (await this.socket!.emitWithAck('message.send', { conversationId, clientMessageId, text })) as { ok: boolean; code?: string; message?: MessageView };
  }

  async receipt(conversationId: string, kind: 'delivered' | 'read', seq: number): Promise<void> {
    await this.socket!.emitWithAck('message.receipt', { conversationId, kind, seq });
  }

  disconnect(): void {
    this.socket?.disconnect();
    this.socket = undefined;
  }
}

export interface SupportInstance {
  service: RunningService<SupportConfig>;
  url: string;
  logs: string[];
}

export interface SupportUnderTest {
  instances: SupportInstance[];
  schema: string;
  topics: SupportTopics;
  idp: TestIssuer;
  rolloutPath: string;
  writeRollout(countries: Array<{ country: string; apps: string[] }>): Promise<void>;
  caller(instance: number, subject: string, role: string): Promise<SupportCaller>;
  chat(instance: number, subject: string, role: string, confirmDelivery?: boolean): Promise<ChatClient>;
  publish(events: readonly EventEnvelope[]): Promise<void>;
  stop(): Promise<void>;
}

export async function createSupportTopics(): Promise<SupportTopics> {
  const name = (what: string): string => uniqueName(`it.support.${what}`).replace(/_/g, '-');
  const topics = { payments: name('payments'), ledger: name('ledger'), wallet: name('wallet'), support: name('events') };
  await createTestTopics(Object.values(topics), 3);
  await createTestTopics([topics.payments, topics.ledger, topics.wallet].map(deadLetterTopicOf), 1);
  // Under ACLs (TEST_KAFKA_SASL=1) support's principal gets them as it gets the real ones.
  await grantTestAccess([
    { user: 'support', description: 'this test’s topics', reads: [topics.payments, topics.ledger, topics.wallet], writes: [topics.support], groupPrefixes: [] },
  ]);
  return topics;
}

/**
 * Several instances of the support service in-process, on one schema (as replicas share one
 * database), one consumer group and their own topics, with a test identity provider and a rollout
 * file of their own. Each instance's log lines are kept, to be searched.
 */
export async function startSupport(
  options: { instances?: number; env?: Record<string, string>; rollout?: Array<{ country: string; apps: string[] }> } = {},
): Promise<SupportUnderTest> {
  const idp = await createTestIssuer();
  const topics = await createSupportTopics();
  const schema = uniqueName('it_support');
  const dir = await mkdtemp(join(tmpdir(), 'support-rollout-'));
  const rolloutPath = join(dir, 'support-rollout.json');
  const writeRollout = (countries: Array<{ country: string; apps: string[] }>): Promise<void> => writeFile(rolloutPath, JSON.stringify({ countries }));
  await writeRollout(options.rollout ?? [{ country: 'US', apps: ['facebook', 'messenger'] }]);
  const group = uniqueName('support.it');
  const instances: SupportInstance[] = [];
  for (let i = 0; i < (options.instances ?? 2); i += 1) {
    const logs: string[] = [];
    const destination = new Writable({ write: (chunk: Buffer, _encoding, done) => void (logs.push(chunk.toString()), done()) });
    const service = await createService<SupportConfig>(
      supportService,
      {
        NODE_ENV: 'test',
        DATABASE_URL: testDatabaseUrl(),
        ...testKafkaEnv('support'),
        DB_SCHEMA: schema,
        PORT: '0',
        LOG_LEVEL: 'info',
        OUTBOX_RELAY_NAME: 'it',
        AUTH_JWKS: JSON.stringify(idp.jwks),
        AUTH_ISSUER: idp.issuer,
        AUTH_AUDIENCE: idp.audience,
        SUPPORT_ROLLOUT_CONFIG_PATH: rolloutPath,
        SUPPORT_CONSUMER_GROUP: group,
        SUPPORT_PAYMENTS_TOPIC: topics.payments,
        SUPPORT_LEDGER_TOPIC: topics.ledger,
        SUPPORT_WALLET_TOPIC: topics.wallet,
        SUPPORT_EVENTS_TOPIC: topics.support,
        ...options.env,
      },
      { logDestination: destination },
    );
    instances.push({ service, url: service.url, logs });
  }
  const clients: ChatClient[] = [];
  return {
    instances,
    schema,
    topics,
    idp,
    rolloutPath,
    writeRollout,
    caller: async (instance, subject, role) => new SupportCaller(instances[instance].url, await idp.signTestToken({ sub: subject, role })),
    chat: async (instance, subject, role, confirmDelivery) => {
      const client = new ChatClient(instances[instance].url, await idp.signTestToken({ sub: subject, role }), confirmDelivery);
      clients.push(client);
      await client.connect();
      return client;
    },
    publish: async (events) => {
      const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      try {
        const topicOf = (event: EventEnvelope): string =>
          event.type.startsWith('payments.') ? topics.payments : event.type.startsWith('ledger.') ? topics.ledger : topics.wallet;
        for (const event of events) await producer.send({ acks: -1, topic: topicOf(event), messages: [{ key: event.subject, value: JSON.stringify(event) }] });
      } finally {
        await producer.disconnect();
      }
    },
    stop: async () => {
      for (const client of clients) client.disconnect();
      for (const instance of instances) await instance.service.app.close();
      await dropSchema(testDatabaseUrl(), schema);
      const consumed: string[] = [topics.payments, topics.ledger, topics.wallet];
      await deleteTestTopics([...consumed, topics.support, ...consumed.map((topic) => deadLetterTopicOf(topic))]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until a client has received `count` messages of a conversation. */
export async function receivedAll(client: ChatClient, conversationId: string, count: number, what = `${count} messages`): Promise<MessageView[]> {
  return waitFor(
    () => client.messages.filter((m) => m.conversationId === conversationId),
    (messages) => messages.length >= count,
    { what, timeoutMs: 15_000, intervalMs: 20 },
  );
}
