import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createTestIssuer } from '@pay/auth/testing';
import type { PspSimulator } from '@pay/psp-simulator';
import { startPspSimulator } from '@pay/psp-simulator';
import { testDatabaseUrl, uniqueName } from '@pay/testing';
import { capturedLogs, findSecrets } from './log-capture';
import { PaymentsOnKafka } from './payments-on-kafka';
import type { WalletUnderTest } from './wallet-test-kit';
import { dropWalletSchema, MANDATE, pspEnv, startWallet, testMasterKey } from './wallet-test-kit';

jest.mock('@pay/observability', () => jest.requireActual<typeof import('./log-capture')>('./log-capture').observabilityWithCapture());

const ROOT = resolve(__dirname, '../../..');
const PIN = '730264';

/** Runs `npm run wallet:rotate-keys` the way an operator does: tsx, its own process, env only. */
function rotateKeys(env: Record<string, string>, args: string[] = []): Promise<{ code: number; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [resolve(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'tools/wallet/rotate-keys.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, output }));
  });
}

interface Person {
  id: string;
  iban: string;
  email: string;
  bankMethodId: string;
  /** A payment of the person awaiting its charge with the bank account: what releases it. */
  paymentId: string;
}

const IBANS = ['DE89370400440532013000', 'GB82WEST12345698765432', 'FR1420041010050500013M02606', 'NL91ABNA0417164300'];

describe('wallet: master key rotation leaves every secret readable, without downtime', () => {
  const schema = uniqueName('it_wallet_keys');
  const oldKey = testMasterKey('k-2025');
  const newKey = testMasterKey('k-2026');
  const persons: Person[] = [];
  let idp: Awaited<ReturnType<typeof createTestIssuer>>;
  let running: WalletUnderTest | undefined;
  // Bank accounts are saved at the PSP: the simulator.
  let psp: PspSimulator;

  const start = (keys: string, active: string): Promise<WalletUnderTest> =>
    startWallet({ schema, idp, env: { ...pspEnv(psp), WALLET_MASTER_KEYS: keys, WALLET_MASTER_KEY_ID: active } });
  const toolEnv = (keys: string, active: string): Record<string, string> => ({
    DATABASE_URL: testDatabaseUrl(),
    DB_SCHEMA: schema,
    WALLET_MASTER_KEYS: keys,
    WALLET_MASTER_KEY_ID: active,
  });

  beforeAll(async () => {
    idp = await createTestIssuer();
    psp = await startPspSimulator();
    running = await start(oldKey.spec, oldKey.id);
    for (let i = 0; i < 24; i += 1) {
      const id = uniqueName('rot');
      const caller = await running.person(id);
      const iban = IBANS[i % IBANS.length];
      const email = `rotation.${i}.${id}@example.net`;
      expect((await caller.post(`/v1/wallets/${id}`, { country: 'US' })).status).toBe(201);
      expect((await caller.put(`/v1/wallets/${id}/apps`, { apps: ['facebook'] })).status).toBe(200);
      const bank = await caller.post<{ id: string }>(`/v1/wallets/${id}/payment-methods/bank-accounts`, {
        iban,
        holderName: 'Rotation Tester',
        holderEmail: email,
        mandate: MANDATE,
      });
      expect(bank.status).toBe(201);
      expect((await caller.put(`/v1/wallets/${id}/contact`, { email })).status).toBe(200);
      expect((await caller.post(`/v1/wallets/${id}/pin`, { pin: PIN })).status).toBe(204);
      persons.push({ id, iban, email, bankMethodId: bank.body.id, paymentId: uniqueName('pay-rot') });
    }
    const payments = new PaymentsOnKafka(running);
    for (const person of persons) await payments.initiated({ personId: person.id, methodId: person.bankMethodId }, person.paymentId);
    await payments.disconnect();
  });

  afterAll(async () => {
    await running?.stop();
    await psp?.close();
    await dropWalletSchema(schema);
    expect(findSecrets(capturedLogs.join(''), { ibans: IBANS, emails: persons.map((p) => p.email), pins: [PIN], holderNames: ['Rotation Tester'] })).toEqual(
      [],
    );
  });

  async function expectEverySecretReadable(wallet: WalletUnderTest): Promise<void> {
    const shop = await wallet.orchestration();
    for (const person of persons) {
      const caller = await wallet.person(person.id);
      const view = await caller.get<{ contact: { email?: string } }>(`/v1/wallets/${person.id}`);
      expect(view).toMatchObject({ status: 200, body: { contact: { email: `r•••@example.net` } } });
      expect(await shop.get(`/v1/wallets/${person.id}/payment-instruments/${person.bankMethodId}?app=facebook&paymentId=${person.paymentId}`)).toMatchObject({
        status: 200,
        body: { credentials: { iban: person.iban, holderName: 'Rotation Tester' } },
      });
      expect((await caller.post(`/v1/wallets/${person.id}/step-up/pin`, { pin: PIN, ceiling: { amount: '100', currency: 'USD' } })).status).toBe(201);
    }
  }

  const masterKeyIds = async (wallet: WalletUnderTest): Promise<Record<string, number>> =>
    Object.fromEntries(
      (
        await wallet.service.runtime.dataSource.query<{ master_key_id: string; n: number }[]>(
          'SELECT master_key_id, count(*)::int AS n FROM data_keys GROUP BY master_key_id',
        )
      ).map((row) => [row.master_key_id, row.n]),
    );

  it('refuses to run without the key that wraps existing data, and changes nothing', async () => {
    const stranger = testMasterKey('k-unknown');
    const result = await rotateKeys(toolEnv(stranger.spec, stranger.id));
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/wrapped by master key "k-2025", which is not configured/);
    expect(result.output).not.toContain(oldKey.spec.split(':')[1]);
    expect(await masterKeyIds(running!)).toEqual({ 'k-2025': persons.length });
  });

  it('re-wraps every data key under the new master key while the wallet keeps serving', async () => {
    // Steps 1 and 2 of the runbook: replicas know both keys, the new one is active.
    await running!.stop();
    running = await start(`${oldKey.spec},${newKey.spec}`, newKey.id);
    const late = uniqueName('rot-late');
    expect((await (await running.person(late)).post(`/v1/wallets/${late}`, { country: 'US' })).status).toBe(201);

    // Traffic during the rotation: every read must succeed.
    let serving = true;
    const statuses: number[] = [];
    const traffic = (async () => {
      const shop = await running.orchestration();
      while (serving) {
        for (const person of persons.slice(0, 6)) {
          statuses.push(
            (await shop.get(`/v1/wallets/${person.id}/payment-instruments/${person.bankMethodId}?app=facebook&paymentId=${person.paymentId}`)).status,
          );
        }
      }
    })();
    const result = await rotateKeys(toolEnv(`${oldKey.spec},${newKey.spec}`, newKey.id), ['--batch-size', '5']);
    serving = false;
    await traffic;
    expect(result).toMatchObject({ code: 0 });
    expect(result.output).toMatch(/done: re-wrapped 24 data key\(s\); 0 remaining/);
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set([200]));
    expect(await masterKeyIds(running)).toEqual({ 'k-2026': persons.length });

    // Again: nothing left to do.
    expect((await rotateKeys(toolEnv(`${oldKey.spec},${newKey.spec}`, newKey.id))).output).toMatch(/re-wrapped 0 data key\(s\); 0 remaining/);
  });

  it('reads every secret with the old master key gone', async () => {
    // Step 4: the old key is removed from configuration.
    await running!.stop();
    running = await start(newKey.spec, newKey.id);
    await expectEverySecretReadable(running);
  });
});
