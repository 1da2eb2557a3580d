import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { exportJWK, generateKeyPair } from 'jose';
import type { MandatedAccount } from '@pay/auth';
import { MANDATE_ATTEST_SCOPE, MANDATE_ATTESTATION_HEADER, mandateAccountDigest, MandateAttestationSigner, PAY_HUB_SUBJECT } from '@pay/auth';
import type { TestIssuer } from '@pay/auth/testing';
import { createTestIssuer } from '@pay/auth/testing';
import { Topics } from '@pay/contracts';
import type { RunningService } from '@pay/platform';
import { createService } from '@pay/platform';
import { dropSchema, testDatabaseUrl, testKafka, testKafkaEnv, uniqueName } from '@pay/testing';
import type { Consumer } from 'kafkajs';
import { Client } from 'pg';
import type { WalletConfig } from '../src/config';
import { walletService } from '../src/wallet.service';

export interface RolloutEntry {
  country: string;
  apps: string[];
}

export const DEFAULT_TEST_ROLLOUT: RolloutEntry[] = [
  { country: 'US', apps: ['facebook', 'instagram', 'messenger', 'whatsapp'] },
  { country: 'DE', apps: ['facebook', 'messenger'] },
  { country: 'FR', apps: ['facebook'] },
];

export interface Response<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/** Calls the wallet as one caller (a bearer token), or anonymously. */
/** Turns a request body into what is sent and the headers that go with it (the Pay Hub's mandate attestation). */
type Attestor = (path: string, body: unknown) => Promise<{ body: unknown; headers: Record<string, string> }>;

export class Caller {
  constructor(
    private readonly baseUrl: string,
    readonly token?: string,
    private readonly attestor?: Attestor,
  ) {}

  async request<T = Record<string, unknown>>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response<T>> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
  }

  get = <T = Record<string, unknown>>(path: string): Promise<Response<T>> => this.request<T>('GET', path);
  /** A bank account's `mandate` goes as the Pay Hub sends it: in the hub's signed attestation, not in the body (mandateAttestor). */
  post = async <T = Record<string, unknown>>(path: string, body?: unknown): Promise<Response<T>> => {
    const sent = this.attestor ? await this.attestor(path, body ?? {}) : { body: body ?? {}, headers: {} };
    return this.request<T>('POST', path, sent.body, sent.headers);
  };
  put = <T = Record<string, unknown>>(path: string, body?: unknown): Promise<Response<T>> => this.request<T>('PUT', path, body ?? {});
  patch = <T = Record<string, unknown>>(path: string, body?: unknown): Promise<Response<T>> => this.request<T>('PATCH', path, body ?? {});
  delete = <T = Record<string, unknown>>(path: string): Promise<Response<T>> => this.request<T>('DELETE', path);
}

export interface WalletUnderTest {
  service: RunningService<WalletConfig>;
  url: string;
  schema: string;
  env: Record<string, string>;
  idp: TestIssuer;
  rolloutPath: string;
  writeRollout(entries: RolloutEntry[]): Promise<void>;
  /** A person acting for themselves. */
  person(id: string): Promise<Caller>;
  /**
   * The person's token an app's backend holds to act for them, as the identity provider issues it
   * by token exchange (RFC 8693): subject the person, `app`, `act: {sub: "<app>-backend"}`.
   */
  delegated(personId: string, app?: string): Promise<Caller>;
  /** An app's backend's own service token (`<app>-backend`, its app and scopes): it opens no person's route. */
  appBackend(app?: string): Promise<Caller>;
  as(subject: string, role: string, claims?: Record<string, unknown>): Promise<Caller>;
  /** payment-orchestration as the wallet knows it: a service with the `instruments:read` scope. */
  orchestration(): Promise<Caller>;
  anonymous(): Caller;
  /** The Pay Hub's key the wallet trusts to attest mandates (its private half signs attestations). */
  hub: { publicJwk: JWK; privateJwk: JWK; grant: Record<string, unknown> };
  stop(): Promise<void>;
}

/** A fresh master key ring for one test run: `id:base64`. */
export function testMasterKey(id = uniqueName('mk')): { id: string; spec: string } {
  return { id, spec: `${id}:${randomBytes(32).toString('base64')}` };
}

/**
 * Starts the whole wallet service in-process against the real test database (its own schema)
 * and the real Kafka broker, with a test identity provider and its own rollout file.
 */
export async function startWallet(
  options: { env?: Record<string, string>; rollout?: RolloutEntry[]; schema?: string; idp?: TestIssuer } = {},
): Promise<WalletUnderTest> {
  const idp = options.idp ?? (await createTestIssuer());
  const dir = await mkdtemp(join(tmpdir(), 'wallet-it-'));
  const rolloutPath = join(dir, 'rollout.json');
  const writeRollout = (entries: RolloutEntry[]): Promise<void> => writeFile(rolloutPath, JSON.stringify({ countries: entries }, null, 2));
  await writeRollout(options.rollout ?? DEFAULT_TEST_ROLLOUT);
  const schema = options.schema ?? uniqueName('it_wallet');
  const key = testMasterKey();
  // The Pay Hub's key, which alone attests mandates (its grant: pay-hub, mandates:attest).
  const hub = await payHubKey();
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    DATABASE_URL: testDatabaseUrl(),
    ...testKafkaEnv('wallet'),
    PORT: '0',
    LOG_LEVEL: 'debug',
    AUTH_JWKS: JSON.stringify({ keys: [...idp.jwks.keys, hub.publicJwk] }),
    AUTH_KEY_GRANTS: JSON.stringify(hub.grant),
    AUTH_ISSUER: idp.issuer,
    AUTH_AUDIENCE: idp.audience,
    ROLLOUT_CONFIG_PATH: rolloutPath,
    WALLET_MASTER_KEYS: key.spec,
    WALLET_MASTER_KEY_ID: key.id,
    // Own consumer groups: a test wallet must never answer other tests' (or services') events.
    // They keep the wallet's prefix, the only groups its principal may join under ACLs.
    PAYMENTS_LEDGER_CONSUMER_GROUP: `wallet.${schema}.payments-ledger`,
    FUNDS_COMMANDS_CONSUMER_GROUP: `wallet.${schema}.funds-commands`,
    OUTBOX_RELAY_NAME: schema,
    ...options.env,
  };
  const service = await createService<WalletConfig>({ ...walletService, schema }, env);
  const attestor = mandateAttestor(await MandateAttestationSigner.create(hub.privateJwk, { issuer: idp.issuer, audience: idp.audience }));
  const as = async (subject: string, role: string, claims: Record<string, unknown> = {}): Promise<Caller> =>
    new Caller(service.url, await idp.signTestToken({ ...claims, sub: subject, role }), attestor);
  return {
    service,
    url: service.url,
    schema,
    env,
    idp,
    rolloutPath,
    writeRollout,
    person: (id) => as(id, 'person'),
    delegated: (personId, app = 'instagram') => as(personId, 'person', { app, act: { sub: `${app}-backend` } }),
    appBackend: (app = 'instagram') =>
      as(`${app}-backend`, 'service', { app, merchants: ['merchant-1'], scope: 'history:read payments:initiate payments:read payments:refund' }),
    orchestration: () => as('payment-orchestration', 'service', { scope: 'instruments:read' }),
    as,
    anonymous: () => new Caller(service.url),
    hub,
    stop: async () => {
      await service.app.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A key pair for the Pay Hub and its grant (subject pay-hub, role service, mandates:attest): the one key the wallet takes mandate evidence from. */
export async function payHubKey(kid = uniqueName('pay-hub')): Promise<{ publicJwk: JWK; privateJwk: JWK; grant: Record<string, unknown> }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return {
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256' },
    grant: { [kid]: { subjects: [PAY_HUB_SUBJECT], roles: ['service'], scopes: [MANDATE_ATTEST_SCOPE] } },
  };
}

const BANK_ACCOUNT_ROUTE = /^\/v1\/wallets\/([^/]+)\/payment-methods\/(us-)?bank-accounts$/;

/**
 * Sends a bank account as the Pay Hub does: the `mandate` a test writes in the body (what the hub
 * saw: textVersion, ipAddress, userAgent) leaves the body and goes in the hub's signed attestation,
 * for the person of the path and the account of the body. Other requests go as they are.
 */
export function mandateAttestor(signer: MandateAttestationSigner): Attestor {
  return async (path, body): Promise<{ body: unknown; headers: Record<string, string> }> => {
    const route = BANK_ACCOUNT_ROUTE.exec(path);
    const { mandate, ...rest } = (body ?? {}) as Record<string, unknown> & { mandate?: { textVersion: string; ipAddress: string; userAgent: string } };
    if (!route || mandate === undefined || mandate === null) return { body, headers: {} };
    const account: MandatedAccount =
      typeof rest.iban === 'string'
        ? { iban: rest.iban }
        : typeof rest.financialConnectionsSession === 'string'
          ? { financialConnectionsSession: rest.financialConnectionsSession }
          : { routingNumber: String(rest.routingNumber), accountNumber: String(rest.accountNumber) };
    const attestation = await signer.sign({
      personId: decodeURIComponent(route[1]),
      account: mandateAccountDigest(account),
      textVersion: mandate.textVersion,
      ipAddress: mandate.ipAddress,
      userAgent: mandate.userAgent,
    });
    return { body: rest, headers: { [MANDATE_ATTESTATION_HEADER]: attestation } };
  };
}

/** The wallet's Stripe settings for a PSP simulator: bank accounts (IBANs, US accounts) are saved at the PSP. */
export const pspEnv = (psp: { host: string; port: number }): Record<string, string> => ({
  STRIPE_API_HOST: psp.host,
  STRIPE_API_PORT: String(psp.port),
  STRIPE_API_PROTOCOL: 'http',
});

export async function dropWalletSchema(schema: string): Promise<void> {
  await dropSchema(testDatabaseUrl(), schema);
}

export interface WalletEventMessage {
  key: string;
  envelope: { id: string; type: string; subject: string; sequence: number; data: Record<string, unknown> };
  raw: string;
}

/** Reads wallet.events.v1 from the start, keeping the messages of the given persons. */
export async function watchWalletEvents(personIds: Set<string>): Promise<{ messages: WalletEventMessage[]; stop(): Promise<void> }> {
  const messages: WalletEventMessage[] = [];
  const consumer: Consumer = testKafka().consumer({ groupId: uniqueName('it-wallet-events') });
  await consumer.connect();
  await consumer.subscribe({ topic: Topics.walletEvents, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const key = message.key?.toString() ?? '';
      if (!personIds.has(key)) return;
      const raw = message.value?.toString() ?? '';
      messages.push({ key, envelope: JSON.parse(raw) as WalletEventMessage['envelope'], raw });
    },
  });
  return { messages, stop: () => consumer.disconnect() };
}

/** Test data that passes validation. */
export const validCard = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  pspToken: `pm_${randomBytes(12).toString('hex')}`,
  brand: 'visa',
  last4: '4242',
  expMonth: 12,
  expYear: new Date().getUTCFullYear() + 3,
  country: 'US',
  ...overrides,
});

/** Luhn-valid test card numbers (public test numbers of the card schemes). */
export const CARD_NUMBERS = ['4242424242424242', '4111 1111 1111 1111', '5555-5555-5555-4444', '378282246310005'];
/** A payer's acceptance of the debit mandate, as an app sends it with a bank account (required). */
export const MANDATE = { textVersion: 'sepa-core-2026-01', ipAddress: '203.0.113.7', userAgent: 'PayTest/1.0 (Android 15)' };

export const IBANS = ['DE89 3704 0044 0532 0130 00', 'GB82WEST12345698765432', 'FR1420041010050500013M02606'];

/** Every row of every table of the schema as JSON text: what a database dump would reveal. */
export async function dumpSchema(schema: string): Promise<string> {
  const client = new Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'",
      [schema],
    );
    const parts: string[] = [];
    for (const { table_name: table } of tables.rows) {
      const rows = await client.query<{ row: string }>(`SELECT to_jsonb(t)::text AS row FROM "${schema}"."${table}" t`);
      parts.push(...rows.rows.map((row) => `${table}: ${row.row}`));
    }
    return parts.join('\n');
  } finally {
    await client.end();
  }
}

/**
 * A wallet opened in the US with a card as the Pay Hub saves it (a PaymentMethod attached to the
 * PSP customer `customerId` it was set up on), Pay on in facebook and instagram.
 */
export async function openWalletWithCard(wallet: WalletUnderTest, personId: string, customerId: string): Promise<{ methodId: string; pspToken: string }> {
  const person = await wallet.person(personId);
  expect((await person.post(`/v1/wallets/${personId}`, { country: 'US' })).status).toBe(201);
  const card = validCard({ customerId });
  const added = await person.post<{ id: string }>(`/v1/wallets/${personId}/payment-methods/cards`, card);
  expect(added.status).toBe(201);
  expect((await person.put(`/v1/wallets/${personId}/apps`, { apps: ['facebook', 'instagram'] })).status).toBe(200);
  return { methodId: added.body.id, pspToken: card.pspToken as string };
}

/** The audit of instrument releases for these payments, in the order it was written (`columns`: the SELECT list). */
export async function instrumentReleaseAudit<Row>(schema: string, paymentIds: readonly string[], columns = '*'): Promise<Row[]> {
  const client = new Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    const rows = await client.query(`SELECT ${columns} FROM "${schema}".instrument_releases WHERE payment_id = ANY($1) ORDER BY id`, [paymentIds]);
    return rows.rows as Row[];
  } finally {
    await client.end();
  }
}
