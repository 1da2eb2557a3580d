import { randomUUID } from 'node:crypto';
import type { TestIssuer } from '@pay/auth/testing';
import type { EventDefinition, EventEnvelope } from '@pay/contracts';
import {
  ConsentChangedV1,
  createEvent,
  deadLetterTopicOf,
  PaymentCapturedV1,
  PaymentInitiatedV1,
  PaymentMethodAddedV1,
  PaymentRefundedV1,
  serializeEvent,
} from '@pay/contracts';
import type { ConsumerStats } from '@pay/messaging';
import { EventPublisher } from '@pay/messaging';
import type { RunningService } from '@pay/platform';
import { createService } from '@pay/platform';
import { createTestTopics, deleteTestTopics, dropSchema, grantTestAccess, testDatabaseUrl, testKafka, testKafkaEnv, uniqueName, waitFor } from '@pay/testing';
import type { Consumer, IHeaders } from 'kafkajs';
import { adSignalAggregationService } from '../src/ad-signal-aggregation.service';
import { PAYMENT_USAGE } from '../src/ad-signals.consumers';
import { WindowCloser } from '../src/close-windows/window-closer';
import type { AdSignalAggregationConfig } from '../src/config';

export const PSEUDONYM_KEY = 'integration-test-pseudonym-key-0123456789';
export const NOISE_KEY = 'integration-test-fixed-noise-seed-0123456789';

export interface InputTopics {
  payments: string;
  wallet: string;
}

export async function createInputTopics(): Promise<InputTopics & { all: string[] }> {
  const name = (prefix: string): string => uniqueName(prefix).replace(/_/g, '-');
  const payments = name('it.ads.payments');
  const wallet = name('it.ads.wallet');
  const all = [payments, deadLetterTopicOf(payments), wallet, deadLetterTopicOf(wallet)];
  await createTestTopics(all, 3);
  return { payments, wallet, all };
}

export interface KafkaRecord {
  key: string;
  value: string;
  headers: Record<string, string>;
}

function headersOf(headers: IHeaders | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([key, value]) => [key, Buffer.isBuffer(value) ? value.toString() : String(value)]));
}

/** Reads a topic from its beginning into memory. */
export async function watchTopic(topic: string): Promise<{ records: KafkaRecord[]; stop(): Promise<void> }> {
  const records: KafkaRecord[] = [];
  const consumer: Consumer = testKafka().consumer({ groupId: uniqueName('it-ads-watch'), maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      records.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '', headers: headersOf(message.headers) });
    },
  });
  return { records, stop: () => consumer.disconnect() };
}

export interface AggregationUnderTest {
  service: RunningService<AdSignalAggregationConfig>;
  schema: string;
  aggregatesTopic: string;
  closer: WindowCloser;
  consumer: { readonly stats: ConsumerStats };
  output: { records: KafkaRecord[]; stop(): Promise<void> };
  /** Waits until `count` input messages were handled (applied, duplicate, ignored or dead-lettered). */
  waitForInput(count: number): Promise<void>;
  /** Waits until every published cell reached the output topic. */
  waitForOutput(): Promise<KafkaRecord[]>;
  query<T = Record<string, unknown>>(path: string, token?: string): Promise<{ status: number; body: T }>;
  sql<T = Record<string, unknown>>(text: string, parameters?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

/** Starts the whole service in-process on its own schema and output topic, reading the given input topics. */
export async function startAggregation(inputs: InputTopics, idp: TestIssuer, env: Record<string, string> = {}): Promise<AggregationUnderTest> {
  const schema = uniqueName('it_ads');
  const aggregatesTopic = uniqueName('it.ads.aggregates').replace(/_/g, '-');
  await createTestTopics([aggregatesTopic], 3);
  // Under ACLs (TEST_KAFKA_SASL=1) the service's principal gets these topics as the list gives it the real ones.
  await grantTestAccess([
    { user: 'ad-signal-aggregation', description: 'this test’s topics', reads: [inputs.payments, inputs.wallet], writes: [aggregatesTopic], groupPrefixes: [] },
  ]);
  const service = await createService<AdSignalAggregationConfig>(
    { ...adSignalAggregationService, schema },
    {
      NODE_ENV: 'test',
      DATABASE_URL: testDatabaseUrl(),
      ...testKafkaEnv('ad-signal-aggregation'),
      PORT: '0',
      LOG_LEVEL: 'silent',
      AUTH_JWKS: JSON.stringify(idp.jwks),
      AUTH_ISSUER: idp.issuer,
      AUTH_AUDIENCE: idp.audience,
      AD_SIGNALS_CONSUMER_GROUP: uniqueName('ad-signal-aggregation.it'),
      AD_SIGNALS_PAYMENT_EVENTS_TOPIC: inputs.payments,
      AD_SIGNALS_WALLET_EVENTS_TOPIC: inputs.wallet,
      AD_SIGNALS_AGGREGATES_TOPIC: aggregatesTopic,
      AD_SIGNALS_PSEUDONYM_KEY: PSEUDONYM_KEY,
      AD_SIGNALS_DP_NOISE_KEY: NOISE_KEY,
      AD_SIGNALS_K: '5',
      AD_SIGNALS_MAX_PURCHASES_PER_PERSON: '2',
      AD_SIGNALS_GRACE_SECONDS: '900',
      AD_SIGNALS_CLOSE_INTERVAL_MS: '0',
      ...env,
    },
  );
  const output = await watchTopic(aggregatesTopic);
  const consumer = {
    get stats(): ConsumerStats {
      return service.runtime.inbox.stats(PAYMENT_USAGE);
    },
  };
  const sql = <T>(text: string, parameters: unknown[] = []): Promise<T[]> => service.runtime.dataSource.query<T[]>(text, parameters);
  return {
    service,
    schema,
    aggregatesTopic,
    closer: service.app.get(WindowCloser),
    consumer,
    output,
    waitForInput: async (count) => {
      await waitFor(
        () => consumer.stats,
        (stats) => stats.applied + stats.duplicates + stats.ignored + stats.deadLettered >= count,
        { timeoutMs: 60_000 },
      );
    },
    waitForOutput: async () => {
      const [{ published }] = await sql<{ published: number }>(`SELECT count(*)::int AS published FROM window_cells WHERE status = 'published'`);
      return waitFor(
        () => output.records,
        (records) => records.length >= published,
        { timeoutMs: 30_000 },
      );
    },
    query: async <T>(path: string, token?: string) => {
      const response = await fetch(`${service.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
    },
    sql,
    stop: async () => {
      await output.stop();
      await service.app.close();
      await dropSchema(testDatabaseUrl(), schema);
      await deleteTestTopics([aggregatesTopic]);
    },
  };
}

/** Builds the input events the way the wallet and payment orchestration publish them. */
export class InputEvents {
  readonly payments: EventEnvelope[] = [];
  readonly wallet: EventEnvelope[] = [];
  private readonly walletSequence = new Map<string, number>();
  private readonly methods = new Map<string, string>();

  private walletEvent<T extends object>(definition: EventDefinition<T>, personId: string, at: string, data: T): EventEnvelope {
    const sequence = (this.walletSequence.get(personId) ?? 0) + 1;
    this.walletSequence.set(personId, sequence);
    const event = createEvent({ definition, source: 'wallet', subject: personId, sequence, occurredAt: new Date(at), data });
    this.wallet.push(event);
    return event;
  }

  /** A consent change: the person's own (`person`), or the wallet's opening state (`default`). */
  consent(personId: string, at: string, granted: boolean, source: 'person' | 'default' = 'person'): EventEnvelope {
    return this.walletEvent(ConsentChangedV1, personId, at, {
      personId,
      actor: source === 'person' ? `person:${personId}` : `service:shop-${personId}`,
      purpose: 'ad-measurement',
      granted,
      source,
      country: 'DE',
    });
  }

  /** The person's saved method of the given kind (added once). */
  method(personId: string, kind: 'card' | 'paypal', at: string): string {
    const key = `${personId}/${kind}`;
    const existing = this.methods.get(key);
    if (existing) return existing;
    const methodId = randomUUID();
    this.methods.set(key, methodId);
    this.walletEvent(PaymentMethodAddedV1, personId, at, {
      personId,
      actor: `person:${personId}`,
      methodId,
      kind,
      display: kind === 'card' ? { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030 } : {},
      preferred: this.methods.size === 1,
    });
    return methodId;
  }

  /** A purchase: initiated then captured one second later. Returns its payment id. */
  purchase(options: {
    personId: string;
    merchantId: string;
    at: string;
    app?: 'facebook' | 'instagram' | 'messenger' | 'whatsapp';
    amount?: string;
    method?: 'card' | 'paypal';
    country?: string;
  }): {
    paymentId: string;
    captured: EventEnvelope;
  } {
    const paymentId = `pay_${randomUUID()}`;
    const amount = { amount: options.amount ?? '2500', currency: 'EUR' };
    const counterparty = { type: 'merchant' as const, id: options.merchantId };
    const methodId = this.method(options.personId, options.method ?? 'card', '2026-02-01T00:00:00.000Z');
    const initiatedAt = new Date(Date.parse(options.at) - 1000);
    this.payments.push(
      createEvent({
        definition: PaymentInitiatedV1,
        source: 'payment-orchestration',
        subject: paymentId,
        sequence: 1,
        occurredAt: initiatedAt,
        data: {
          paymentId,
          requestId: randomUUID(),
          kind: 'purchase',
          payerId: options.personId,
          counterparty,
          app: options.app ?? 'instagram',
          country: options.country ?? 'DE',
          amount,
          captureMethod: 'automatic',
          paymentMethodId: methodId,
        },
      }),
    );
    const captured = createEvent({
      definition: PaymentCapturedV1,
      source: 'payment-orchestration',
      subject: paymentId,
      sequence: 2,
      occurredAt: new Date(options.at),
      data: {
        paymentId,
        kind: 'purchase',
        payerId: options.personId,
        counterparty,
        provider: 'stripe',
        reference: `pi_${paymentId.slice(4, 20)}`,
        amount,
        authorizedAmount: amount,
      },
    });
    this.payments.push(captured);
    return { paymentId, captured };
  }

  refund(captured: EventEnvelope, options: { at: string; amount: string; refundedTotal: string; full: boolean; sequence?: number }): EventEnvelope {
    const data = captured.data as { paymentId: string; payerId: string; counterparty: { type: 'merchant'; id: string }; amount: { currency: string } };
    const refund = createEvent({
      definition: PaymentRefundedV1,
      source: 'payment-orchestration',
      subject: data.paymentId,
      sequence: options.sequence ?? 3,
      occurredAt: new Date(options.at),
      data: {
        paymentId: data.paymentId,
        kind: 'purchase',
        payerId: data.payerId,
        counterparty: data.counterparty,
        provider: 'stripe',
        reference: `re_${randomUUID().slice(0, 8)}`,
        amount: { amount: options.amount, currency: data.amount.currency },
        refundId: `re_${randomUUID().slice(0, 12)}`,
        refundedTotal: { amount: options.refundedTotal, currency: data.amount.currency },
        full: options.full,
      },
    });
    this.payments.push(refund);
    return refund;
  }
}

/** Publishes envelopes (keyed by subject) and raw messages to the input topics. */
export class InputPublisher {
  private readonly publisher = new EventPublisher(testKafka());

  async publish(topic: string, events: readonly EventEnvelope[]): Promise<void> {
    for (let i = 0; i < events.length; i += 200) await this.publisher.publish(events.slice(i, i + 200).map((envelope) => ({ topic, envelope })));
  }

  /** Sends bytes as they are: for input no valid producer would publish. */
  async publishRaw(topic: string, key: string, value: unknown): Promise<void> {
    await this.publisher.sendRaw([{ topic, messages: [{ key, value: typeof value === 'string' ? value : JSON.stringify(value) }] }]);
  }

  async close(): Promise<void> {
    await this.publisher.disconnect();
  }
}

export { serializeEvent };
