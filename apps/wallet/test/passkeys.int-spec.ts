import { randomUUID } from 'node:crypto';
import { StepUpProofVerifier } from '@pay/auth';
import { sqlOf } from '@pay/platform';
import { uniqueName, waitFor } from '@pay/testing';
import type { Clock } from '../src/ports/clock';
import { CLOCK } from '../src/ports/clock';
import { PasskeyStore } from '../src/passkeys/passkey-store';
import { SoftwareAuthenticator } from './software-authenticator';
import type { Caller, Response, WalletUnderTest } from './wallet-test-kit';
import { dropWalletSchema, startWallet, watchWalletEvents } from './wallet-test-kit';
import { money } from '@pay/contracts';

const ORIGIN = 'http://localhost:5173';
const RP_ID = 'localhost';
const CEILING = { amount: '12500', currency: 'EUR' };
const PER_PERSON_PER_MINUTE = 20;

interface CreationOptions {
  challenge: string;
  rp: { id: string; name: string };
  user: { id: string; name: string; displayName: string };
  attestation: string;
  excludeCredentials: { id: string }[];
  authenticatorSelection: { userVerification: string; residentKey: string };
}
interface RequestOptions {
  challenge: string;
  rpId: string;
  userVerification: string;
  allowCredentials: { id: string; type: string; transports?: string[] }[];
}
interface PasskeyView {
  passkeyId: string;
  deviceName: string;
  transports: string[];
  backedUp: boolean;
  createdAt: string;
  lastUsedAt: string | null;
}
interface ProofView {
  proof: string;
  proofId: string;
  method: string;
  ceiling: { amount: string; currency: string };
  expiresAt: string;
}
interface Refusal {
  code: string;
  reason?: string;
  message: string;
}

describe('wallet: passkeys (WebAuthn) for biometric step-up', () => {
  let wallet: WalletUnderTest;
  let verifier: StepUpProofVerifier;

  beforeAll(async () => {
    wallet = await startWallet({
      env: {
        WEBAUTHN_RP_ID: RP_ID,
        WEBAUTHN_ORIGINS: ORIGIN,
        WEBAUTHN_CHALLENGE_TTL_SECONDS: '60',
        STEP_UP_ISSUER: 'pay:wallet-passkeys-it',
        PIN_ATTEMPTS_PER_PERSON_PER_MINUTE: String(PER_PERSON_PER_MINUTE),
      },
    });
    verifier = new StepUpProofVerifier({ jwksUrl: `${wallet.url}/.well-known/step-up-jwks.json`, issuer: 'pay:wallet-passkeys-it' });
  });

  afterAll(async () => {
    await wallet?.stop();
    if (wallet) await dropWalletSchema(wallet.schema);
  });

  const sql = <T>(query: string, params: unknown[]): Promise<T[]> => wallet.service.runtime.dataSource.query<T[]>(query, params);

  async function person(): Promise<{ id: string; caller: Caller; authenticator: SoftwareAuthenticator }> {
    const id = uniqueName('pk');
    const caller = await wallet.person(id);
    expect((await caller.post(`/v1/wallets/${id}`, { country: 'US' })).status).toBe(201);
    return { id, caller, authenticator: new SoftwareAuthenticator({ origin: ORIGIN, rpId: RP_ID }) };
  }

  async function registrationOptions(caller: Caller, id: string): Promise<CreationOptions> {
    const answer = await caller.post<{ options: CreationOptions; expiresAt: string }>(`/v1/wallets/${id}/passkeys/registration-options`);
    expect(answer.status).toBe(201);
    return answer.body.options;
  }

  async function registered(deviceName = 'Test phone'): Promise<{ id: string; caller: Caller; authenticator: SoftwareAuthenticator; passkey: PasskeyView }> {
    const someone = await person();
    const options = await registrationOptions(someone.caller, someone.id);
    const answer = await someone.caller.post<PasskeyView>(`/v1/wallets/${someone.id}/passkeys`, {
      deviceName,
      credential: someone.authenticator.register(options),
    });
    expect(answer.status).toBe(201);
    return { ...someone, passkey: answer.body };
  }

  async function stepUpOptions(caller: Caller, id: string, ceiling = CEILING): Promise<RequestOptions> {
    const answer = await caller.post<{ options: RequestOptions; expiresAt: string }>(`/v1/wallets/${id}/step-up/biometric/options`, { ceiling });
    expect(answer.status).toBe(201);
    return answer.body.options;
  }

  const confirm = <T = ProofView | Refusal>(caller: Caller, id: string, credential: unknown, ceiling = CEILING): Promise<Response<T>> =>
    caller.post<T>(`/v1/wallets/${id}/step-up/biometric`, { ceiling, credential });

  const counterOf = async (passkeyId: string): Promise<number> =>
    Number((await sql<{ counter: string }>('SELECT counter FROM passkey_credentials WHERE passkey_id = $1', [passkeyId]))[0].counter);

  it('registers a passkey with user verification required and stores the credential per person, never the person id on the device', async () => {
    const { id, caller, authenticator } = await person();
    const options = await registrationOptions(caller, id);
    expect(options).toMatchObject({ rp: { id: RP_ID, name: 'Pay' }, attestation: 'none', authenticatorSelection: { userVerification: 'required' } });
    expect(Buffer.from(options.user.id, 'base64url').toString()).not.toContain(id);
    expect(options.excludeCredentials).toEqual([]);

    const answer = await caller.post<PasskeyView>(`/v1/wallets/${id}/passkeys`, {
      deviceName: 'MacBook Touch ID',
      credential: authenticator.register(options),
    });
    expect(answer).toMatchObject({
      status: 201,
      body: { passkeyId: expect.any(String), deviceName: 'MacBook Touch ID', transports: ['internal', 'hybrid'], backedUp: false, lastUsedAt: null },
    });
    const [row] = await sql<{ person_id: string; credential_id: string; counter: string; public_key: Buffer; device_name: string }>(
      'SELECT person_id, credential_id, counter, public_key, device_name FROM passkey_credentials WHERE passkey_id = $1',
      [answer.body.passkeyId],
    );
    expect(row).toMatchObject({ person_id: id, credential_id: authenticator.credentialId, counter: '0', device_name: 'MacBook Touch ID' });
    expect(row.public_key.length).toBeGreaterThan(64);

    expect(await caller.get<PasskeyView[]>(`/v1/wallets/${id}/passkeys`)).toEqual({ status: 200, body: [answer.body] });
    // The next registration tells the browser not to register the same authenticator twice…
    const next = await registrationOptions(caller, id);
    expect(next.excludeCredentials.map((credential) => credential.id)).toEqual([authenticator.credentialId]);
    expect(next.user.id).toBe(options.user.id);
    // …and the wallet refuses it if it is sent anyway.
    expect(await caller.post<Refusal>(`/v1/wallets/${id}/passkeys`, { deviceName: 'again', credential: authenticator.register(next) })).toMatchObject({
      status: 409,
      body: { code: 'PASSKEY_ALREADY_REGISTERED' },
    });
  });

  it('confirms a payment with a passkey: the same step-up proof as the PIN, method biometric, bound to the person and the ceiling', async () => {
    const { id, caller, authenticator, passkey } = await registered();
    const options = await stepUpOptions(caller, id);
    expect(options).toMatchObject({ rpId: RP_ID, userVerification: 'required', allowCredentials: [{ id: authenticator.credentialId, type: 'public-key' }] });

    const issued = await confirm<ProofView>(caller, id, authenticator.assert(options));
    expect(issued).toMatchObject({ status: 201, body: { method: 'biometric', ceiling: CEILING } });
    await expect(verifier.verify(issued.body.proof, { personId: id, amount: money(12_500n, 'EUR') })).resolves.toMatchObject({
      proofId: issued.body.proofId,
      personId: id,
      method: 'biometric',
    });
    await expect(verifier.verify(issued.body.proof, { personId: id, amount: money(12_501n, 'EUR') })).rejects.toMatchObject({
      reason: 'amount-above-ceiling',
    });
    await expect(verifier.verify(issued.body.proof, { personId: 'someone-else', amount: money(100n, 'EUR') })).rejects.toMatchObject({
      reason: 'wrong-person',
    });

    expect(await counterOf(passkey.passkeyId)).toBe(1);
    const [listed] = (await caller.get<PasskeyView[]>(`/v1/wallets/${id}/passkeys`)).body;
    expect(listed.lastUsedAt).not.toBeNull();

    // A second payment, a second challenge: the counter moves on.
    expect((await confirm(caller, id, authenticator.assert(await stepUpOptions(caller, id)))).status).toBe(201);
    expect(await counterOf(passkey.passkeyId)).toBe(2);
  });

  it('refuses a replayed assertion and a challenge used twice (each challenge is accepted once, whatever the outcome)', async () => {
    const { id, caller, authenticator } = await registered();
    const options = await stepUpOptions(caller, id);
    const assertion = authenticator.assert(options);
    expect((await confirm(caller, id, assertion)).status).toBe(201);
    expect(await confirm(caller, id, assertion)).toMatchObject({ status: 403, body: { code: 'PASSKEY_NOT_VERIFIED', reason: 'challenge-invalid' } });

    // A fresh, valid signature over the used challenge is refused too.
    expect(await confirm(caller, id, authenticator.assert(options))).toMatchObject({ status: 403, body: { reason: 'challenge-invalid' } });

    // A failed attempt uses the challenge up as well: no second try under it.
    const second = await stepUpOptions(caller, id);
    expect(await confirm(caller, id, authenticator.assert(second, { userVerified: false }))).toMatchObject({
      status: 403,
      body: { reason: 'user-not-verified' },
    });
    expect(await confirm(caller, id, authenticator.assert(second))).toMatchObject({ status: 403, body: { reason: 'challenge-invalid' } });

    // A registration challenge is single-use, and is no step-up challenge.
    const creation = await registrationOptions(caller, id);
    expect(await confirm(caller, id, authenticator.assert({ challenge: creation.challenge }))).toMatchObject({
      status: 403,
      body: { reason: 'challenge-invalid' },
    });
    const another = new SoftwareAuthenticator({ origin: ORIGIN, rpId: RP_ID });
    expect(await caller.post(`/v1/wallets/${id}/passkeys`, { deviceName: 'second', credential: another.register(creation) })).toMatchObject({
      status: 403,
      body: { reason: 'challenge-invalid' },
    });
    const fresh = await registrationOptions(caller, id);
    expect((await caller.post(`/v1/wallets/${id}/passkeys`, { deviceName: 'second', credential: another.register(fresh) })).status).toBe(201);
    expect(
      await caller.post(`/v1/wallets/${id}/passkeys`, {
        deviceName: 'third',
        credential: new SoftwareAuthenticator({ origin: ORIGIN, rpId: RP_ID }).register(fresh),
      }),
    ).toMatchObject({
      status: 403,
      body: { reason: 'challenge-invalid' },
    });
  });

  it("refuses an assertion made with another person's passkey, or over another person's challenge", async () => {
    const alice = await registered();
    const mallory = await registered();
    // Mallory's authenticator signs Alice's challenge: not one of Alice's passkeys.
    const aliceOptions = await stepUpOptions(alice.caller, alice.id);
    expect(await confirm(alice.caller, alice.id, mallory.authenticator.assert(aliceOptions))).toMatchObject({
      status: 403,
      body: { code: 'PASSKEY_NOT_VERIFIED', reason: 'unknown-credential' },
    });
    // Alice's own assertion over Mallory's challenge, sent to Alice's wallet: not Alice's challenge.
    const malloryOptions = await stepUpOptions(mallory.caller, mallory.id);
    expect(await confirm(alice.caller, alice.id, alice.authenticator.assert(malloryOptions))).toMatchObject({
      status: 403,
      body: { reason: 'challenge-invalid' },
    });
    // …and Mallory's challenge is still Mallory's to use.
    expect((await confirm(mallory.caller, mallory.id, mallory.authenticator.assert(malloryOptions))).status).toBe(201);
    // Neither can reach the other's passkeys.
    expect(await alice.caller.get(`/v1/wallets/${mallory.id}/passkeys`)).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    expect(await alice.caller.delete(`/v1/wallets/${mallory.id}/passkeys/${mallory.passkey.passkeyId}`)).toMatchObject({ status: 404 });
    expect(await alice.caller.delete(`/v1/wallets/${alice.id}/passkeys/${mallory.passkey.passkeyId}`)).toMatchObject({
      status: 404,
      body: { code: 'PASSKEY_NOT_FOUND' },
    });
    expect((await mallory.caller.get<PasskeyView[]>(`/v1/wallets/${mallory.id}/passkeys`)).body).toHaveLength(1);
    // A credential id belongs to one person: Mallory cannot register Alice's.
    expect(
      await mallory.caller.post(`/v1/wallets/${mallory.id}/passkeys`, {
        deviceName: 'stolen',
        credential: alice.authenticator.register(await registrationOptions(mallory.caller, mallory.id)),
      }),
    ).toMatchObject({ status: 409, body: { code: 'PASSKEY_ALREADY_REGISTERED' } });
  });

  it('answers 409, not 500, to the loser of two registrations of one credential at once, and stores nothing for it', async () => {
    const alice = await person();
    const mallory = await person();
    const credential = alice.authenticator.register(await registrationOptions(mallory.caller, mallory.id));
    // Alice's registration of the same credential is under way: inserted by the wallet's own store, not committed yet.
    const passkeys = wallet.service.app.get(PasskeyStore);
    const winner = wallet.service.runtime.dataSource.createQueryRunner();
    await winner.connect();
    await winner.startTransaction();
    try {
      await passkeys.insert(sqlOf(winner), alice.id, {
        passkeyId: randomUUID(),
        credentialId: alice.authenticator.credentialId,
        publicKey: new Uint8Array([1]),
        counter: 0,
        transports: [],
        deviceName: 'Alice phone',
        deviceType: 'singleDevice',
        backedUp: false,
      });
      const [{ pid }] = (await winner.query('SELECT pg_backend_pid() AS pid')) as { pid: number }[];
      const loser = mallory.caller.post<Refusal>(`/v1/wallets/${mallory.id}/passkeys`, { deviceName: 'race', credential });
      // The positive marker: Mallory's registration waits on the credential Alice's transaction holds.
      await waitFor(
        async () => (await sql<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [pid]))[0].n,
        (n) => n > 0,
        { what: "Mallory's registration waiting on Alice's", timeoutMs: 10_000, intervalMs: 20 },
      );
      await winner.commitTransaction();
      expect(await loser).toMatchObject({ status: 409, body: { code: 'PASSKEY_ALREADY_REGISTERED' } });
    } finally {
      if (winner.isTransactionActive) await winner.rollbackTransaction();
      await winner.release();
    }
    expect((await mallory.caller.get<PasskeyView[]>(`/v1/wallets/${mallory.id}/passkeys`)).body).toEqual([]);
    expect(await sql<{ person_id: string }>('SELECT person_id FROM passkey_credentials WHERE credential_id = $1', [alice.authenticator.credentialId])).toEqual([
      { person_id: alice.id },
    ]);
  });

  it('refuses a signature counter that goes backwards or stands still (a cloned authenticator), and keeps the stored one', async () => {
    const { id, caller, authenticator, passkey } = await registered();
    authenticator.counter = 6;
    expect((await confirm(caller, id, authenticator.assert(await stepUpOptions(caller, id)))).status).toBe(201);
    expect(await counterOf(passkey.passkeyId)).toBe(7);
    expect(await confirm(caller, id, authenticator.assert(await stepUpOptions(caller, id), { counter: 3 }))).toMatchObject({
      status: 403,
      body: { code: 'PASSKEY_NOT_VERIFIED', reason: 'counter-regressed' },
    });
    expect(await confirm(caller, id, authenticator.assert(await stepUpOptions(caller, id), { counter: 7 }))).toMatchObject({
      status: 403,
      body: { reason: 'counter-regressed' },
    });
    expect(await counterOf(passkey.passkeyId)).toBe(7);
    expect((await confirm(caller, id, authenticator.assert(await stepUpOptions(caller, id), { counter: 8 }))).status).toBe(201);
  });

  it('accepts an authenticator that keeps no counter (0 every time) while the stored counter is 0', async () => {
    const { id, caller, authenticator, passkey } = await registered();
    for (let i = 0; i < 2; i += 1) expect((await confirm(caller, id, authenticator.assert(await stepUpOptions(caller, id), { counter: 0 }))).status).toBe(201);
    expect(await counterOf(passkey.passkeyId)).toBe(0);
  });

  it('refuses registration and confirmation without user verification, and stores nothing', async () => {
    const { id, caller, authenticator } = await person();
    const options = await registrationOptions(caller, id);
    expect(
      await caller.post(`/v1/wallets/${id}/passkeys`, { deviceName: 'no UV', credential: authenticator.register(options, { userVerified: false }) }),
    ).toMatchObject({
      status: 403,
      body: { code: 'PASSKEY_NOT_VERIFIED', reason: 'user-not-verified' },
    });
    expect((await caller.get<PasskeyView[]>(`/v1/wallets/${id}/passkeys`)).body).toEqual([]);

    const withPasskey = await registered();
    expect(
      await confirm(
        withPasskey.caller,
        withPasskey.id,
        withPasskey.authenticator.assert(await stepUpOptions(withPasskey.caller, withPasskey.id), { userVerified: false }),
      ),
    ).toMatchObject({
      status: 403,
      body: { reason: 'user-not-verified' },
    });
  });

  it('refuses another origin, another relying party, a forged signature, and an expired challenge', async () => {
    const { id, caller, authenticator } = await registered();
    expect(await confirm(caller, id, authenticator.assert(await stepUpOptions(caller, id), { origin: 'https://evil.example.com' }))).toMatchObject({
      status: 403,
      body: { reason: 'invalid-response' },
    });
    expect(await confirm(caller, id, authenticator.assert(await stepUpOptions(caller, id), { rpId: 'evil.example.com' }))).toMatchObject({
      status: 403,
      body: { reason: 'invalid-response' },
    });
    const forged = authenticator.assert(await stepUpOptions(caller, id)) as { response: { signature: string } };
    const signature = Buffer.from(forged.response.signature, 'base64url');
    signature[signature.length - 1] ^= 0xff;
    forged.response.signature = signature.toString('base64url');
    expect(await confirm(caller, id, forged)).toMatchObject({ status: 403, body: { reason: 'invalid-response' } });

    // The wallet's injected clock is moved past the challenge's life instead of waiting for it.
    const options = await stepUpOptions(caller, id);
    const clock = wallet.service.app.get<symbol, Clock>(CLOCK);
    const later = jest.spyOn(clock, 'now').mockImplementation(() => new Date(Date.now() + 61_000));
    try {
      expect(await confirm(caller, id, authenticator.assert(options))).toMatchObject({ status: 403, body: { reason: 'challenge-invalid' } });
    } finally {
      later.mockRestore();
    }
  });

  it('binds the challenge to the payment: another ceiling or currency under it is refused', async () => {
    const { id, caller, authenticator } = await registered();
    const options = await stepUpOptions(caller, id, { amount: '500', currency: 'EUR' });
    expect(await confirm(caller, id, authenticator.assert(options), { amount: '999999', currency: 'EUR' })).toMatchObject({
      status: 403,
      body: { reason: 'ceiling-mismatch' },
    });
    const usd = await stepUpOptions(caller, id, { amount: '500', currency: 'EUR' });
    expect(await confirm(caller, id, authenticator.assert(usd), { amount: '500', currency: 'USD' })).toMatchObject({
      status: 403,
      body: { reason: 'ceiling-mismatch' },
    });
    const right = await stepUpOptions(caller, id, { amount: '500', currency: 'EUR' });
    expect(await confirm(caller, id, authenticator.assert(right), { amount: '500', currency: 'EUR' })).toMatchObject({
      status: 201,
      body: { ceiling: { amount: '500', currency: 'EUR' } },
    });
  });

  it('stops accepting a removed passkey at once, even under options issued before the removal', async () => {
    const { id, caller, authenticator, passkey } = await registered();
    const options = await stepUpOptions(caller, id);
    expect((await caller.delete(`/v1/wallets/${id}/passkeys/${passkey.passkeyId}`)).status).toBe(204);
    expect(await confirm(caller, id, authenticator.assert(options))).toMatchObject({ status: 403, body: { reason: 'unknown-credential' } });
    expect((await caller.get<PasskeyView[]>(`/v1/wallets/${id}/passkeys`)).body).toEqual([]);
    expect(await caller.delete(`/v1/wallets/${id}/passkeys/${passkey.passkeyId}`)).toMatchObject({ status: 404, body: { code: 'PASSKEY_NOT_FOUND' } });
    expect(await caller.post(`/v1/wallets/${id}/step-up/biometric/options`, { ceiling: CEILING })).toMatchObject({
      status: 409,
      body: { code: 'PASSKEY_NOT_REGISTERED' },
    });
  });

  it('refuses malformed input with 400, changing nothing', async () => {
    const { id, caller, authenticator } = await person();
    const options = await registrationOptions(caller, id);
    const credential = authenticator.register(options);
    const tooLong = await caller.post<Refusal>(`/v1/wallets/${id}/passkeys`, { deviceName: 'x'.repeat(61), credential });
    expect(tooLong).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    const noResponse = await caller.post<Refusal>(`/v1/wallets/${id}/passkeys`, { deviceName: 'phone', credential: { ...credential, response: undefined } });
    expect(noResponse).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    const notBase64url = await caller.post<Refusal>(`/v1/wallets/${id}/passkeys`, {
      deviceName: 'phone',
      credential: { ...credential, response: { ...(credential.response as object), clientDataJSON: 'not base64url!' } },
    });
    expect(notBase64url).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    expect(await caller.post(`/v1/wallets/${id}/step-up/biometric/options`, { ceiling: { amount: '-5', currency: 'EUR' } })).toMatchObject({ status: 400 });
    // The challenge was not used by the refused bodies: the well-formed one still registers.
    expect((await caller.post(`/v1/wallets/${id}/passkeys`, { deviceName: 'phone', credential })).status).toBe(201);
  });

  it("lets an app's backend confirm with the person's token it was issued, but never register or see their passkeys; its own token nothing", async () => {
    const { id, authenticator } = await registered();
    const app = await wallet.delegated(id);
    const options = await stepUpOptions(app, id);
    expect(await confirm(app, id, authenticator.assert(options))).toMatchObject({ status: 201, body: { method: 'biometric' } });
    expect((await app.post(`/v1/wallets/${id}/passkeys/registration-options`)).status).toBe(403);
    expect((await app.get(`/v1/wallets/${id}/passkeys`)).status).toBe(403);
    const own = await wallet.as('instagram-shop', 'service', { app: 'instagram' });
    expect((await own.post(`/v1/wallets/${id}/step-up/biometric/options`, { ceiling: CEILING })).status).toBe(403);
  });

  it("rate-limits the ceremonies like the PIN's: per person, with Retry-After", async () => {
    // The wallet's clock stands still, so the bucket refills nothing while the test runs.
    const clock = wallet.service.app.get<symbol, Clock>(CLOCK);
    const now = new Date();
    const frozen = jest.spyOn(clock, 'now').mockImplementation(() => now);
    try {
      const { id, caller } = await registered();
      // `registered` took two of the person's tokens (registration options, registration).
      const answers: number[] = [];
      for (let i = 0; i < PER_PERSON_PER_MINUTE - 1; i += 1) {
        answers.push((await caller.post(`/v1/wallets/${id}/step-up/biometric/options`, { ceiling: CEILING })).status);
      }
      expect(answers).toEqual([...Array<number>(PER_PERSON_PER_MINUTE - 2).fill(201), 429]);
      const limited = await caller.request<Refusal>('POST', `/v1/wallets/${id}/step-up/biometric`, { ceiling: CEILING, credential: {} });
      expect(limited).toMatchObject({ status: 429, body: { code: 'RATE_LIMITED' } });
      // Another person is not held back by this one's attempts.
      const other = await registered();
      expect((await other.caller.post(`/v1/wallets/${other.id}/step-up/biometric/options`, { ceiling: CEILING })).status).toBe(201);
    } finally {
      frozen.mockRestore();
    }
  });

  it('publishes registrations, removals and refused confirmations on wallet.events.v1, without the device name', async () => {
    const { id, caller, authenticator, passkey } = await registered('Alice phone');
    const events = await watchWalletEvents(new Set([id]));
    try {
      expect((await confirm(caller, id, authenticator.assert(await stepUpOptions(caller, id), { userVerified: false }))).status).toBe(403);
      expect((await confirm(caller, id, authenticator.assert(await stepUpOptions(caller, id)))).status).toBe(201);
      expect((await caller.delete(`/v1/wallets/${id}/passkeys/${passkey.passkeyId}`)).status).toBe(204);
      await waitFor(
        async () => events.messages.map((message) => message.envelope.type),
        (types) => types.includes('wallet.passkey.removed'),
        { what: "the person's passkey events", timeoutMs: 30_000 },
      );
      const ceremonies = events.messages.filter(({ envelope }) => /^wallet\.(passkey|step-up)\./.test(envelope.type));
      expect(ceremonies.map(({ envelope }) => [envelope.type, envelope.data])).toEqual([
        ['wallet.passkey.registered', { personId: id, actor: `person:${id}`, passkeyId: passkey.passkeyId, backedUp: false }],
        ['wallet.passkey.assertion-refused', { personId: id, actor: `person:${id}`, reason: 'user-not-verified' }],
        ['wallet.step-up.granted', expect.objectContaining({ method: 'biometric', ceiling: CEILING })],
        ['wallet.passkey.removed', { personId: id, actor: `person:${id}`, passkeyId: passkey.passkeyId }],
      ]);
      expect(events.messages.map((message) => message.raw).join('\n')).not.toContain('Alice phone');
    } finally {
      await events.stop();
    }
  });
});
