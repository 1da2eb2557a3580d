import { StepUpProofError, StepUpProofVerifier } from '@pay/auth';
import { uniqueName } from '@pay/testing';
import type { Clock } from '../src/ports/clock';
import { CLOCK } from '../src/ports/clock';
import { serviceLogs } from '@pay/testing/service-logs';
import { findSecrets } from './log-secrets';
import type { Caller, WalletUnderTest } from './wallet-test-kit';
import { dropWalletSchema, startWallet } from './wallet-test-kit';
import { money } from '@pay/contracts';

jest.mock('@pay/observability', () => jest.requireActual<typeof import('@pay/testing/service-logs')>('@pay/testing/service-logs').observabilityKeepingLogs());

const PIN = '730264';
const NEW_PIN = '591837';
const WRONG = '482915';
const LOCKOUT_SECONDS = 2;

interface ProofView {
  proof: string;
  proofId: string;
  method: string;
  ceiling: { amount: string; currency: string };
  expiresAt: string;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StepUpProofError);
  return (error as StepUpProofError).reason;
}

describe('wallet: PIN and step-up proofs', () => {
  let wallet: WalletUnderTest;
  let verifier: StepUpProofVerifier;

  beforeAll(async () => {
    // Rate limits are tested in pin-abuse-limits.int-spec.ts; here they must not stand before the lockout.
    wallet = await startWallet({
      env: {
        PIN_LOCKOUT_SECONDS: String(LOCKOUT_SECONDS),
        STEP_UP_TTL_SECONDS: '60',
        STEP_UP_ISSUER: 'pay:wallet-it',
        PIN_ATTEMPTS_PER_PERSON_PER_MINUTE: '100',
      },
    });
    // Verified the way payment orchestration will: keys fetched from the wallet's JWKS URL.
    verifier = new StepUpProofVerifier({ jwksUrl: `${wallet.url}/.well-known/step-up-jwks.json`, issuer: 'pay:wallet-it' });
  });

  afterAll(async () => {
    await wallet?.stop();
    if (wallet) await dropWalletSchema(wallet.schema);
    expect(findSecrets(serviceLogs.join(''), { pins: [PIN, NEW_PIN, WRONG] })).toEqual([]);
  });

  async function personWithWallet(pin?: string): Promise<{ id: string; caller: Caller }> {
    const id = uniqueName('pin');
    const caller = await wallet.person(id);
    expect((await caller.post(`/v1/wallets/${id}`, { country: 'US' })).status).toBe(201);
    if (pin) expect((await caller.post(`/v1/wallets/${id}/pin`, { pin })).status).toBe(204);
    return { id, caller };
  }

  it('sets a PIN once, refusing weak ones, and stores only a sealed hash', async () => {
    const { id, caller } = await personWithWallet();
    expect(await caller.post(`/v1/wallets/${id}/step-up/pin`, { pin: PIN, ceiling: { amount: '100', currency: 'USD' } })).toMatchObject({
      status: 409,
      body: { code: 'PIN_NOT_SET' },
    });
    expect(await caller.post(`/v1/wallets/${id}/pin`, { pin: '123456' })).toMatchObject({ status: 400, body: { code: 'PIN_TOO_WEAK' } });
    expect(await caller.post(`/v1/wallets/${id}/pin`, { pin: '12ab' })).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    expect((await caller.post(`/v1/wallets/${id}/pin`, { pin: PIN })).status).toBe(204);
    expect(await caller.post(`/v1/wallets/${id}/pin`, { pin: NEW_PIN })).toMatchObject({ status: 409, body: { code: 'PIN_ALREADY_SET' } });
    const [row] = await wallet.service.runtime.dataSource.query<{ pin_hash: string }[]>('SELECT pin_hash FROM pin_credentials WHERE person_id = $1', [id]);
    expect(row.pin_hash).toMatch(/^v1\./);
    expect(row.pin_hash).not.toContain('argon2');
    expect((await caller.get<{ pin: object }>(`/v1/wallets/${id}`)).body.pin).toEqual({ set: true });
  });

  it('issues a step-up proof for the right PIN that orchestration accepts up to its ceiling', async () => {
    const { id, caller } = await personWithWallet(PIN);
    const issued = await caller.post<ProofView>(`/v1/wallets/${id}/step-up/pin`, { pin: PIN, ceiling: { amount: '12500', currency: 'EUR' } });
    expect(issued).toMatchObject({ status: 201, body: { method: 'pin', ceiling: { amount: '12500', currency: 'EUR' }, proofId: expect.any(String) } });
    const { proof, proofId, expiresAt } = issued.body;
    expect(new Date(expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(60_000);

    await expect(verifier.verify(proof, { personId: id, amount: money(12_500n, 'EUR') })).resolves.toMatchObject({ proofId, personId: id, method: 'pin' });
    expect(await refusal(verifier.verify(proof, { personId: id, amount: money(12_501n, 'EUR') }))).toBe('amount-above-ceiling');
    expect(await refusal(verifier.verify(proof, { personId: 'someone-else', amount: money(100n, 'EUR') }))).toBe('wrong-person');
    expect(await refusal(verifier.verify(proof, { personId: id, amount: money(100n, 'USD') }))).toBe('currency-mismatch');
  });

  it('refuses an expired or tampered proof', async () => {
    const { id, caller } = await personWithWallet(PIN);
    const { proof } = (await caller.post<ProofView>(`/v1/wallets/${id}/step-up/pin`, { pin: PIN, ceiling: { amount: '5000', currency: 'EUR' } })).body;
    const later = new Date(Date.now() + 61_000 + 10_000);
    expect(await refusal(verifier.verify(proof, { personId: id, amount: money(100n, 'EUR'), now: later }))).toBe('expired');

    const [header, payload, signature] = proof.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forge = (changes: Record<string, unknown>): string =>
      `${header}.${Buffer.from(JSON.stringify({ ...claims, ...changes })).toString('base64url')}.${signature}`;
    expect(await refusal(verifier.verify(forge({ max_amount: '9999999' }), { personId: id, amount: money(9_999_999n, 'EUR') }))).toBe('bad-signature');
    expect(await refusal(verifier.verify(forge({ exp: Math.floor(Date.now() / 1000) + 86_400 }), { personId: id, amount: money(100n, 'EUR') }))).toBe(
      'bad-signature',
    );
    expect(await refusal(verifier.verify(forge({ sub: 'mallory' }), { personId: 'mallory', amount: money(100n, 'EUR') }))).toBe('bad-signature');
    expect(await refusal(verifier.verify(`${header}.${payload}.${signature.slice(0, -4)}AAAA`, { personId: id, amount: money(100n, 'EUR') }))).toBe(
      'bad-signature',
    );
    // A proof is no access token: the wallet's API refuses it as a bearer token.
    expect((await caller.request('GET', `/v1/wallets/${id}`, undefined, { authorization: `Bearer ${proof}` })).status).toBe(401);
  });

  it('changes the PIN only with the current one', async () => {
    const { id, caller } = await personWithWallet(PIN);
    expect(await caller.put(`/v1/wallets/${id}/pin`, { currentPin: WRONG, newPin: NEW_PIN })).toMatchObject({
      status: 403,
      body: { code: 'PIN_INCORRECT', remainingAttempts: 4 },
    });
    expect(await caller.put(`/v1/wallets/${id}/pin`, { currentPin: PIN, newPin: '111111' })).toMatchObject({ status: 400, body: { code: 'PIN_TOO_WEAK' } });
    expect((await caller.put(`/v1/wallets/${id}/pin`, { currentPin: PIN, newPin: NEW_PIN })).status).toBe(204);
    expect((await caller.post(`/v1/wallets/${id}/step-up/pin`, { pin: PIN, ceiling: { amount: '100', currency: 'USD' } })).status).toBe(403);
    expect((await caller.post(`/v1/wallets/${id}/step-up/pin`, { pin: NEW_PIN, ceiling: { amount: '100', currency: 'USD' } })).status).toBe(201);
  });

  it('locks PIN use after 5 wrong PINs, even against parallel guesses, and unlocks when the lockout expires', async () => {
    const { id, caller } = await personWithWallet(PIN);
    const attempt = (pin: string) =>
      caller.post<{ code: string; remainingAttempts?: number; lockedUntil?: string }>(`/v1/wallets/${id}/step-up/pin`, {
        pin,
        ceiling: { amount: '100', currency: 'USD' },
      });
    const guesses = await Promise.all(Array.from({ length: 8 }, (_, i) => attempt(String(482910 + i))));
    const codes = guesses.map((response) => `${response.status} ${response.body.code}`).sort();
    expect(codes).toEqual([...Array(4).fill('403 PIN_INCORRECT'), ...Array(4).fill('423 PIN_LOCKED')].sort());
    expect(
      guesses
        .filter((g) => g.body.code === 'PIN_INCORRECT')
        .map((g) => g.body.remainingAttempts)
        .sort(),
    ).toEqual([1, 2, 3, 4]);
    const [row] = await wallet.service.runtime.dataSource.query<
      {
        failed_attempts: number;
        locked_until: Date;
      }[]
    >('SELECT failed_attempts, locked_until FROM pin_credentials WHERE person_id = $1', [id]);
    expect(row.failed_attempts).toBe(5);

    // While locked, even the right PIN is not compared.
    const locked = await attempt(PIN);
    expect(locked).toMatchObject({ status: 423, body: { code: 'PIN_LOCKED', lockedUntil: row.locked_until.toISOString() } });
    expect((await caller.get<{ pin: object }>(`/v1/wallets/${id}`)).body.pin).toEqual({ set: true, lockedUntil: row.locked_until.toISOString() });
    expect((await caller.put(`/v1/wallets/${id}/pin`, { currentPin: PIN, newPin: NEW_PIN })).status).toBe(423);

    // The wallet's injected clock is moved to the lockout's end instead of waiting for it.
    const clock = wallet.service.app.get<symbol, Clock>(CLOCK);
    const at = jest.spyOn(clock, 'now').mockImplementation(() => new Date(row.locked_until.getTime() - 1));
    try {
      expect((await attempt(PIN)).status).toBe(423);
      at.mockImplementation(() => new Date(row.locked_until.getTime() + 1));
      expect((await attempt(PIN)).status).toBe(201);
      expect((await caller.get<{ pin: object }>(`/v1/wallets/${id}`)).body.pin).toEqual({ set: true });
      // Fresh tries after the lock.
      expect((await attempt(WRONG)).body).toMatchObject({ code: 'PIN_INCORRECT', remainingAttempts: 4 });
    } finally {
      at.mockRestore();
    }
  });
});
