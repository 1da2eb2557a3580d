/**
 * Several instrument releases in one request (`POST /v1/payment-instruments/releases`), through the
 * whole wallet service and real payments.events.v1: each ask answered on its own under the single
 * route's rules, one SELECT and one audit INSERT for all, the same callers refused, bad bodies
 * refused whole (docs/security.md, "Instrument release").
 */
import { uniqueName } from '@pay/testing';
import { Client } from 'pg';
import { serviceLogs } from '@pay/testing/service-logs';
import { PaymentsOnKafka } from './payments-on-kafka';
import type { Caller, Response, WalletUnderTest } from './wallet-test-kit';
import { dropWalletSchema, instrumentReleaseAudit, openWalletWithCard, startWallet, validCard } from './wallet-test-kit';

jest.mock('@pay/observability', () => jest.requireActual<typeof import('@pay/testing/service-logs')>('@pay/testing/service-logs').observabilityKeepingLogs());

/** How long a release waits for a payment the wallet has not read: the unknown payment below costs the request this. */
const WAIT_MS = 1_000;
const CUSTOMER = 'cus_Batch0Customer1';
const ROUTE = '/v1/payment-instruments/releases';

interface Ask {
  paymentId: string;
  personId: string;
  methodId: string;
  app: string;
}

interface AuditRow {
  caller: string;
  payment_id: string;
  person_id: string;
  method_id: string;
  app: string;
  outcome: string;
}

interface Release {
  paymentId: string;
  status: number;
  code?: string;
  instrument?: { methodId: string; kind: string; credentials: Record<string, unknown> };
  retryAfterSeconds?: number;
}

/**
 * The statements the wallet sends while `work` runs, one entry per round trip, by the prepared
 * statement's name (or `other: <first words>` for the tables of a release): a counting hook on node-pg's client, which still
 * sends every statement to PostgreSQL (pg_stat_statements is not loaded on these machines).
 */
async function statementsDuring<T>(work: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const statements: string[] = [];
  const send = Client.prototype.query;
  const counting = jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
    const config = args[0] as string | { name?: string; text?: string } | undefined;
    const text = typeof config === 'string' ? config : (config?.text ?? '');
    // The service's other work (its outbox relay, consumers) runs meanwhile: only a release's statements are counted.
    // A statement planned once (NamedStatement.plans) travels with its BEGIN and COMMIT, prepared by SQL PREPARE on its own first.
    const alone = /^BEGIN; (?:SET LOCAL [^;]*; )?EXECUTE (wallet_instrument\w*)_begun\(.*\); COMMIT$/s.exec(text);
    if (typeof config === 'object' && config?.name) {
      if (config.name.startsWith('wallet_instrument')) statements.push(config.name);
    } else if (alone) statements.push(alone[1]);
    else if (text.startsWith('PREPARE ')) return (send as (...a: unknown[]) => unknown).apply(this, args) as never;
    else if (/payments_in_progress|instrument_releases|payment_methods/.test(text)) statements.push(`other: ${text.replace(/\s+/g, ' ').trim().slice(0, 60)}`);
    return (send as (...a: unknown[]) => unknown).apply(this, args) as never;
  });
  try {
    return { result: await work(), statements };
  } finally {
    counting.mockRestore();
  }
}

describe('wallet: several instrument releases in one request', () => {
  let wallet: WalletUnderTest;
  let payments: PaymentsOnKafka;
  let orchestration: Caller;
  const victimId = uniqueName('victim');
  const attackerId = uniqueName('attacker');
  let victimMethodId: string;
  let victimToken: string;
  let removedMethodId: string;
  let attackerMethodId: string;

  const releases = (caller: Caller, body: unknown): Promise<Response<{ releases: Release[] } & Record<string, unknown>>> => caller.request('POST', ROUTE, body);

  const audit = (paymentIds: string[]): Promise<AuditRow[]> =>
    instrumentReleaseAudit<AuditRow>(wallet.schema, paymentIds, 'caller, payment_id, person_id, method_id, app, outcome');

  beforeAll(async () => {
    wallet = await startWallet({ env: { INSTRUMENT_RELEASE_WAIT_MS: String(WAIT_MS) } });
    payments = new PaymentsOnKafka(wallet);
    orchestration = await wallet.orchestration();
    ({ methodId: victimMethodId, pspToken: victimToken } = await openWalletWithCard(wallet, victimId, CUSTOMER));
    ({ methodId: attackerMethodId } = await openWalletWithCard(wallet, attackerId, CUSTOMER));
    const victim = await wallet.person(victimId);
    const second = await victim.post<{ id: string }>(`/v1/wallets/${victimId}/payment-methods/cards`, validCard({ customerId: CUSTOMER }));
    expect(second.status).toBe(201);
    removedMethodId = second.body.id;
    expect((await victim.delete(`/v1/wallets/${victimId}/payment-methods/${removedMethodId}`)).status).toBe(204);
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await payments?.disconnect();
    await wallet?.stop();
    if (wallet) await dropWalletSchema(wallet.schema);
  });

  it("answers each ask on its own, with the single route's status and code, in one SELECT and one audit INSERT", async () => {
    const victim = { personId: victimId, methodId: victimMethodId };
    const awaiting = await payments.initiated(victim);
    const attackers = await payments.initiated({ personId: attackerId, methodId: attackerMethodId });
    const captured = await payments.initiated(victim);
    await payments.captured(captured, victimId);
    const neverSeen = uniqueName('pay-forged');
    const onRemoved = await payments.initiated({ personId: victimId, methodId: removedMethodId });
    const asks: Ask[] = [
      { paymentId: awaiting, ...victim, app: 'facebook' },
      // The attacker's own payment does not open the victim's card.
      { paymentId: attackers, ...victim, app: 'facebook' },
      // The victim's card under the attacker's id: not the attacker's method.
      { paymentId: attackers, personId: attackerId, methodId: victimMethodId, app: 'facebook' },
      { paymentId: captured, ...victim, app: 'facebook' },
      { paymentId: neverSeen, ...victim, app: 'facebook' },
      // Pay is not on in messenger for the victim.
      { paymentId: awaiting, ...victim, app: 'messenger' },
      { paymentId: onRemoved, personId: victimId, methodId: removedMethodId, app: 'facebook' },
      { paymentId: awaiting, personId: uniqueName('nobody'), methodId: victimMethodId, app: 'facebook' },
      // The same ask twice (a step retried) is answered twice.
      { paymentId: awaiting, ...victim, app: 'facebook' },
    ];

    const { result: response, statements } = await statementsDuring(() => releases(orchestration, { releases: asks }));

    expect(response.status).toBe(200);
    const got = response.body.releases;
    expect(got.map((r) => [r.paymentId, r.status, r.code])).toEqual([
      [awaiting, 200, undefined],
      [attackers, 404, 'PAYMENT_NOT_FOUND'],
      [attackers, 404, 'PAYMENT_METHOD_NOT_FOUND'],
      [captured, 409, 'PAYMENT_NOT_AWAITING_CHARGE'],
      [neverSeen, 503, 'PAYMENT_NOT_KNOWN_YET'],
      [awaiting, 403, 'PAY_NOT_ACTIVE_IN_APP'],
      [onRemoved, 409, 'PAYMENT_METHOD_REMOVED'],
      [awaiting, 404, 'NOT_FOUND'],
      [awaiting, 200, undefined],
    ]);
    expect(got[0].instrument).toEqual({ methodId: victimMethodId, kind: 'card', credentials: { pspToken: victimToken, customer: CUSTOMER } });
    expect(got[8].instrument).toEqual(got[0].instrument);
    expect(got[4].retryAfterSeconds).toBe(1);
    // Nothing but the released items carries the token.
    for (const refused of got.filter((r) => r.status !== 200)) expect(JSON.stringify(refused)).not.toContain(victimToken);

    // One read for all the asks, one read again of the payment still unknown after the wait, one audit INSERT.
    expect(statements).toEqual(['wallet_instrument_releases', expect.stringMatching(/^other: SELECT payment_id AS "paymentId"/), 'wallet_instrument_audit']);

    // Every ask that reached the payment's rule is audited once, as the single route audits it.
    const rows = await audit([awaiting, attackers, captured, neverSeen, onRemoved]);
    const caller = 'service:payment-orchestration';
    expect(rows).toEqual([
      { caller, payment_id: awaiting, person_id: victimId, method_id: victimMethodId, app: 'facebook', outcome: 'released' },
      { caller, payment_id: attackers, person_id: victimId, method_id: victimMethodId, app: 'facebook', outcome: 'PAYMENT_NOT_FOUND' },
      { caller, payment_id: captured, person_id: victimId, method_id: victimMethodId, app: 'facebook', outcome: 'PAYMENT_NOT_AWAITING_CHARGE' },
      { caller, payment_id: neverSeen, person_id: victimId, method_id: victimMethodId, app: 'facebook', outcome: 'PAYMENT_NOT_KNOWN_YET' },
      { caller, payment_id: awaiting, person_id: victimId, method_id: victimMethodId, app: 'facebook', outcome: 'released' },
    ]);
  });

  it('answers asks whose payments are known in one statement, without waiting', async () => {
    const asks: Ask[] = [];
    for (let i = 0; i < 3; i++) {
      asks.push({
        paymentId: await payments.initiated({ personId: victimId, methodId: victimMethodId }),
        personId: victimId,
        methodId: victimMethodId,
        app: 'facebook',
      });
    }
    const started = Date.now();
    const { result: response, statements } = await statementsDuring(() => releases(orchestration, { releases: asks }));
    expect(Date.now() - started).toBeLessThan(WAIT_MS);
    expect(response.body.releases.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(statements).toEqual(['wallet_instrument_releases', 'wallet_instrument_audit']);
    expect((await audit(asks.map((a) => a.paymentId))).map((row) => row.outcome)).toEqual(['released', 'released', 'released']);
  });

  it('waits for a payment whose initiation the wallet reads while the release is asked', async () => {
    const late = uniqueName('pay-late');
    const asked = releases(orchestration, { releases: [{ paymentId: late, personId: victimId, methodId: victimMethodId, app: 'facebook' }] });
    await payments.initiated({ personId: victimId, methodId: victimMethodId }, late);
    expect((await asked).body.releases).toMatchObject([{ paymentId: late, status: 200, instrument: { credentials: { pspToken: victimToken } } }]);
  });

  it('opens only to payment-orchestration: a person, an app backend, a service without the scope or another subject with it, an operator get 403 and nothing', async () => {
    const paymentId = await payments.initiated({ personId: victimId, methodId: victimMethodId });
    const body = { releases: [{ paymentId, personId: victimId, methodId: victimMethodId, app: 'facebook' }] };
    const refused: Array<[Caller, number]> = [
      [await wallet.person(victimId), 403],
      [await wallet.as('instagram-backend', 'service', { app: 'instagram', scope: 'payments:initiate payments:read' }), 403],
      [await wallet.as('support', 'service'), 403],
      [await wallet.as('support', 'service', { scope: 'instruments:write' }), 403],
      // The scope alone does not do: an identity provider's key signs it for any subject.
      [await wallet.as('support', 'service', { scope: 'instruments:read' }), 403],
      [await wallet.as('instagram-backend', 'service', { app: 'instagram', scope: 'instruments:read' }), 403],
      [await wallet.delegated(victimId), 403],
      [await wallet.as('sre-1', 'operator'), 403],
      [await wallet.as('analyst-1', 'analyst'), 403],
      [wallet.anonymous(), 401],
    ];
    for (const [caller, status] of refused) {
      const response = await releases(caller, body);
      expect(response.status).toBe(status);
      expect(JSON.stringify(response.body)).not.toContain(victimToken);
      expect(response.body.releases).toBeUndefined();
    }
    expect(await audit([paymentId])).toEqual([]);
    // The same body from orchestration is released.
    expect((await releases(orchestration, body)).body.releases[0].status).toBe(200);
  });

  it('refuses a bad body whole (400), reading, releasing and auditing nothing', async () => {
    const paymentId = await payments.initiated({ personId: victimId, methodId: victimMethodId });
    const good = { paymentId, personId: victimId, methodId: victimMethodId, app: 'facebook' };
    const bad: unknown[] = [
      {},
      { releases: [] },
      { releases: 'all' },
      { releases: Array.from({ length: 65 }, () => good) },
      { releases: [good, { ...good, methodId: 'not-a-uuid' }] },
      { releases: [good, { ...good, app: 'myspace' }] },
      { releases: [good, { ...good, paymentId: 'pay with spaces' }] },
      { releases: [good, { ...good, personId: undefined }] },
      { releases: [good, { ...good, extra: 'field' }] },
      { releases: [good, null] },
      { releases: [good], more: true },
    ];
    for (const body of bad) {
      const { result: response, statements } = await statementsDuring(() => releases(orchestration, body));
      expect([response.status, response.body.code]).toEqual([400, 'VALIDATION_FAILED']);
      expect(JSON.stringify(response.body)).not.toContain(victimToken);
      expect(statements).toEqual([]);
    }
    expect(await audit([paymentId])).toEqual([]);
  });

  it('describes the route in the OpenAPI document', async () => {
    const document = (await (await fetch(`${wallet.url}/docs/json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    const route = document.paths[ROUTE]?.post;
    expect(route).toBeDefined();
    expect(Object.keys(route.responses)).toEqual(expect.arrayContaining(['200', '400', '403']));
    expect(Object.keys(document.components.schemas.InstrumentReleasesBody.properties ?? {})).toEqual(['releases']);
    expect(Object.keys(document.components.schemas.InstrumentReleaseAskBody.properties ?? {}).sort()).toEqual(['app', 'methodId', 'paymentId', 'personId']);
    expect(Object.keys(document.components.schemas.InstrumentReleaseView.properties ?? {})).toEqual(
      expect.arrayContaining(['paymentId', 'status', 'instrument', 'code']),
    );
  });

  it('keeps the tokens out of the logs', () => {
    expect(serviceLogs.join('')).not.toContain(victimToken);
  });
});
