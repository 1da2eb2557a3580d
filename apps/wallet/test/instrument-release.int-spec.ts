/**
 * Instrument release tied to a payment awaiting its charge (docs/security.md, "Instrument
 * release"), through the whole wallet service and real payments.events.v1: what an attacker
 * holding payment-orchestration's token would try, each refused with nothing released, and the
 * audit of every ask.
 */
import { testDatabaseUrl, uniqueName } from '@pay/testing';
import { Client } from 'pg';
import { serviceLogs } from '@pay/testing/service-logs';
import { PaymentsOnKafka } from './payments-on-kafka';
import type { Caller, WalletUnderTest } from './wallet-test-kit';
import { dropWalletSchema, instrumentReleaseAudit, openWalletWithCard, startWallet } from './wallet-test-kit';

jest.mock('@pay/observability', () => jest.requireActual<typeof import('@pay/testing/service-logs')>('@pay/testing/service-logs').observabilityKeepingLogs());

/** Long enough for the wallet to read an initiation published while a release waits, on a busy machine. */
const WAIT_MS = 6_000;
const VICTIM_CUSTOMER = 'cus_Victim0Customer1';

interface AuditRow {
  caller: string;
  payment_id: string;
  person_id: string;
  method_id: string;
  app: string;
  outcome: string;
  asked_at: Date;
}

describe('wallet: a payment instrument is released only for a payment of its owner awaiting its charge', () => {
  let wallet: WalletUnderTest;
  let payments: PaymentsOnKafka;
  let orchestration: Caller;
  const victimId = uniqueName('victim');
  const attackerId = uniqueName('attacker');
  let victimMethodId: string;
  let victimToken: string;
  let attackerMethodId: string;

  const release = (personId: string, methodId: string, paymentId?: string, app = 'facebook') =>
    orchestration.get<Record<string, unknown>>(
      `/v1/wallets/${personId}/payment-instruments/${methodId}?app=${app}${paymentId === undefined ? '' : `&paymentId=${encodeURIComponent(paymentId)}`}`,
    );

  const audit = (paymentId: string): Promise<AuditRow[]> => instrumentReleaseAudit<AuditRow>(wallet.schema, [paymentId]);

  beforeAll(async () => {
    wallet = await startWallet({ env: { INSTRUMENT_RELEASE_WAIT_MS: String(WAIT_MS) } });
    payments = new PaymentsOnKafka(wallet);
    orchestration = await wallet.orchestration();
    ({ methodId: victimMethodId, pspToken: victimToken } = await openWalletWithCard(wallet, victimId, VICTIM_CUSTOMER));
    ({ methodId: attackerMethodId } = await openWalletWithCard(wallet, attackerId, VICTIM_CUSTOMER));
  });

  afterAll(async () => {
    await payments?.disconnect();
    await wallet?.stop();
    if (wallet) await dropWalletSchema(wallet.schema);
  });

  it('releases the card for a payment of its owner awaiting its charge, and audits who asked for which payment', async () => {
    const paymentId = await payments.initiated({ personId: victimId, methodId: victimMethodId });
    expect(await release(victimId, victimMethodId, paymentId)).toMatchObject({
      status: 200,
      body: { methodId: victimMethodId, kind: 'card', credentials: { pspToken: victimToken, customer: VICTIM_CUSTOMER } },
    });
    const rows = await audit(paymentId);
    expect(rows).toEqual([
      {
        id: expect.any(String),
        caller: 'service:payment-orchestration',
        payment_id: paymentId,
        person_id: victimId,
        method_id: victimMethodId,
        app: 'facebook',
        outcome: 'released',
        asked_at: expect.any(Date),
      },
    ]);
    // The audit names the release, never what was released.
    expect(JSON.stringify(rows)).not.toContain(victimToken);
    expect(JSON.stringify(rows)).not.toContain(VICTIM_CUSTOMER);
  });

  it('waits for a payment whose initiation the wallet reads while the release is asked', async () => {
    const paymentId = uniqueName('pay-late');
    const asked = release(victimId, victimMethodId, paymentId);
    await payments.initiated({ personId: victimId, methodId: victimMethodId }, paymentId);
    expect(await asked).toMatchObject({ status: 200, body: { credentials: { pspToken: victimToken } } });
    expect((await audit(paymentId)).map((row) => row.outcome)).toEqual(['released']);
  });

  it('asks for the payment, and gives nothing for one the wallet never saw (503 after the wait, ask again), audited', async () => {
    const missing = await release(victimId, victimMethodId);
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body)).toContain('paymentId');
    const forged = uniqueName('pay-forged');
    const started = Date.now();
    const response = await fetch(`${wallet.url}/v1/wallets/${victimId}/payment-instruments/${victimMethodId}?app=facebook&paymentId=${forged}`, {
      headers: { authorization: `Bearer ${orchestration.token}` },
    });
    const text = await response.text();
    expect(response.status).toBe(503);
    expect(JSON.parse(text)).toMatchObject({ code: 'PAYMENT_NOT_KNOWN_YET' });
    expect(response.headers.get('retry-after')).toBe('1');
    expect(text).not.toContain(victimToken);
    // It waited for the payment (INSTRUMENT_RELEASE_WAIT_MS) before giving up.
    expect(Date.now() - started).toBeGreaterThanOrEqual(WAIT_MS - 100);
    expect((await audit(forged)).map((row) => row.outcome)).toEqual(['PAYMENT_NOT_KNOWN_YET']);
  });

  it("gives nothing for another person's instrument: the attacker's own payment does not open the victim's card", async () => {
    const attackersPayment = await payments.initiated({ personId: attackerId, methodId: attackerMethodId });
    // The victim's card under the victim's id, for the attacker's payment.
    const viaVictim = await release(victimId, victimMethodId, attackersPayment);
    expect(viaVictim).toMatchObject({ status: 404, body: { code: 'PAYMENT_NOT_FOUND' } });
    // The victim's card under the attacker's id: not the attacker's method.
    expect(await release(attackerId, victimMethodId, attackersPayment)).toMatchObject({ status: 404, body: { code: 'PAYMENT_METHOD_NOT_FOUND' } });
    // The attacker's payment initiated naming the victim's card: still paid by the attacker, so nothing.
    const namingVictimsCard = await payments.initiated({ personId: attackerId, methodId: victimMethodId });
    expect(await release(victimId, victimMethodId, namingVictimsCard)).toMatchObject({ status: 404, body: { code: 'PAYMENT_NOT_FOUND' } });
    // The victim's payment in facebook does not release the card for instagram, nor another of the victim's methods.
    const victimsPayment = await payments.initiated({ personId: victimId, methodId: victimMethodId });
    expect(await release(victimId, victimMethodId, victimsPayment, 'instagram')).toMatchObject({ status: 404, body: { code: 'PAYMENT_NOT_FOUND' } });
    for (const body of [viaVictim.body]) expect(JSON.stringify(body)).not.toContain(victimToken);
    expect((await audit(attackersPayment)).map((row) => [row.person_id, row.outcome])).toEqual([[victimId, 'PAYMENT_NOT_FOUND']]);
  });

  it('gives nothing twice: once the payment is captured, failed or cancelled, its instrument stays in the wallet', async () => {
    const captured = await payments.initiated({ personId: victimId, methodId: victimMethodId });
    expect((await release(victimId, victimMethodId, captured)).status).toBe(200);
    // A retry of the same step before the payment moved on is answered again.
    expect((await release(victimId, victimMethodId, captured)).status).toBe(200);
    await payments.captured(captured, victimId);
    const again = await release(victimId, victimMethodId, captured);
    expect(again).toMatchObject({ status: 409, body: { code: 'PAYMENT_NOT_AWAITING_CHARGE' } });
    expect(JSON.stringify(again.body)).not.toContain(victimToken);

    const failed = await payments.initiated({ personId: victimId, methodId: victimMethodId });
    await payments.failed(failed);
    expect(await release(victimId, victimMethodId, failed)).toMatchObject({ status: 409, body: { code: 'PAYMENT_NOT_AWAITING_CHARGE' } });

    const canceled = await payments.initiated({ personId: victimId, methodId: victimMethodId });
    await payments.canceled(canceled);
    expect(await release(victimId, victimMethodId, canceled)).toMatchObject({ status: 409, body: { code: 'PAYMENT_NOT_AWAITING_CHARGE' } });

    // Its end seen before its start (a payment id the attacker replays): the start opens nothing.
    const endedFirst = uniqueName('pay');
    await payments.failed(endedFirst);
    await payments.initiated({ personId: victimId, methodId: victimMethodId }, endedFirst);
    expect(await release(victimId, victimMethodId, endedFirst)).toMatchObject({ status: 409, body: { code: 'PAYMENT_NOT_AWAITING_CHARGE' } });

    expect((await audit(captured)).map((row) => row.outcome)).toEqual(['released', 'released', 'PAYMENT_NOT_AWAITING_CHARGE']);
  });

  it('keeps the audit append-only: UPDATE, DELETE and TRUNCATE are refused, even for the table owner', async () => {
    const paymentId = await payments.initiated({ personId: victimId, methodId: victimMethodId });
    expect((await release(victimId, victimMethodId, paymentId)).status).toBe(200);
    const before = await audit(paymentId);
    expect(before.map((row) => row.outcome)).toEqual(['released']);
    const client = new Client({ connectionString: testDatabaseUrl() });
    await client.connect();
    const refused = async (sql: string, parameters: unknown[] = []): Promise<string> =>
      client.query(sql, parameters).then(
        () => 'no error',
        (error: Error) => error.message,
      );
    try {
      const table = `"${wallet.schema}".instrument_releases`;
      // The test connects as the role the migrations ran as (here a superuser): the trigger still refuses.
      expect(await refused(`UPDATE ${table} SET outcome = 'PAYMENT_NOT_FOUND', caller = 'service:nobody' WHERE payment_id = $1`, [paymentId])).toMatch(
        /instrument_releases is an append-only audit: UPDATE is not allowed/,
      );
      expect(await refused(`DELETE FROM ${table} WHERE payment_id = $1`, [paymentId])).toMatch(/append-only audit: DELETE is not allowed/);
      expect(await refused(`TRUNCATE ${table}`)).toMatch(/append-only audit: TRUNCATE is not allowed/);
      // Statement-level: even a change that matches no row is refused.
      expect(await refused(`DELETE FROM ${table} WHERE false`)).toMatch(/append-only audit: DELETE is not allowed/);
      // Appending still works (the wallet only ever inserts).
      const other = await payments.initiated({ personId: victimId, methodId: victimMethodId });
      expect((await release(victimId, victimMethodId, other)).status).toBe(200);
    } finally {
      await client.end();
    }
    expect(await audit(paymentId)).toEqual(before);
  });

  it('keeps the tokens out of the logs', () => {
    expect(serviceLogs.join('')).not.toContain(victimToken);
  });
});
