import type { TestIssuer } from '@pay/auth/testing';
import { createTestIssuer } from '@pay/auth/testing';
import type { EventEnvelope } from '@pay/contracts';
import { deadLetterTopicOf } from '@pay/contracts';
import type { RunningService } from '@pay/platform';
import { createService } from '@pay/platform';
import { createTestTopics, deleteTestTopics, dropSchema, grantTestAccess, testDatabaseUrl, testKafka, testKafkaEnv, uniqueName, waitFor } from '@pay/testing';
import type { HistoryProjectionConfig } from '../src/config';
import { historyProjectionService } from '../src/history-projection.service';

export interface Response<T = Record<string, unknown>> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export class Caller {
  constructor(
    private readonly baseUrl: string,
    readonly token?: string,
  ) {}

  async get<T = Record<string, unknown>>(path: string): Promise<Response<T>> {
    const response = await fetch(`${this.baseUrl}${path}`, { headers: this.token ? { authorization: `Bearer ${this.token}` } : {} });
    const text = await response.text();
    let body: unknown = {};
    if (response.headers.get('content-type')?.includes('json')) body = JSON.parse(text);
    return { status: response.status, body: body as T, text, headers: response.headers };
  }
}

export interface HistoryTopics {
  payments: string;
  ledger: string;
  wallet: string;
}

export interface HistoryUnderTest {
  service: RunningService<HistoryProjectionConfig>;
  url: string;
  schema: string;
  topics: HistoryTopics;
  idp: TestIssuer;
  /** A caller with a token of this subject and role, and further claims (`merchants`, `scope`, `org`). */
  as(subject: string, role: string, claims?: Record<string, unknown>): Promise<Caller>;
  anonymous(): Caller;
  stop(): Promise<void>;
}

export function topicFor(topics: HistoryTopics, event: EventEnvelope): string {
  if (event.type.startsWith('payments.')) return topics.payments;
  if (event.type.startsWith('ledger.')) return topics.ledger;
  return topics.wallet;
}

/** Fresh topics (and their dead-letter topics) for one service under test. */
export async function createHistoryTopics(partitions = 3): Promise<HistoryTopics> {
  const name = (what: string): string => uniqueName(`it.history.${what}`).replace(/_/g, '-');
  const topics = { payments: name('payments'), ledger: name('ledger'), wallet: name('wallet') };
  await createTestTopics(Object.values(topics), partitions);
  await createTestTopics(Object.values(topics).map(deadLetterTopicOf), 1);
  // Under ACLs (TEST_KAFKA_SASL=1) history's principal reads them as it reads the real ones.
  await grantTestAccess([{ user: 'history-projection', description: 'this test’s topics', reads: Object.values(topics), writes: [], groupPrefixes: [] }]);
  return topics;
}

export async function deleteHistoryTopics(topics: HistoryTopics): Promise<void> {
  const names = [topics.payments, topics.ledger, topics.wallet];
  await deleteTestTopics([...names, ...names.map(deadLetterTopicOf)]);
}

/** Starts the whole history service in-process on its own schema and topics, with a test identity provider. */
export async function startHistory(options: { env?: Record<string, string>; topics?: HistoryTopics; idp?: TestIssuer } = {}): Promise<HistoryUnderTest> {
  const idp = options.idp ?? (await createTestIssuer());
  const topics = options.topics ?? (await createHistoryTopics());
  const schema = uniqueName('it_history');
  const service = await createService<HistoryProjectionConfig>(historyProjectionService, {
    NODE_ENV: 'test',
    DATABASE_URL: testDatabaseUrl(),
    ...testKafkaEnv('history-projection'),
    DB_SCHEMA: schema,
    PORT: '0',
    LOG_LEVEL: 'silent',
    OUTBOX_RELAY_NAME: 'it',
    AUTH_JWKS: JSON.stringify(idp.jwks),
    AUTH_ISSUER: idp.issuer,
    AUTH_AUDIENCE: idp.audience,
    HISTORY_CONSUMER_GROUP: uniqueName('history-projection.it'),
    HISTORY_PAYMENTS_TOPIC: topics.payments,
    HISTORY_LEDGER_TOPIC: topics.ledger,
    HISTORY_WALLET_TOPIC: topics.wallet,
    HISTORY_LAG_INTERVAL_MS: '500',
    ...options.env,
  });
  return {
    service,
    url: service.url,
    schema,
    topics,
    idp,
    as: async (subject, role, claims = {}) => new Caller(service.url, await idp.signTestToken({ ...claims, sub: subject, role })),
    anonymous: () => new Caller(service.url),
    stop: async () => {
      await service.app.close();
      await dropSchema(testDatabaseUrl(), schema);
    },
  };
}

/** Publishes envelopes as the producers would (key = subject), or with the given key. */
export async function publish(
  topics: HistoryTopics,
  events: readonly EventEnvelope[],
  keyOf: (event: EventEnvelope) => string = (e) => e.subject,
): Promise<void> {
  const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < events.length; i += 500) {
      const byTopic = new Map<string, Array<{ key: string; value: string }>>();
      for (const event of events.slice(i, i + 500)) {
        const topic = topicFor(topics, event);
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), { key: keyOf(event), value: JSON.stringify(event) }]);
      }
      await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Waits until the service has stored `count` distinct events and Kafka says nothing is left to apply. */
export async function waitUntilApplied(history: HistoryUnderTest, count: number, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    async () => {
      const [row] = await history.service.runtime.dataSource.query<Array<{ n: string }>>('SELECT count(*)::text AS n FROM raw_events');
      return Number(row.n);
    },
    (n) => n >= count,
    { what: `${count} events applied`, timeoutMs },
  );
}
