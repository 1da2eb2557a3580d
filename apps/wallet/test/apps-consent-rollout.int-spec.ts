import { uniqueName, waitFor } from '@pay/testing';
import { serviceLogs } from '@pay/testing/service-logs';
import { findSecrets } from './log-secrets';
import type { Caller, WalletUnderTest } from './wallet-test-kit';
import { DEFAULT_TEST_ROLLOUT, dropWalletSchema, dumpSchema, startWallet, validCard } from './wallet-test-kit';

jest.mock('@pay/observability', () => jest.requireActual<typeof import('@pay/testing/service-logs')>('@pay/testing/service-logs').observabilityKeepingLogs());

interface WalletBody {
  apps: string[];
  availableApps: string[];
  consents: { adMeasurement: { granted: boolean; source: string } };
  contact: { email?: string; phone?: string };
}

const EMAIL = 'receipts.for.lena@example.org';
const PHONE = '+49 151 2345 6789';

describe('wallet: Pay per app, consent, contact details and the rollout', () => {
  let wallet: WalletUnderTest;

  beforeAll(async () => {
    wallet = await startWallet({ env: { AD_CONSENT_GRANTED_BY_DEFAULT_COUNTRIES: 'fr' } });
  });

  afterAll(async () => {
    await wallet?.stop();
    if (wallet) await dropWalletSchema(wallet.schema);
    expect(findSecrets(serviceLogs.join(''), { emails: [EMAIL], phones: [PHONE] })).toEqual([]);
  });

  async function open(country: string): Promise<{ id: string; caller: Caller; status: number; body: Record<string, unknown> }> {
    const id = uniqueName('p');
    const caller = await wallet.person(id);
    const response = await caller.post(`/v1/wallets/${id}`, { country });
    return { id, caller, ...response };
  }

  it('opens wallets only where Pay is live, with a clear error elsewhere', async () => {
    expect(await open('JP')).toMatchObject({
      status: 403,
      body: { code: 'PAY_NOT_AVAILABLE_IN_COUNTRY', message: 'Pay is not available in JP yet', country: 'JP' },
    });
    expect((await open('ZZ')).status).toBe(400);
    const de = await open('DE');
    expect(de).toMatchObject({ status: 201, body: { country: 'DE', apps: [], availableApps: ['facebook', 'messenger'] } });
    expect((await de.caller.post(`/v1/wallets/${de.id}`, { country: 'DE' })).body).toMatchObject({ code: 'WALLET_EXISTS' });
  });

  it("starts ad-measurement consent off everywhere (on only where configured explicitly), and records the person's choice", async () => {
    const de = await open('DE');
    expect((de.body as unknown as WalletBody).consents.adMeasurement).toMatchObject({ granted: false, source: 'default' });
    const us = await open('US');
    expect((us.body as unknown as WalletBody).consents.adMeasurement).toMatchObject({ granted: false, source: 'default' });
    // FR is listed in AD_CONSENT_GRANTED_BY_DEFAULT_COUNTRIES for this test: the one way consent starts on.
    const fr = await open('FR');
    expect((fr.body as unknown as WalletBody).consents.adMeasurement).toMatchObject({ granted: true, source: 'default' });
    expect(await us.caller.put(`/v1/wallets/${us.id}/consents/ad-measurement`, { granted: true })).toMatchObject({
      status: 200,
      body: { granted: true, source: 'person' },
    });

    expect(await de.caller.put(`/v1/wallets/${de.id}/consents/ad-measurement`, { granted: true })).toMatchObject({
      status: 200,
      body: { granted: true, source: 'person' },
    });
    expect(await us.caller.put(`/v1/wallets/${us.id}/consents/ad-measurement`, { granted: false })).toMatchObject({
      status: 200,
      body: { granted: false, source: 'person' },
    });
    expect((await us.caller.get<WalletBody>(`/v1/wallets/${us.id}`)).body.consents.adMeasurement).toMatchObject({ granted: false, source: 'person' });
  });

  it("lets only the person set ad-measurement consent: no service, whatever its scopes, no backend holding the person's token, and nothing changes", async () => {
    const { id, caller } = await open('US');
    const services = [await wallet.appBackend(), await wallet.delegated(id), await wallet.orchestration(), await wallet.as('ad-signal-aggregation', 'service')];
    for (const service of services) {
      expect(await service.put(`/v1/wallets/${id}/consents/ad-measurement`, { granted: true })).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    }
    for (const role of ['analyst', 'operator', 'advertiser']) {
      const other = await wallet.as(`x-${role}`, role, role === 'advertiser' ? { merchants: ['m-1'], org: 'o-1' } : {});
      expect((await other.put(`/v1/wallets/${id}/consents/ad-measurement`, { granted: true })).status).toBe(403);
    }
    expect((await caller.get<WalletBody>(`/v1/wallets/${id}`)).body.consents.adMeasurement).toMatchObject({ granted: false, source: 'default' });
    expect(await caller.put(`/v1/wallets/${id}/consents/ad-measurement`, { granted: true })).toMatchObject({
      status: 200,
      body: { granted: true, source: 'person' },
    });
  });

  it('turns Pay on and off per app or all at once, only in apps where it is live', async () => {
    const { id, caller } = await open('DE');
    expect(await caller.put(`/v1/wallets/${id}/apps/messenger`, { enabled: true })).toMatchObject({ status: 200, body: { apps: ['messenger'] } });
    expect(await caller.put(`/v1/wallets/${id}/apps/whatsapp`, { enabled: true })).toMatchObject({
      status: 403,
      body: { code: 'PAY_NOT_AVAILABLE_IN_APP', message: 'Pay is not available in whatsapp in this country yet; it is available in facebook, messenger' },
    });
    expect(await caller.put(`/v1/wallets/${id}/apps`, { apps: ['messenger', 'facebook'] })).toMatchObject({
      status: 200,
      body: { apps: ['facebook', 'messenger'] },
    });
    expect(await caller.put(`/v1/wallets/${id}/apps/facebook`, { enabled: false })).toMatchObject({ status: 200, body: { apps: ['messenger'] } });
    expect(await caller.put(`/v1/wallets/${id}/apps`, { apps: [] })).toMatchObject({ status: 200, body: { apps: [] } });
    expect(await caller.put(`/v1/wallets/${id}/apps`, { apps: ['facebook', 'facebook'] })).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    expect(await caller.put(`/v1/wallets/${id}/apps/myspace`, { enabled: true })).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    expect((await caller.get<WalletBody>(`/v1/wallets/${id}`)).body.apps).toEqual([]);
  });

  it('keeps contact details encrypted and shows them masked', async () => {
    const { id, caller } = await open('US');
    expect(await caller.put(`/v1/wallets/${id}/contact`, { email: EMAIL, phone: PHONE })).toEqual({
      status: 200,
      body: { email: 'r•••@example.org', phone: '+49•••••••••89' },
    });
    expect(await caller.put(`/v1/wallets/${id}/contact`, { email: 'not-an-address' })).toMatchObject({
      status: 400,
      body: { code: 'EMAIL_INVALID', field: 'email' },
    });
    expect(await caller.put(`/v1/wallets/${id}/contact`, { phone: null })).toEqual({ status: 200, body: { email: 'r•••@example.org' } });
    expect((await caller.get<WalletBody>(`/v1/wallets/${id}`)).body.contact).toEqual({ email: 'r•••@example.org' });
    const [row] = await wallet.service.runtime.dataSource.query<
      {
        contact_email: string;
        contact_phone: string | null;
      }[]
    >('SELECT contact_email, contact_phone FROM wallets WHERE person_id = $1', [id]);
    expect(row.contact_email).toMatch(/^v1\./);
    expect(row.contact_phone).toBeNull();
    expect(findSecrets(await dumpSchema(wallet.schema), { emails: [EMAIL], phones: [PHONE] })).toEqual([]);
  });

  it('reloads the rollout when its file changes, without restart; a bad file keeps the live rollout', async () => {
    const operator = await wallet.as('sre-on-call', 'operator');
    const { id, caller } = await open('DE');
    expect((await caller.put(`/v1/wallets/${id}/apps/whatsapp`, { enabled: true })).status).toBe(403);

    await wallet.writeRollout([
      ...DEFAULT_TEST_ROLLOUT.filter((entry) => entry.country !== 'DE'),
      { country: 'DE', apps: ['facebook', 'messenger', 'whatsapp'] },
      { country: 'JP', apps: ['instagram'] },
    ]);
    await waitFor(
      () => operator.get<{ countries: { country: string; apps: string[] }[] }>('/v1/rollout'),
      (response) => response.body.countries.some((entry) => entry.country === 'JP'),
      { timeoutMs: 10_000 },
    );
    expect(await caller.put(`/v1/wallets/${id}/apps/whatsapp`, { enabled: true })).toMatchObject({ status: 200, body: { apps: ['whatsapp'] } });
    expect((await open('JP')).status).toBe(201);

    const before = (await operator.get<{ digest: string }>('/v1/rollout')).body.digest;
    await wallet.writeRollout([{ country: 'DE', apps: ['telegram'] }]);
    await waitFor(
      () => serviceLogs.join(''),
      (logs) => logs.includes('rollout reload refused'),
      { timeoutMs: 10_000 },
    );
    const reload = await operator.post<{ digest: string; error?: string }>('/v1/rollout/reload');
    expect(reload).toMatchObject({ status: 200, body: { digest: before, error: expect.stringMatching(/each app must be one of/) } });
    expect((await open('JP')).status).toBe(201);
  });

  it('stops new payments in a country taken out of the rollout, but lets people see and switch off what they have', async () => {
    const { id, caller } = await open('FR');
    const card = await caller.post<{ id: string }>(`/v1/wallets/${id}/payment-methods/cards`, validCard());
    expect(card.status).toBe(201);
    expect((await caller.put(`/v1/wallets/${id}/apps`, { apps: ['facebook'] })).status).toBe(200);
    expect((await caller.post(`/v1/wallets/${id}/pin`, { pin: '730264' })).status).toBe(204);

    await wallet.writeRollout(DEFAULT_TEST_ROLLOUT.filter((entry) => entry.country !== 'FR'));
    const operator = await wallet.as('sre-on-call', 'operator');
    await waitFor(
      () => operator.get<{ countries: { country: string }[] }>('/v1/rollout'),
      (response) => !response.body.countries.some((entry) => entry.country === 'FR'),
      { timeoutMs: 10_000 },
    );
    const notLive = { status: 403, body: { code: 'PAY_NOT_AVAILABLE_IN_COUNTRY', message: 'Pay is not available in FR yet' } };
    expect(await caller.post(`/v1/wallets/${id}/payment-methods/cards`, validCard())).toMatchObject(notLive);
    expect(await caller.post(`/v1/wallets/${id}/step-up/pin`, { pin: '730264', ceiling: { amount: '100', currency: 'EUR' } })).toMatchObject(notLive);
    expect(await (await wallet.orchestration()).get(`/v1/wallets/${id}/payment-instruments/${card.body.id}?app=facebook&paymentId=pay_probe`)).toMatchObject(
      notLive,
    );
    expect(await caller.put(`/v1/wallets/${id}/apps/facebook`, { enabled: true })).toMatchObject({ status: 200 });
    expect(await caller.get<WalletBody>(`/v1/wallets/${id}`)).toMatchObject({ status: 200, body: { availableApps: [] } });
    expect(await caller.put(`/v1/wallets/${id}/apps`, { apps: [] })).toMatchObject({ status: 200, body: { apps: [] } });
    expect((await caller.delete(`/v1/wallets/${id}/payment-methods/${card.body.id}`)).status).toBe(204);
  });
});
