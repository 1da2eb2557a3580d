/**
 * Helpers of the money-movement integration tests (post-payments-to-ledger,
 * handle-funds-commands): the whole wallet service in-process on its own schema, with consumer
 * groups of its own that start at the current end of their topics, so a test run sees only the
 * events it publishes (the topics are shared with every other test).
 */
import { FUNDS_COMMAND_ATTESTATION_HEADER, FundsCommandAttester } from '@pay/auth';
import { createTestIssuer, testKeyPair } from '@pay/auth/testing';
import type { EventEnvelope } from '@pay/contracts';
import { deadLetterTopicOf } from '@pay/contracts';
import type { OpenAccountInput } from '@pay/ledger-domain';
import type { PostgresLedger } from '@pay/ledger-store';
import { EventPublisher } from '@pay/messaging';
import type { RunningService } from '@pay/platform';
import { createService } from '@pay/platform';
import { dropSchema, testDatabaseUrl, testKafka, testKafkaEnv, uniqueName } from '@pay/testing';
import type { Consumer, IHeaders } from 'kafkajs';
import type { WalletConfig } from '../../config';
import { LEDGER } from '../../ledger';
import { walletService } from '../../wallet.service';
import { topups } from '../chart-of-accounts';

export interface MoneyWallet {
  service: RunningService<WalletConfig>;
  schema: string;
  paymentsGroup: string;
  fundsGroup: string;
  ledger: PostgresLedger;
  /** Runs SQL in the wallet's schema. */
  query<T = Record<string, unknown>>(sql: string, parameters?: unknown[]): Promise<T[]>;
  /**
   * Calls the wallet's HTTP API, by default as the ledger's callers: reads (GET) as an operator,
   * writes as a test service holding `ledger:write` (no production caller holds it). `token`
   * calls as someone else (signToken).
   */
  http<T = Record<string, any>>(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** A token of the test identity provider the wallet trusts. */
  signToken(claims: { sub: string; role: string; scope?: string }): Promise<string>;
  /** The headers payment-orchestration gives a funds command: its attestation, signed with a key the wallet's grants register for `funds:command`. */
  fundsCommandHeaders(command: EventEnvelope): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

/** Commits the group's offsets at the end of the topic: its consumer starts with what comes next. */
async function startGroupAtEnd(groupId: string, topic: string): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({ groupId, topic, partitions: offsets.map((o) => ({ partition: o.partition, offset: o.high })) });
  } finally {
    await admin.disconnect();
  }
}

export async function startMoneyWallet(prefix: string, env: Record<string, string> = {}): Promise<MoneyWallet> {
  const schema = uniqueName(`it_${prefix}`);
  // The wallet's groups keep its prefix: on a broker with ACLs (TEST_KAFKA_SASL=1) it may join only those.
  const paymentsGroup = uniqueName(`wallet.it-${prefix}.payments-ledger`);
  const fundsGroup = uniqueName(`wallet.it-${prefix}.funds-commands`);
  // Each takes a few seconds (kafkajs commits them through a consumer's first fetch): in parallel.
  await Promise.all([startGroupAtEnd(paymentsGroup, 'payments.events.v1'), startGroupAtEnd(fundsGroup, 'wallet.commands.v1')]);
  // Ledger reads are for operators; raw writes for a service holding ledger:write (docs/security.md).
  const idp = await createTestIssuer();
  const signToken = (claims: { sub: string; role: string; scope?: string }): Promise<string> => idp.signTestToken(claims, { expiresIn: 3_600 });
  const writer = await signToken({ sub: 'money-movements-it', role: 'service', scope: 'ledger:write' });
  const operator = await signToken({ sub: 'ops-it', role: 'operator' });
  // payment-orchestration's own key, registered as production registers it: funds commands are attested with it.
  const orchestrationKey = await testKeyPair(uniqueName('orchestration-key'));
  const attester = await FundsCommandAttester.create(orchestrationKey.privateJwk, { issuer: idp.issuer, audience: idp.audience });
  const service = await createService<WalletConfig>(walletService, {
    NODE_ENV: 'test',
    AUTH_JWKS: JSON.stringify({ keys: [...idp.jwks.keys, orchestrationKey.publicJwk] }),
    AUTH_KEY_GRANTS: JSON.stringify({
      [orchestrationKey.publicJwk.kid!]: { subjects: ['payment-orchestration'], roles: ['service'], scopes: ['funds:command', 'instruments:read'] },
    }),
    AUTH_ISSUER: idp.issuer,
    AUTH_AUDIENCE: idp.audience,
    DATABASE_URL: testDatabaseUrl(),
    ...testKafkaEnv('wallet'),
    DB_SCHEMA: schema,
    PORT: '0',
    LOG_LEVEL: process.env.IT_LOG_LEVEL ?? 'silent',
    OUTBOX_RELAY_NAME: 'it',
    PAYMENTS_LEDGER_CONSUMER_GROUP: paymentsGroup,
    FUNDS_COMMANDS_CONSUMER_GROUP: fundsGroup,
    ...env,
  });
  const http = async <T>(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${service.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token ?? (method === 'GET' ? operator : writer)}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
  };
  return {
    service,
    schema,
    paymentsGroup,
    fundsGroup,
    ledger: service.app.get<symbol, PostgresLedger>(LEDGER, { strict: false }),
    query: (sql, parameters) => service.runtime.dataSource.query(sql, parameters),
    http,
    signToken,
    fundsCommandHeaders: async (command) => ({ [FUNDS_COMMAND_ATTESTATION_HEADER]: await attester.attest(command) }),
    stop: async () => {
      await service.app.close();
      await dropSchema(testDatabaseUrl(), schema);
      await deleteGroups([paymentsGroup, fundsGroup]);
    },
  };
}

/** Best effort: a group left behind harms no other test, it only clutters the broker. */
async function deleteGroups(groupIds: string[]): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await admin.deleteGroups(groupIds);
  } catch {
    // a group still settling after its consumer left is kept; the broker expires it later
  } finally {
    await admin.disconnect();
  }
}

/** Publishes as another service would (validated envelopes, keyed by subject). */
export class TestPublisher {
  private readonly publisher = new EventPublisher(testKafka());

  async publish(topic: string, ...envelopes: EventEnvelope[]): Promise<void> {
    await this.publisher.publish(envelopes.map((envelope) => ({ topic, envelope })));
  }

  /** Envelopes with headers of their own (e.g. a funds command's attestation). */
  async publishWithHeaders(topic: string, ...events: { envelope: EventEnvelope; headers: Record<string, string> }[]): Promise<void> {
    await this.publisher.publish(events.map((event) => ({ topic, ...event })));
  }

  /** Bytes that are not a valid event, as a broken producer would send them. */
  async publishRaw(topic: string, key: string, value: string): Promise<void> {
    await this.publisher.sendRaw([{ topic, messages: [{ key, value }] }]);
  }

  disconnect(): Promise<void> {
    return this.publisher.disconnect();
  }
}

/** Whether the consumer group applied (or skipped as a no-op) the event: its inbox row. */
export async function applied(wallet: MoneyWallet, groupId: string, eventId: string): Promise<boolean> {
  const rows = await wallet.query('SELECT 1 FROM inbox WHERE consumer = $1 AND event_id = $2', [groupId, eventId]);
  return rows.length > 0;
}

export interface Balance {
  posted: string;
  available: string;
  pendingOutgoing: string;
  pendingIncoming: string;
}

/** An account's balance through the ledger API; undefined when the account does not exist. */
export async function balanceOf(wallet: MoneyWallet, accountId: string): Promise<Balance | undefined> {
  const response = await wallet.http<Balance>('GET', `/v1/ledger/accounts/${encodeURIComponent(accountId)}/balance`);
  if (response.status === 404) return undefined;
  if (response.status !== 200) throw new Error(`balance of ${accountId}: HTTP ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

function accountRequest(account: OpenAccountInput): Record<string, unknown> {
  return {
    ...account,
    minBalance: account.minBalance === undefined ? undefined : account.minBalance === null ? null : account.minBalance.toString(),
  };
}

/** Opens an account through the ledger API with exactly the definition the wallet uses. */
export async function openAccount(wallet: MoneyWallet, account: OpenAccountInput): Promise<void> {
  const response = await wallet.http('POST', '/v1/ledger/accounts', accountRequest(account));
  if (response.status !== 201 && response.status !== 200) throw new Error(`open ${account.id}: HTTP ${response.status} ${JSON.stringify(response.body)}`);
}

/**
 * Loads money into a wallet account: a transfer from `system.topups.<CUR>`, recorded in-process as
 * the wallet's own flows record. The ledger API never debits a system account, and no top-up
 * flow exists yet: this stands in for one.
 */
export async function topUp(wallet: MoneyWallet, account: OpenAccountInput, amount: bigint): Promise<void> {
  const source = topups(account.currency);
  await wallet.ledger.openAccount(source);
  await wallet.ledger.openAccount(account);
  await wallet.ledger.record({
    type: 'transfer',
    transactionId: uniqueName('topup'),
    postings: [
      { accountId: source.id, direction: 'debit', amount, currency: account.currency },
      { accountId: account.id, direction: 'credit', amount, currency: account.currency },
    ],
    metadata: { flow: 'test-topup' },
  });
}

export interface DeadLetter {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** Collects what a consumer group sent to `<topic>.dlq` (read from the start, filtered by dlq-consumer). */
export async function watchDeadLetters(topic: string, groupId: string): Promise<{ letters: DeadLetter[]; stop(): Promise<void> }> {
  const letters: DeadLetter[] = [];
  const readerGroup = uniqueName('it-dlq-reader');
  const consumer: Consumer = testKafka().consumer({ groupId: readerGroup });
  await consumer.connect();
  await consumer.subscribe({ topic: deadLetterTopicOf(topic), fromBeginning: true });
  const text = (headers: IHeaders | undefined): Record<string, string> =>
    Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, Buffer.isBuffer(value) ? value.toString() : String(value)]));
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers = text(message.headers);
      if (headers['dlq-consumer'] !== groupId) return;
      letters.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '', headers });
    },
  });
  return { letters, stop: () => consumer.disconnect().then(() => deleteGroups([readerGroup])) };
}

/** The postings of one journal entry, in order, as (account, direction, amount) text. */
export async function entryPostings(
  wallet: MoneyWallet,
  transactionId: string,
): Promise<Array<{ account_id: string; direction: string; amount: string; layer: string }>> {
  return wallet.query(
    `SELECT p.account_id, p.direction, p.amount::text AS amount, p.layer
       FROM journal_entries e JOIN postings p ON p.position = e.position
      WHERE e.transaction_id = $1 ORDER BY p.idx`,
    [transactionId],
  );
}

export interface TopicMessage {
  key: string;
  envelope: { id: string; type: string; subject: string; sequence: number; data: Record<string, unknown> };
}

/** Collects what is published to a topic (read from the start), keeping the messages whose key passes. */
export async function watchTopic(topic: string, keep: (key: string) => boolean): Promise<{ messages: TopicMessage[]; stop(): Promise<void> }> {
  const messages: TopicMessage[] = [];
  const groupId = uniqueName('it-watch');
  const consumer: Consumer = testKafka().consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const key = message.key?.toString() ?? '';
      if (keep(key)) messages.push({ key, envelope: JSON.parse(message.value?.toString() ?? 'null') as TopicMessage['envelope'] });
    },
  });
  return { messages, stop: () => consumer.disconnect().then(() => deleteGroups([groupId])) };
}
