import { parseEvent } from '@pay/contracts';
import type { PspSimulator } from '@pay/psp-simulator';
import { startPspSimulator } from '@pay/psp-simulator';
import { uniqueName, waitFor } from '@pay/testing';
import { serviceLogs } from '@pay/testing/service-logs';
import { findSecrets } from './log-secrets';
import type { Caller, WalletEventMessage, WalletUnderTest } from './wallet-test-kit';
import { dropWalletSchema, MANDATE, pspEnv, startWallet, validCard, watchWalletEvents } from './wallet-test-kit';

jest.mock('@pay/observability', () => jest.requireActual<typeof import('@pay/testing/service-logs')>('@pay/testing/service-logs').observabilityKeepingLogs());

const SECRETS = {
  pins: ['730264', '591837', '482915'],
  ibans: ['DE89 3704 0044 0532 0130 00'],
  emails: ['events.person@example.com', 'events.paypal@example.com'],
  phones: ['+49 151 9876 5432'],
  holderNames: ['Eva Event-Holder'],
};
const PSP_TOKEN = 'pm_EventsTokenNeverPublished1';
const LABEL = 'My secret label';

describe('wallet.events.v1: every change, in order per person, never a secret', () => {
  let wallet: WalletUnderTest;
  let psp: PspSimulator;
  let events: Awaited<ReturnType<typeof watchWalletEvents>>;
  const eva = uniqueName('eva');
  const max = uniqueName('max');
  const ida = uniqueName('ida');

  beforeAll(async () => {
    // Bank accounts are saved at the PSP: the simulator.
    psp = await startPspSimulator();
    wallet = await startWallet({ env: pspEnv(psp) });
    events = await watchWalletEvents(new Set([eva, max, ida]));
  });

  afterAll(async () => {
    await events?.stop();
    await wallet?.stop();
    await psp?.close();
    if (wallet) await dropWalletSchema(wallet.schema);
    expect(findSecrets(serviceLogs.join(''), SECRETS)).toEqual([]);
  });

  const of = (person: string): WalletEventMessage[] => events.messages.filter((message) => message.key === person);

  it('publishes each change of a person as one event, keyed by the person, numbered 1, 2, 3 …', async () => {
    const caller: Caller = await wallet.person(eva);
    const base = `/v1/wallets/${eva}`;
    expect((await caller.post(base, { country: 'DE' })).status).toBe(201);
    expect((await caller.put(`${base}/apps`, { apps: ['facebook', 'messenger'] })).status).toBe(200);
    const card = await caller.post<{ id: string }>(`${base}/payment-methods/cards`, validCard({ pspToken: PSP_TOKEN, label: LABEL }));
    const bank = await caller.post<{ id: string }>(`${base}/payment-methods/bank-accounts`, {
      iban: SECRETS.ibans[0],
      holderName: SECRETS.holderNames[0],
      holderEmail: SECRETS.emails[0],
      mandate: MANDATE,
    });
    expect((await caller.post(`${base}/payment-methods/paypal-accounts`, { payerId: 'QYR5Z8XDVJNXQ', email: SECRETS.emails[1] })).status).toBe(201);
    expect((await caller.patch(`${base}/payment-methods/${card.body.id}`, { label: 'Renamed secretly' })).status).toBe(200);
    expect((await caller.put(`${base}/payment-methods/${bank.body.id}/preferred`)).status).toBe(200);
    expect((await caller.delete(`${base}/payment-methods/${card.body.id}`)).status).toBe(204);
    expect((await caller.post(`${base}/pin`, { pin: SECRETS.pins[0] })).status).toBe(204);
    expect((await caller.put(`${base}/pin`, { currentPin: SECRETS.pins[0], newPin: SECRETS.pins[1] })).status).toBe(204);
    expect((await caller.post(`${base}/step-up/pin`, { pin: SECRETS.pins[2], ceiling: { amount: '100', currency: 'EUR' } })).status).toBe(403);
    expect((await caller.post(`${base}/step-up/pin`, { pin: SECRETS.pins[1], ceiling: { amount: '2500', currency: 'EUR' } })).status).toBe(201);
    expect((await caller.put(`${base}/consents/ad-measurement`, { granted: true })).status).toBe(200);
    expect((await caller.put(`${base}/contact`, { email: SECRETS.emails[0], phone: SECRETS.phones[0] })).status).toBe(200);
    expect((await caller.put(`${base}/apps/messenger`, { enabled: false })).status).toBe(200);

    const expected = [
      'wallet.wallet.opened',
      'wallet.consent.changed',
      'wallet.apps.changed',
      'wallet.payment-method.added',
      'wallet.payment-method.added',
      'wallet.payment-method.added',
      'wallet.payment-method.renamed',
      'wallet.payment-method.made-preferred',
      'wallet.payment-method.removed',
      'wallet.pin.set',
      'wallet.pin.changed',
      'wallet.pin.attempt-failed',
      'wallet.step-up.granted',
      'wallet.consent.changed',
      'wallet.contact.changed',
      'wallet.apps.changed',
    ];
    const received = await waitFor(
      () => of(eva),
      (messages) => messages.length >= expected.length,
      { timeoutMs: 30_000 },
    );
    expect(received.map((message) => message.envelope.type)).toEqual(expected);
    expect(received.map((message) => message.envelope.sequence)).toEqual(expected.map((_, i) => i + 1));
    for (const message of received) {
      expect(message.envelope).toMatchObject({ subject: eva, source: 'wallet', data: { personId: eva, actor: `person:${eva}` } });
      expect(() => parseEvent(JSON.parse(message.raw))).not.toThrow();
    }
    expect(received[2].envelope.data).toMatchObject({ apps: ['facebook', 'messenger'], enabled: ['facebook', 'messenger'], disabled: [] });
    expect(received[15].envelope.data).toMatchObject({ apps: ['facebook'], enabled: [], disabled: ['messenger'] });
    expect(received[1].envelope.data).toMatchObject({ purpose: 'ad-measurement', granted: false, source: 'default', country: 'DE' });
    expect(received[3].envelope.data).toMatchObject({ kind: 'card', display: { brand: 'visa', last4: '4242' }, preferred: true });
    expect(received[4].envelope.data).toMatchObject({ kind: 'bank_account', display: { last4: '3000', country: 'DE' }, preferred: false });
    expect(received[11].envelope.data).toMatchObject({ failedAttempts: 1, remainingAttempts: 4 });
    expect(received[12].envelope.data).toMatchObject({ method: 'pin', ceiling: { amount: '2500', currency: 'EUR' } });
    expect(received[14].envelope.data).toMatchObject({ hasEmail: true, hasPhone: true });
  });

  it("names the app's backend in the actor of a change it made with the person's delegated token, the person alone otherwise", async () => {
    const own = await wallet.person(ida);
    const throughMessenger = await wallet.delegated(ida, 'messenger');
    const base = `/v1/wallets/${ida}`;
    expect((await own.post(base, { country: 'DE' })).status).toBe(201);
    expect((await throughMessenger.put(`${base}/apps/messenger`, { enabled: true })).status).toBe(200);
    const card = await throughMessenger.post<{ id: string }>(`${base}/payment-methods/cards`, validCard());
    expect(card.status).toBe(201);
    expect((await own.patch(`${base}/payment-methods/${card.body.id}`, { label: 'Mine' })).status).toBe(200);
    const received = await waitFor(
      () => of(ida),
      (messages) => messages.length >= 5,
      { timeoutMs: 30_000 },
    );
    expect(received.map((message) => [message.envelope.type, message.envelope.data.actor])).toEqual([
      ['wallet.wallet.opened', `person:${ida}`],
      ['wallet.consent.changed', `person:${ida}`],
      ['wallet.apps.changed', `person:${ida} via messenger-backend`],
      ['wallet.payment-method.added', `person:${ida} via messenger-backend`],
      ['wallet.payment-method.renamed', `person:${ida}`],
    ]);
    for (const message of received) expect(() => parseEvent(JSON.parse(message.raw))).not.toThrow();
  });

  it('never carries a secret or free text: no card number, IBAN, holder, PIN, e-mail, phone, token or label', () => {
    const raw = of(eva)
      .map((message) => message.raw)
      .join('\n');
    expect(findSecrets(raw, SECRETS)).toEqual([]);
    for (const forbidden of [PSP_TOKEN, LABEL, 'Renamed secretly', 'QYR5Z8XDVJNXQ', 'Eva Event-Holder', 'DE89370400440532013000'])
      expect(raw).not.toContain(forbidden);
  });

  it("keeps one person's events in order under concurrent changes, with no gaps", async () => {
    const caller = await wallet.person(max);
    expect((await caller.post(`/v1/wallets/${max}`, { country: 'US' })).status).toBe(201);
    const apps = ['facebook', 'instagram', 'messenger', 'whatsapp'];
    // 24 changes at once, each an actual change (toggle app i on, then consent flips).
    const requests = [
      ...apps.map((app) => caller.put(`/v1/wallets/${max}/apps/${app}`, { enabled: true })),
      ...Array.from({ length: 20 }, (_, i) => caller.put(`/v1/wallets/${max}/contact`, { phone: `+1415555${String(1000 + i)}` })),
    ];
    const responses = await Promise.all(requests);
    expect(responses.every((response) => response.status === 200)).toBe(true);
    const received = await waitFor(
      () => of(max),
      (messages) => messages.length >= 2 + 24,
      { timeoutMs: 30_000 },
    );
    expect(received.map((message) => message.envelope.sequence)).toEqual(received.map((_, i) => i + 1));
    expect(received.filter((message) => message.envelope.type === 'wallet.apps.changed').at(-1)?.envelope.data.apps).toEqual(apps);
    const [{ event_sequence: last }] = await wallet.service.runtime.dataSource.query<
      {
        event_sequence: string;
      }[]
    >('SELECT event_sequence FROM wallets WHERE person_id = $1', [max]);
    expect(Number(last)).toBe(26);
  });
});
