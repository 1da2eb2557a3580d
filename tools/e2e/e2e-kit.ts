/**
 * The whole payments path for end-to-end tests and the benchmark, on this machine's real
 * PostgreSQL and Kafka: the PSP simulator (in this process), the wallet service (in this process,
 * its own schema: settings, instruments, step-up proofs, the ledger and its consumers), and
 * payment-orchestration (in this process, or spawned from dist by the caller with `orchestrationEnv`).
 *
 * Isolation on shared topics: orchestration's Kafka door is a topic of its own; every consumer
 * group is new and starts at the current end of its topic, so a run sees only what it publishes.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { MandatedAccount } from '@pay/auth';
import { APP_BACKEND_SCOPES, MANDATE_ATTESTATION_HEADER, mandateAccountDigest, MandateAttestationSigner } from '@pay/auth';
import type { TestIssuer } from '@pay/auth/testing';
import { createTestIssuer } from '@pay/auth/testing';
import { APPS, deadLetterTopicOf, Topics } from '@pay/contracts';
import type { RunningService } from '@pay/platform';
import { createService } from '@pay/platform';
import type { PspSimulator } from '@pay/psp-simulator';
import { startPspSimulator } from '@pay/psp-simulator';
import {
  appPurchaseRequest,
  createTestTopics,
  deleteTestTopics,
  dropSchema,
  grantTestAccess,
  testDatabaseUrl,
  testKafka,
  testKafkaBrokers,
  testKafkaCredentials,
  testServiceKafkaCredentials,
  uniqueName,
  waitFor,
} from '@pay/testing';
import type { JWK } from 'jose';
import { exportJWK, generateKeyPair } from 'jose';
import type { Consumer, Producer } from 'kafkajs';
import { Client } from 'pg';
import type { PaymentOrchestrationConfig } from '@pay/payment-orchestration/tools';
import { paymentOrchestrationService } from '@pay/payment-orchestration/tools';
import { STRIPE_WEBHOOK_EVENTS } from '@pay/config';
import type { WalletConfig } from '@pay/wallet/tools';
import { LEDGER, personWallet, topups, walletService } from '@pay/wallet/tools';
import type { PostgresLedger } from '@pay/ledger-store';
import type { SupportConfig } from '@pay/support/tools';
import { supportService } from '@pay/support/tools';
import { orchestrationKeyGrants, payHubKeyGrants, supportKeyGrants } from '../dev-keys';

export const ROLLOUT = [
  { country: 'US', apps: ['facebook', 'instagram', 'messenger', 'whatsapp'] },
  { country: 'DE', apps: ['facebook', 'messenger'] },
  { country: 'BR', apps: [] },
];

/** The wallet's fee rule in these tests: 1.5 % + 25 minor units (its defaults, stated so the sums below are checkable). */
export const FEE = { basisPoints: 150n, fixedMinor: 25n };
export function feeOf(amount: bigint): bigint {
  const fee = (amount * FEE.basisPoints + 5_000n) / 10_000n + FEE.fixedMinor;
  return fee > amount ? amount : fee;
}

export interface PaymentEnvelope {
  id: string;
  type: string;
  subject: string;
  sequence: number;
  correlationId: string;
  causationId?: string;
  data: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Reads payments.events.v1 (from where it ends now) into memory, by subject. */
export class PaymentEventsReader {
  readonly bySubject = new Map<string, PaymentEnvelope[]>();
  readonly arrivals = new Map<string, number>();
  private constructor(private readonly consumer: Consumer) {}

  static async start(): Promise<PaymentEventsReader> {
    const groupId = uniqueName('e2e-payment-events');
    await startGroupAtEnd(groupId, Topics.paymentEvents);
    const consumer = testKafka().consumer({ groupId, maxWaitTimeInMs: 100 });
    const reader = new PaymentEventsReader(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: Topics.paymentEvents, fromBeginning: true });
    await consumer.run({
      // Offsets committed at most once a second, as the services' consumers do, not after every
      // batch: under bench:e2e's load a commit per batch was most of the broker's offset commits.
      autoCommitInterval: 1_000,
      eachMessage: async ({ message }) => {
        const envelope = JSON.parse(message.value?.toString() ?? '{}') as PaymentEnvelope;
        const list = reader.bySubject.get(envelope.subject) ?? [];
        list.push(envelope);
        reader.bySubject.set(envelope.subject, list);
        reader.arrivals.set(`${envelope.subject}:${envelope.type}`, Date.now());
      },
    });
    return reader;
  }

  of(subject: string): PaymentEnvelope[] {
    return this.bySubject.get(subject) ?? [];
  }

  types(subject: string): string[] {
    return this.of(subject).map((e) => e.type);
  }

  async waitFor(subject: string, type: string, timeoutMs = 30_000): Promise<PaymentEnvelope> {
    const found = await waitFor(
      () => this.of(subject).find((e) => e.type === type),
      (e) => e !== undefined,
      { what: `${type} of ${subject}`, timeoutMs },
    );
    return found as PaymentEnvelope;
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}

/** Commits a new group's offsets at the end of the topic: its consumer starts with what comes next. */
export async function startGroupAtEnd(groupId: string, topic: string): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({ groupId, topic, partitions: offsets.map((o) => ({ partition: o.partition, offset: o.high })) });
  } finally {
    await admin.disconnect();
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface HttpAnswer<T = Record<string, any>> {
  status: number;
  headers: Headers;
  body: T;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function http<T = Record<string, any>>(
  url: string,
  method: string,
  token: string | undefined,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpAnswer<T>> {
  const response = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as T };
}

export interface TestPerson {
  id: string;
  /** The card's wallet method id (the PayPal account's when it has no card). */
  methodId: string;
  /** The card's PSP token (in the simulator). */
  pspToken: string;
  /** The PayPal account's wallet method id and vault token, when one was added. */
  paypal?: { methodId: string; vaultToken: string };
  /** The bank account's wallet method id, when one was added. */
  bankAccount?: { methodId: string };
  /** A step-up proof from the wallet (PIN), for payments up to `ceiling`. */
  stepUp(ceiling: bigint, currency?: string): Promise<string>;
}

export interface PersonOptions {
  country?: string;
  apps?: string[];
  /** The card behaves like this simulator test token (e.g. pm_card_chargeDeclined). */
  cardBehavesLike?: string;
  /** Without a card (no preferred method, unless a PayPal account is added). */
  withoutCard?: boolean;
  /**
   * The card is saved as the Pay Hub saves one: a SetupIntent confirmed by the card element (a
   * real PaymentMethod of the simulator's), on a new Customer (`on_customer`, what the hub does:
   * reusable) or on none (`without_customer`: Stripe charges it once).
   */
  savedCard?: 'on_customer' | 'without_customer';
  /**
   * The number typed into the card element when `savedCard` is set (4242… unless given), e.g. one of
   * Stripe's 3-D Secure test cards: its challenge at setup is completed, as the person would.
   */
  savedCardNumber?: string;
  /**
   * Adds a PayPal account (its vault token known to the simulator), behaving like this simulator test
   * vault token (e.g. vault_paypal_timeout); with withoutCard it is the preferred method.
   */
  paypal?: { behavesLike?: string };
  /**
   * Saves a bank account through the wallet API: an IBAN (SEPA Direct Debit) or a US account
   * (ACH); Stripe's test account numbers decide how its debits end. With withoutCard it is the
   * preferred method. `mandate`: the payer's acceptance of the debit mandate, as the Pay Hub saw it
   * and attests it with its key (required by the wallet: E2E_MANDATE when not given). `linkedAtBank`: a US account linked in a
   * Financial Connections session, as the Pay Hub has it done (a customer of the person's, the
   * session on it, the simulator's test bank account picked in its element), verified at once.
   */
  bankAccount?: ({ iban: string } | { routingNumber: string; accountNumber: string } | { linkedAtBank: 'checking' | 'insufficient_funds' }) & {
    mandate?: { textVersion: string; ipAddress: string; userAgent: string };
    /** A US account is verified with the micro-deposits' descriptor code (Stripe's test SM11AA) unless this is set. */
    unverified?: boolean;
  };
}

/**
 * What the Pay Hub and the person do to link a US account at the simulator's test bank: a customer
 * of the person's, a Financial Connections session on it, the account picked in the PSP's element
 * (its call: publishable key and the session's client secret). Answers the session's id.
 */
async function linkAtTestBank(simulatorUrl: string, personId: string, account: string): Promise<string> {
  const stripe = async <T>(path: string, form: Record<string, string>, key = 'sk_test_e2e'): Promise<T> => {
    const answer = await fetch(`${simulatorUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    });
    if (!answer.ok) throw new Error(`the simulator answered ${path} with ${answer.status}: ${await answer.text()}`);
    return (await answer.json()) as T;
  };
  const customer = await stripe<{ id: string }>('/v1/customers', { 'metadata[pay_person]': personId });
  const session = await stripe<{ id: string; client_secret: string }>('/v1/financial_connections/sessions', {
    'account_holder[type]': 'customer',
    'account_holder[customer]': customer.id,
    'permissions[]': 'payment_method',
  });
  await stripe(`/v1/financial_connections/sessions/${session.id}/link_account`, { client_secret: session.client_secret, account }, 'pk_test_e2e');
  return session.id;
}

export interface PaymentsPlatform {
  simulator: PspSimulator;
  idp: TestIssuer;
  /**
   * The Pay Hub's key pair, the wallet's only mandate attester and orchestration's only refund
   * approver (`HUB_SERVICE_SIGNING_JWK` of a hub the test starts).
   */
  hubKey: { kid: string; publicJwk: JWK; privateJwk: JWK };
  /** The `Mandate-Attestation` header the Pay Hub sends with a person's bank account: what it saw (E2E_MANDATE unless named), signed with its key. */
  mandateAttestation(
    personId: string,
    account: MandatedAccount,
    acceptance?: { textVersion: string; ipAddress: string; userAgent: string },
  ): Promise<Record<string, string>>;
  /** In this process (`service`), or a child process from dist (`process`, started with `env`, its port fixed: a restart keeps its URL). */
  wallet: { url: string; service?: RunningService<WalletConfig>; process?: ChildProcess; env?: Record<string, string> };
  walletSchema: string;
  orchestration?: RunningService<PaymentOrchestrationConfig>;
  orchestrationSchema: string;
  orchestrationUrl: string;
  purchaseTopic: string;
  /** The consumer groups of this run: the wallet's two, and the prefix of orchestration's. */
  groups: { walletPayments: string; walletFunds: string; orchestrationPrefix: string };
  events: PaymentEventsReader;
  /** What orchestration is started with (also for a child process). */
  orchestrationEnv: Record<string, string>;
  /** What every service of this run shares (database, Kafka, identity provider, rollout): the base of another service's environment. */
  commonEnv: Record<string, string>;
  /**
   * An app's backend (`<app>-backend`, default instagram, with the scopes app backends get, acting
   * for `E2E_MERCHANTS`), or an operator.
   */
  serviceToken(role?: 'service' | 'operator', app?: string): Promise<string>;
  /**
   * The person's token the identity provider issues an app's backend (default instagram's) to act
   * for them (RFC 8693 token exchange: subject the person, `app`, `act: {sub: "<app>-backend"}`):
   * what a backend calls a person's routes with, as its own token opens none.
   */
  delegatedToken(personId: string, app?: string): Promise<string>;
  person(options?: PersonOptions): Promise<TestPerson>;
  /** The token `publishPurchase` sends as the backend of this app (`authorization: Bearer …`). */
  senderToken(app: string): Promise<string>;
  /**
   * Publishes a PurchaseRequested the way an app's service would: a plain kafkajs producer, JSON by
   * hand, the backend's token of the app it names in the `authorization` header (`headers` add to or replace it).
   */
  publishPurchase(data: Record<string, unknown>, headers?: Record<string, string>): Promise<string>;
  /** The dead letters of these request ids on the purchase topic's DLQ, each id's in order, read to the topic's end as of now. */
  deadLettersOf(requestIds: string[]): Promise<Map<string, DeadLetter[]>>;
  /** The id of the payment orchestration made of this purchase request, once it has made it. */
  paymentOf(requestId: string): Promise<string>;
  /** SQL in orchestration's schema. */
  orchestrationQuery<T = Record<string, any>>(sql: string, parameters?: unknown[]): Promise<T[]>; // eslint-disable-line @typescript-eslint/no-explicit-any
  walletQuery<T = Record<string, any>>(sql: string, parameters?: unknown[]): Promise<T[]>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Posted balance of a ledger account (0 when it does not exist). */
  balance(accountId: string): Promise<bigint>;
  topUp(personId: string, amount: bigint, currency?: string): Promise<void>;
  startOrchestration(extraEnv?: Record<string, string>): Promise<RunningService<PaymentOrchestrationConfig>>;
  stop(): Promise<void>;
}

/** A dead-lettered purchase request: why (`dlq-reason`), and every header, as text. */
export interface DeadLetter {
  reason: string;
  headers: Record<string, string>;
}

export interface PlatformOptions {
  /** Start orchestration in this process (default true); false: the caller spawns it. */
  inProcessOrchestration?: boolean;
  /** Run the wallet from dist as a child process (the benchmark, under tsx: no decorator metadata for Nest here). */
  walletFromDist?: boolean;
  /**
   * 'caller': the kit only prepares the wallet's environment (`wallet.env`, its port fixed) and URL;
   * the caller starts it from dist (e.g. under npm start's supervisor) before calling `person()`.
   */
  walletStartedBy?: 'kit' | 'caller';
  orchestrationEnv?: Record<string, string>;
  /** Added to the wallet's environment (e.g. NODE_OPTIONS for a child process). */
  walletEnv?: Record<string, string>;
  orchestrationPort?: number;
  simulatorHoldMs?: number;
  /** Webhook deliveries the simulator has in flight at once (1 keeps their order; the bench and the soak send several, as Stripe does). */
  webhookConcurrency?: number;
  logLevel?: string;
}

/** The payer's acceptance of the debit mandate the kit sends with a bank account when a test names none (the wallet requires one). */
export const E2E_MANDATE = { textVersion: 'e2e-mandate-2026-01', ipAddress: '203.0.113.50', userAgent: 'PayE2E/1.0 (Linux)' };

/**
 * A card saved at the simulator as the Pay Hub saves it (apps/pay-hub/src/card-setups.ts): a
 * Customer (when `onCustomer`), a SetupIntent on it, confirmed as the card element confirms it
 * (publishable key, client secret, the test card's number). Returns the PaymentMethod and customer.
 */
async function setUpCard(
  simulator: PspSimulator,
  personId: string,
  onCustomer: boolean,
  number = '4242424242424242',
): Promise<{ paymentMethod: string; customer?: string }> {
  const call = async <T>(path: string, key: string, form: Record<string, string>): Promise<T> => {
    const response = await fetch(`${simulator.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    if (!response.ok) throw new Error(`simulator ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  const customer = onCustomer ? (await call<{ id: string }>('/v1/customers', 'sk_test_e2e', { 'metadata[pay_person]': personId })).id : undefined;
  const intent = await call<{ id: string; client_secret: string }>('/v1/setup_intents', 'sk_test_e2e', {
    usage: 'off_session',
    ...(customer ? { customer } : {}),
  });
  const confirmed = await call<{ payment_method: string; status: string }>(`/v1/setup_intents/${intent.id}/confirm`, 'pk_test_e2e', {
    client_secret: intent.client_secret,
    'payment_method_data[type]': 'card',
    'payment_method_data[card][number]': number,
    'payment_method_data[card][exp_month]': '12',
    'payment_method_data[card][exp_year]': String(new Date().getUTCFullYear() + 3),
    'payment_method_data[card][cvc]': '123',
  });
  // 3-D Secure at setup: the person completes the challenge (Stripe.js's frame; the simulator's control API here).
  if (confirmed.status === 'requires_action') simulator.completeSetupIntent(intent.id, 'succeeded');
  return { paymentMethod: confirmed.payment_method, ...(customer ? { customer } : {}) };
}

/** A service's own ES256 signing key (private JWK) and what verifiers trust (public JWK), both named `kid`. */
export async function serviceKeyPair(kid: string): Promise<{ kid: string; publicJwk: JWK; privateJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return {
    kid,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256' },
  };
}

/** One query with `schema` as the search path, on a connection of its own (to the test database, or `databaseUrl`). */
export async function schemaQuery<T>(schema: string, sql: string, parameters: unknown[] = [], databaseUrl = testDatabaseUrl()): Promise<T[]> {
  const client = new Client({ connectionString: databaseUrl, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    return (await client.query(sql, parameters)).rows as T[];
  } finally {
    await client.end();
  }
}

export async function startPaymentsPlatform(options: PlatformOptions = {}): Promise<PaymentsPlatform> {
  const logLevel = options.logLevel ?? process.env.IT_LOG_LEVEL ?? 'silent';
  const idp = await createTestIssuer();
  const { kid, publicJwk: servicePublic, privateJwk: servicePrivate } = await serviceKeyPair(`payment-orchestration-${randomUUID()}`);
  // The Pay Hub's key: the one the wallet takes a bank account's mandate evidence from (its grant: mandates:attest).
  const hubKey = await serviceKeyPair(`pay-hub-${randomUUID()}`);
  const mandates = await MandateAttestationSigner.create(hubKey.privateJwk, { issuer: idp.issuer, audience: idp.audience });

  const dir = await mkdtemp(join(tmpdir(), 'payments-e2e-'));
  const rolloutPath = join(dir, 'rollout.json');
  await writeFile(rolloutPath, JSON.stringify({ countries: ROLLOUT }));

  const purchaseTopic = uniqueName('e2e.purchase-requests');
  await createTestTopics([purchaseTopic, deadLetterTopicOf(purchaseTopic)], 6);
  // On a broker with ACLs (TEST_KAFKA_SASL=1) this run's purchase topic is granted as the list
  // grants payments.purchase-requests.v1: the app backends write it, orchestration reads it.
  await grantTestAccess([
    { user: 'payment-orchestration', description: 'this run’s purchase topic', reads: [purchaseTopic], writes: [], groupPrefixes: [] },
    ...APPS.map((app) => ({ user: `app-${app}`, description: 'this run’s purchase topic', reads: [], writes: [purchaseTopic], groupPrefixes: [] })),
  ]);
  const walletSchema = uniqueName('e2e_wallet');
  const orchestrationSchema = uniqueName('e2e_po');
  // Each service's groups keep its prefix (`wallet.`, `payment-orchestration.`): the ACLs let it join only those.
  const walletGroups = { payments: uniqueName('wallet.e2e-payments-ledger'), funds: uniqueName('wallet.e2e-funds-commands') };
  const orchestrationGroupPrefix = uniqueName('payment-orchestration.e2e');
  await startGroupAtEnd(walletGroups.payments, Topics.paymentEvents);
  await startGroupAtEnd(walletGroups.funds, Topics.walletCommands);
  await startGroupAtEnd(`${orchestrationGroupPrefix}.wallet-events`, Topics.walletEvents);

  const simulator = await startPspSimulator({
    webhookSecret: 'whsec_e2e',
    holdMs: options.simulatorHoldMs ?? 60_000,
    webhookRetries: 5,
    webhookRetryDelayMs: 200,
    webhookConcurrency: options.webhookConcurrency,
    // Subscribed as orchestration's endpoint is in Stripe: no `payment_intent.created`, no SetupIntent or Customer events.
    webhookEvents: STRIPE_WEBHOOK_EVENTS,
  });
  const events = await PaymentEventsReader.start();

  const common = {
    NODE_ENV: 'test',
    // Orchestration's key signs only for itself, with its one scope (libs/auth key-grants).
    // The hub's key signs only its mandate attestations and agents' refund approvals.
    AUTH_KEY_GRANTS: JSON.stringify({ ...(JSON.parse(orchestrationKeyGrants(kid)) as object), ...payHubKeyGrants(hubKey.kid) }),
    DATABASE_URL: testDatabaseUrl(),
    KAFKA_BROKERS: testKafkaBrokers().join(','),
    PORT: '0',
    LOG_LEVEL: logLevel,
    AUTH_ISSUER: idp.issuer,
    AUTH_AUDIENCE: idp.audience,
    ROLLOUT_CONFIG_PATH: rolloutPath,
  };
  const walletEnv = {
    ...common,
    ...testKafkaCredentials('wallet'),
    DB_SCHEMA: walletSchema,
    OUTBOX_RELAY_NAME: 'e2e',
    // The wallet trusts the identity provider's keys, orchestration's own service key and the hub's (mandates).
    AUTH_JWKS: JSON.stringify({ keys: [...idp.jwks.keys, servicePublic, hubKey.publicJwk] }),
    PAYMENTS_LEDGER_CONSUMER_GROUP: walletGroups.payments,
    FUNDS_COMMANDS_CONSUMER_GROUP: walletGroups.funds,
    // US bank accounts are set up and verified by micro-deposits at the PSP: the simulator.
    STRIPE_API_HOST: simulator.host,
    STRIPE_API_PORT: String(simulator.port),
    ...options.walletEnv,
  };
  const wallet: PaymentsPlatform['wallet'] =
    options.walletStartedBy === 'caller'
      ? await (async () => {
          const env = { ...walletEnv, PORT: String(await freePort()) };
          return { url: `http://127.0.0.1:${env.PORT}`, env };
        })()
      : options.walletFromDist
        ? await (async () => {
            const env = { ...walletEnv, PORT: String(await freePort()) };
            return { ...(await spawnFromDist('wallet', env)), env };
          })()
        : await (async () => {
            const service = await createService<WalletConfig>(walletService, walletEnv);
            return { url: service.url, service };
          })();

  const port = options.orchestrationPort ?? (await freePort());
  const orchestrationUrl = `http://127.0.0.1:${port}`;
  const orchestrationEnv: Record<string, string> = {
    ...common,
    ...testKafkaCredentials('payment-orchestration'),
    PORT: String(port),
    DB_SCHEMA: orchestrationSchema,
    OUTBOX_RELAY_NAME: 'e2e',
    AUTH_JWKS: JSON.stringify(idp.jwks),
    SERVICE_TOKEN_SIGNING_JWK: JSON.stringify(servicePrivate),
    WALLET_URL: wallet.url,
    STRIPE_API_HOST: simulator.host,
    STRIPE_API_PORT: String(simulator.port),
    STRIPE_WEBHOOK_SECRET: simulator.webhookSecret,
    STRIPE_TIMEOUT_MS: '1000',
    STRIPE_MAX_NETWORK_RETRIES: '0',
    PAYPAL_API_URL: simulator.url,
    PAYPAL_TIMEOUT_MS: '1000',
    PAYPAL_MAX_RETRIES: '0',
    PURCHASE_REQUESTS_TOPIC: purchaseTopic,
    KAFKA_CONSUMER_GROUP_PREFIX: orchestrationGroupPrefix,
    PAYMENT_STEP_POLL_MS: '250',
    PAYMENT_STEP_LEASE_SECONDS: '10',
    // The suites pay many times per person and caller: the abuse limits (cumulative step-up, rate
    // limits) stay out of their way unless a suite sets its own (payment-abuse-limits.e2e-spec.ts).
    STEP_UP_MAX_UNCONFIRMED_PAYMENTS: '1000000',
    STEP_UP_CUMULATIVE_AMOUNTS: 'EUR:100000000000,USD:100000000000,GBP:100000000000',
    PAYMENTS_PER_PAYER_PER_MINUTE: '1000000',
    PAYMENTS_PER_CALLER_PER_MINUTE: '10000000',
    PURCHASE_REQUESTS_PER_APP_PER_MINUTE: '10000000',
    ...options.orchestrationEnv,
  };
  simulator.webhooks.setUrl(`${orchestrationUrl}/v1/webhooks/stripe`);
  simulator.paypal.webhooks.setUrl(`${orchestrationUrl}/v1/webhooks/paypal`);

  // Each app's backend publishes as its own Kafka principal (`app-<app>`), as in production.
  const producers = new Map<string, Promise<Producer>>();
  const producerOf = (app: string): Promise<Producer> => {
    const known = producers.get(app);
    if (known) return known;
    // An app Pay does not serve has no principal: its request (which the door must refuse) is written as the tests' admin.
    const principal = (APPS as readonly string[]).includes(app) ? `app-${app}` : undefined;
    const producer = testKafka(uniqueName(`e2e-${app}-backend`), principal).producer({ idempotent: true, maxInFlightRequests: 1 });
    const connected = producer.connect().then(() => producer);
    producers.set(app, connected);
    return connected;
  };
  await producerOf('instagram');

  const token = (sub: string, role: string): Promise<string> => idp.signTestToken({ sub, role });
  const mandateAttestation: PaymentsPlatform['mandateAttestation'] = async (personId, mandated, acceptance = E2E_MANDATE) => ({
    [MANDATE_ATTESTATION_HEADER]: await mandates.sign({
      personId,
      account: mandateAccountDigest(mandated),
      textVersion: acceptance.textVersion,
      ipAddress: acceptance.ipAddress,
      userAgent: acceptance.userAgent,
    }),
  });
  const walletCall = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    caller: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<HttpAnswer<T>> => {
    const answer = await http<T>(`${wallet.url}${path}`, method, caller, body, headers);
    if (answer.status >= 300) throw new Error(`wallet ${method} ${path}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer;
  };

  // The Kafka door authenticates each request's sender by the app backend's token in its
  // `authorization` header; one token per app, renewed a minute after it was signed (it lives 5).
  const senderTokens = new Map<string, { token: Promise<string>; signedAt: number }>();
  const senderToken = (app: string): Promise<string> => {
    const known = senderTokens.get(app);
    if (known && Date.now() - known.signedAt < 60_000) return known.token;
    const token = idp.signTestToken({ sub: `${app}-backend`, role: 'service', app, scope: APP_BACKEND_SCOPES.join(' ') });
    senderTokens.set(app, { token, signedAt: Date.now() });
    return token;
  };

  const platform: PaymentsPlatform = {
    simulator,
    idp,
    hubKey,
    mandateAttestation,
    wallet,
    walletSchema,
    orchestrationSchema,
    orchestrationUrl,
    purchaseTopic,
    groups: { walletPayments: walletGroups.payments, walletFunds: walletGroups.funds, orchestrationPrefix: orchestrationGroupPrefix },
    events,
    orchestrationEnv,
    commonEnv: common,
    senderToken,
    serviceToken: (role = 'service', app = 'instagram') =>
      role === 'service'
        ? idp.signTestToken({ sub: `${app}-backend`, role, app, merchants: [...E2E_MERCHANTS], scope: APP_BACKEND_SCOPES.join(' ') })
        : token('ops-1', role),
    delegatedToken: (personId, app = 'instagram') => idp.signTestToken({ sub: personId, role: 'person', app, act: { sub: `${app}-backend` } }),
    async person(personOptions = {}) {
      const id = uniqueName('person');
      const caller = await token(id, 'person');
      await walletCall('POST', `/v1/wallets/${id}`, caller, { country: personOptions.country ?? 'US' });
      await walletCall('PUT', `/v1/wallets/${id}/apps`, caller, { apps: personOptions.apps ?? ['instagram', 'facebook'] });
      await walletCall('POST', `/v1/wallets/${id}/pin`, caller, { pin: '730264' });
      let methodId = '';
      const saved = personOptions.savedCard
        ? await setUpCard(simulator, id, personOptions.savedCard === 'on_customer', personOptions.savedCardNumber)
        : undefined;
      const pspToken = saved?.paymentMethod ?? `pm_${randomBytes(12).toString('hex')}`;
      if (!personOptions.withoutCard) {
        const card = await walletCall<{ methodId?: string; id?: string }>('POST', `/v1/wallets/${id}/payment-methods/cards`, caller, {
          pspToken,
          ...(saved?.customer ? { customerId: saved.customer } : {}),
          brand: 'visa',
          last4: '4242',
          expMonth: 12,
          expYear: new Date().getUTCFullYear() + 3,
          country: 'US',
        });
        methodId = card.body.methodId ?? card.body.id ?? '';
        if (personOptions.cardBehavesLike) simulator.aliasPaymentMethod(pspToken, personOptions.cardBehavesLike);
      }
      let paypal: TestPerson['paypal'];
      if (personOptions.paypal) {
        const vaultToken = `vault_${randomBytes(10).toString('hex')}`;
        const account = await walletCall<{ methodId?: string; id?: string }>('POST', `/v1/wallets/${id}/payment-methods/paypal-accounts`, caller, {
          // PayPal payer ids are 13 letters and digits; a letter first keeps the digit run below a
          // card number's 13 (a 13-digit hex draw passed the Luhn check once and was refused).
          payerId: `P${randomBytes(8).toString('hex').toUpperCase().slice(0, 12)}`,
          email: `${id}@example.com`,
          vaultToken,
        });
        paypal = { methodId: account.body.methodId ?? account.body.id ?? '', vaultToken };
        if (personOptions.paypal.behavesLike) simulator.paypal.alias(vaultToken, personOptions.paypal.behavesLike);
        if (!methodId) methodId = paypal.methodId;
      }
      let bankAccount: TestPerson['bankAccount'];
      if (personOptions.bankAccount) {
        const account = personOptions.bankAccount;
        // Saved as the Pay Hub saves it: the acceptance in the hub's signed attestation, never in the body.
        const attested = (mandated: MandatedAccount) => mandateAttestation(id, mandated, account.mandate);
        const save = async (route: string, body: Record<string, unknown>, mandated: MandatedAccount) =>
          walletCall<{ id: string }>('POST', `/v1/wallets/${id}/payment-methods/${route}`, caller, body, await attested(mandated));
        let saved: HttpAnswer<{ id: string }>;
        if ('iban' in account)
          saved = await save(
            'bank-accounts',
            { iban: account.iban, holderName: 'Ana Maria Silva', holderEmail: `${id}.sepa@example.com` },
            { iban: account.iban },
          );
        else if ('linkedAtBank' in account) {
          const session = await linkAtTestBank(simulator.url, id, account.linkedAtBank);
          saved = await save(
            'us-bank-accounts',
            { financialConnectionsSession: session, holderName: 'Ana Maria Silva' },
            { financialConnectionsSession: session },
          );
        } else {
          const { routingNumber, accountNumber } = account;
          saved = await save(
            'us-bank-accounts',
            { routingNumber, accountNumber, accountType: 'checking', holderName: 'Ana Maria Silva' },
            { routingNumber, accountNumber },
          );
        }
        bankAccount = { methodId: saved.body.id };
        if ('routingNumber' in account && !account.unverified)
          await walletCall('POST', `/v1/wallets/${id}/payment-methods/${saved.body.id}/microdeposits`, caller, { descriptorCode: 'SM11AA' });
        if (!methodId) methodId = bankAccount.methodId;
      }
      // Orchestration knows the wallet from wallet.events.v1: wait until its read model caught up.
      await waitFor(
        () =>
          platform.orchestrationQuery(
            'SELECT h.apps, m.method_id FROM wallet_holders h LEFT JOIN wallet_methods m ON m.person_id = h.person_id WHERE h.person_id = $1',
            [id],
          ),
        (rows) =>
          rows.length > 0 &&
          (methodId === '' || rows.some((row) => row.method_id === methodId)) &&
          (!paypal || rows.some((row) => row.method_id === paypal.methodId)) &&
          (!bankAccount || rows.some((row) => row.method_id === bankAccount.methodId)) &&
          rows[0].apps.length === (personOptions.apps ?? ['instagram', 'facebook']).length,
        { what: `the wallet of ${id} in orchestration's read model` },
      );
      return {
        id,
        methodId,
        pspToken,
        ...(paypal ? { paypal } : {}),
        ...(bankAccount ? { bankAccount } : {}),
        stepUp: async (ceiling, currency = 'USD') => {
          const proof = await walletCall<{ proof: string }>('POST', `/v1/wallets/${id}/step-up/pin`, caller, {
            pin: '730264',
            ceiling: { amount: ceiling.toString(), currency },
          });
          return proof.body.proof;
        },
      };
    },
    async publishPurchase(data, headers) {
      const { requestId, value } = appPurchaseRequest(data);
      const app = typeof data.app === 'string' ? data.app : 'instagram';
      const authorization = `Bearer ${await senderToken(app)}`;
      const producer = await producerOf(app);
      await producer.send({
        topic: purchaseTopic,
        acks: -1,
        messages: [{ key: requestId, value, headers: { authorization, ...headers } }],
      });
      return requestId;
    },
    async deadLettersOf(requestIds) {
      const found = new Map<string, DeadLetter[]>();
      const dlq = deadLetterTopicOf(purchaseTopic);
      const admin = testKafka().admin();
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(dlq).finally(() => admin.disconnect());
      const total = offsets.reduce((sum, partition) => sum + (Number(partition.high) - Number(partition.low)), 0);
      const consumer = testKafka().consumer({ groupId: uniqueName('e2e.dlq-reader'), maxWaitTimeInMs: 100 });
      await consumer.connect();
      try {
        await consumer.subscribe({ topic: dlq, fromBeginning: true });
        let seen = 0;
        await consumer.run({
          eachMessage: async ({ message }) => {
            seen += 1;
            const key = message.key?.toString() ?? '';
            if (!requestIds.includes(key)) return;
            const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]));
            found.set(key, [...(found.get(key) ?? []), { reason: headers['dlq-reason'], headers }]);
          },
        });
        await waitFor(
          () => seen,
          (count) => count >= total,
          { what: 'the dead-letter topic read to its end', timeoutMs: 30_000 },
        );
      } finally {
        await consumer.disconnect();
      }
      return found;
    },
    async paymentOf(requestId) {
      const [{ payment_id: paymentId }] = await waitFor(
        () => schemaQuery<{ payment_id: string }>(orchestrationSchema, 'SELECT payment_id FROM payments WHERE request_id = $1', [requestId]),
        (rows) => rows.length === 1,
        { what: `the payment of ${requestId}` },
      );
      return paymentId;
    },
    // Each in the service's own database (the test database unless the caller gave it another, as bench:e2e does).
    orchestrationQuery: (sql, parameters) => schemaQuery(orchestrationSchema, sql, parameters, orchestrationEnv.DATABASE_URL),
    walletQuery: (sql, parameters) => schemaQuery(walletSchema, sql, parameters, walletEnv.DATABASE_URL),
    async balance(accountId) {
      const answer = await http<{ posted: string }>(
        `${wallet.url}/v1/ledger/accounts/${encodeURIComponent(accountId)}/balance`,
        'GET',
        await token('ops-1', 'operator'),
      );
      if (answer.status === 404) return 0n;
      if (answer.status !== 200) throw new Error(`balance of ${accountId}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
      return BigInt(answer.body.posted);
    },
    // The ledger API never debits a system account and no top-up flow exists yet: the money is
    // loaded in-process, as the wallet's own flows record (docs/security.md).
    async topUp(personId, amount, currency = 'USD') {
      if (!wallet.service) throw new Error('topUp records in the in-process wallet: start the platform without walletFromDist');
      const ledger = wallet.service.app.get<symbol, PostgresLedger>(LEDGER, { strict: false });
      const [source, target] = [topups(currency), personWallet(personId, currency)];
      for (const account of [source, target]) await ledger.openAccount(account);
      await ledger.record({
        type: 'transfer',
        transactionId: uniqueName('topup'),
        postings: [
          { accountId: source.id, direction: 'debit', amount, currency },
          { accountId: target.id, direction: 'credit', amount, currency },
        ],
        metadata: { flow: 'e2e-topup' },
      });
    },
    async startOrchestration(extraEnv = {}) {
      const service = await createService<PaymentOrchestrationConfig>(paymentOrchestrationService, { ...orchestrationEnv, ...extraEnv });
      platform.orchestration = service;
      return service;
    },
    async stop() {
      await platform.orchestration?.app.close().catch(() => undefined);
      await simulator.close().catch(() => undefined);
      await wallet.service?.app.close().catch(() => undefined);
      if (wallet.process) await stopChild(wallet.process, 'SIGTERM');
      for (const producer of producers.values()) await producer.then((connected) => connected.disconnect()).catch(() => undefined);
      await events.stop().catch(() => undefined);
      await deleteTestTopics([purchaseTopic, deadLetterTopicOf(purchaseTopic)]);
      await dropSchema(walletEnv.DATABASE_URL, walletSchema).catch(() => undefined);
      await dropSchema(orchestrationEnv.DATABASE_URL, orchestrationSchema).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  if (options.inProcessOrchestration ?? true) await platform.startOrchestration();
  return platform;
}

export interface SupportOnPlatform {
  service: RunningService<SupportConfig>;
  url: string;
  /** Its database schema. */
  schema: string;
  /** With `refunds`: the private key support signs its service tokens and case references with. */
  refundKey?: JWK;
  stop(): Promise<void>;
}

export interface SupportOptions {
  /** The apps where chat is open in the US (its rollout). */
  apps: string[];
  /**
   * Support refunds through orchestration with a key of its own, which orchestration trusts within
   * its grant (payments:refund): the kit starts orchestration so (start the platform with
   * `inProcessOrchestration: false`).
   */
  refunds?: boolean;
  env?: Record<string, string>;
}

/**
 * The support service in this process beside the platform, signed in to Kafka as itself, reading
 * payments, ledger and wallet events from where they end now.
 */
export async function startSupport(platform: PaymentsPlatform, options: SupportOptions): Promise<SupportOnPlatform> {
  let refundsEnv: Record<string, string> = {};
  const key = options.refunds ? await serviceKeyPair(`support-${randomUUID()}`) : undefined;
  if (key) {
    await platform.startOrchestration({
      // Support's key (cases) and the hub's (agents' refund approvals, refunds:approve in its grant).
      AUTH_JWKS: JSON.stringify({ keys: [...platform.idp.jwks.keys, key.publicJwk, platform.hubKey.publicJwk] }),
      AUTH_KEY_GRANTS: JSON.stringify({ ...(JSON.parse(platform.commonEnv.AUTH_KEY_GRANTS) as object), ...supportKeyGrants(key.kid) }),
    });
    refundsEnv = { SUPPORT_SERVICE_TOKEN_SIGNING_JWK: JSON.stringify(key.privateJwk), PAYMENT_ORCHESTRATION_URL: platform.orchestrationUrl };
  }
  const dir = await mkdtemp(join(tmpdir(), 'support-e2e-'));
  const rolloutPath = join(dir, 'support-rollout.json');
  await writeFile(rolloutPath, JSON.stringify({ countries: [{ country: 'US', apps: options.apps }] }));
  const schema = uniqueName('e2e_support');
  const group = uniqueName('support.e2e');
  for (const topic of [Topics.paymentEvents, Topics.ledgerTransactions, Topics.walletEvents]) await startGroupAtEnd(group, topic);
  const service = await createService<SupportConfig>(supportService, {
    ...platform.commonEnv,
    ...testKafkaCredentials('support'),
    DB_SCHEMA: schema,
    OUTBOX_RELAY_NAME: 'e2e',
    AUTH_JWKS: JSON.stringify(platform.idp.jwks),
    SUPPORT_ROLLOUT_CONFIG_PATH: rolloutPath,
    SUPPORT_CONSUMER_GROUP: group,
    ...refundsEnv,
    ...options.env,
  });
  return {
    service,
    url: service.url,
    schema,
    ...(key ? { refundKey: key.privateJwk } : {}),
    async stop() {
      await service.app.close();
      await dropSchema(testDatabaseUrl(), schema).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const ROOT = resolve(__dirname, '../..');

/** Starts a built service (`node dist/apps/<name>/src/main.js`) and waits until it is ready. */
export async function spawnFromDist(name: string, env: Record<string, string>): Promise<{ url: string; process: ChildProcess }> {
  const main = resolve(ROOT, `dist/apps/${name}/src/main.js`);
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  const port = env.PORT && env.PORT !== '0' ? Number(env.PORT) : await freePort();
  let output = '';
  // A service signs in to a broker with SASL as its own principal (unless the test names another).
  const credentials = testServiceKafkaCredentials(name, env);
  const child = spawn(process.execPath, [main], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...credentials, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-10_000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-10_000)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      () =>
        fetch(`${url}/health/ready`).then(
          (r) => r.status,
          () => (child.exitCode === null ? 0 : -1),
        ),
      (status) => status === 200 || status === -1,
      { what: `${name} ready`, timeoutMs: 60_000 },
    );
  } catch (error) {
    // Not ready in time: the caller never gets the process to stop, so it is stopped here
    // (a service left running keeps its connections and consumer groups for the next run).
    await stopChild(child, 'SIGKILL');
    throw error;
  }
  if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}: ${output}`);
  return { url, process: child };
}

export function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill(signal);
  });
}

export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** The merchants and non-profits the e2e app backends act for (the counterparties the e2e purchases name). */
export const E2E_MERCHANTS = ['merchant-e2e', 'np-unicef'] as const;

/** A purchase request's data for a person (the Kafka door's PurchaseRequested, without requestId). */
export function purchaseOf(person: { id: string }, amount: bigint, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'purchase',
    payerId: person.id,
    counterparty: { type: 'merchant', id: 'merchant-e2e' },
    app: 'instagram',
    country: 'US',
    amount: { amount: amount.toString(), currency: 'USD' },
    ...overrides,
  };
}

/** The preload that counts the SQL statements a service sends (bench/preload/count-statements.js). */
const STATEMENT_COUNTER = resolve(ROOT, 'bench/preload/count-statements.js');

export interface StatementCounts {
  statements: number;
  /** Queries sent: a simple-protocol text of several statements (`BEGIN; EXECUTE …`) is one round trip. */
  roundTrips: number;
  transactionControl: number;
  /** COMMITs plus statements sent outside a transaction. */
  commits: number;
  /** Commits by the shape of their (first) statement. */
  shapes: Record<string, number>;
  /** Every statement but transaction control, by shape. */
  every: Record<string, number>;
  /** Milliseconds from sending each statement to its answer, summed by shape (transaction control aside). */
  waitedMs?: Record<string, number>;
  /** Kafka requests the process sent (kafkajs), by API name (Fetch, Produce, OffsetCommit, …). */
  kafkaRequests?: Record<string, number>;
  /** The process's memory by kind, each the highest of its samples every second since start, in bytes (v8Heap: committed). */
  memoryMax?: { rss: number; v8Heap: number; external: number; arrayBuffers: number };
}

/** Environment for a service from dist that counts its statements, written to `dir` as `<name>.json` on SIGUSR2. */
export function countingStatements(dir: string, name: string): Record<string, string> {
  return { NODE_OPTIONS: `--require ${STATEMENT_COUNTER}`, BENCH_STATS_DIR: dir, BENCH_PROCESS_NAME: name };
}

/** Asks a service's preload for its statement counts (SIGUSR2) and waits for the answer. */
export async function statementCounts(pid: number, dir: string, name: string): Promise<StatementCounts> {
  const file = join(dir, `${name}.json`);
  const asked = Date.now();
  process.kill(pid, 'SIGUSR2');
  const answer = await waitFor(
    () => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as StatementCounts & { pid: number; at: number }) : undefined),
    (counts) => counts !== undefined && counts.pid === pid && counts.at >= asked,
    { what: `statement counts of ${name}`, timeoutMs: 10_000 },
  );
  return {
    statements: answer!.statements,
    roundTrips: answer!.roundTrips ?? answer!.statements,
    transactionControl: answer!.transactionControl,
    commits: answer!.commits,
    shapes: answer!.shapes,
    every: answer!.every ?? {},
    kafkaRequests: answer!.kafkaRequests ?? {},
    waitedMs: answer!.waitedMs ?? {},
    memoryMax: answer!.memoryMax,
  };
}
