import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { StepUpKeysUnavailableError, StepUpProofError } from './step-up-proof';
import { StepUpProofSigner } from './step-up-signer';
import type { StepUpReplayGuard } from './step-up-verifier';
import { StepUpProofVerifier } from './step-up-verifier';
import { parseStepUpThresholds, stepUpRequired } from './step-up-threshold';
import { money } from '@pay/contracts';

const ISSUER = 'pay:wallet';

async function setUp(ttlSeconds = 120): Promise<{ signer: StepUpProofSigner; verifier: StepUpProofVerifier }> {
  const signer = await StepUpProofSigner.create({ privateJwk: await StepUpProofSigner.generatePrivateJwk(), issuer: ISSUER, ttlSeconds });
  return { signer, verifier: new StepUpProofVerifier({ jwks: signer.publicKeySet(), issuer: ISSUER }) };
}

const payment = { personId: 'person-1', amount: money(4_999n, 'EUR') };

async function refusedFor(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StepUpProofError);
  return (error as StepUpProofError).reason;
}

describe('step-up proofs', () => {
  it('grants a payment at or below the ceiling, for the person and currency it was issued for', async () => {
    const { signer, verifier } = await setUp();
    const { proof, grant } = await signer.sign({ personId: 'person-1', ceiling: money(5_000n, 'EUR'), method: 'pin' });
    await expect(verifier.verify(proof, payment)).resolves.toEqual(grant);
    await expect(verifier.verify(proof, { ...payment, amount: money(5_000n, 'EUR') })).resolves.toMatchObject({
      method: 'pin',
      ceiling: { amount: '5000', currency: 'EUR' },
    });
    expect(signer.publicKeySet().keys[0]).not.toHaveProperty('d');
  });

  it('refuses another person, a higher amount, another currency', async () => {
    const { signer, verifier } = await setUp();
    const { proof } = await signer.sign({ personId: 'person-1', ceiling: money(5_000n, 'EUR'), method: 'biometric' });
    expect(await refusedFor(verifier.verify(proof, { ...payment, personId: 'person-2' }))).toBe('wrong-person');
    expect(await refusedFor(verifier.verify(proof, { ...payment, amount: money(5_001n, 'EUR') }))).toBe('amount-above-ceiling');
    expect(await refusedFor(verifier.verify(proof, { ...payment, amount: money(4_999n, 'USD') }))).toBe('currency-mismatch');
  });

  it('refuses an expired proof', async () => {
    const { signer, verifier } = await setUp(60);
    const { proof } = await signer.sign({ personId: 'person-1', ceiling: money(5_000n, 'EUR'), method: 'pin' });
    expect(await refusedFor(verifier.verify(proof, { ...payment, now: new Date(Date.now() + 61_000 + 5_000) }))).toBe('expired');
  });

  it('refuses a tampered proof (raised ceiling) and one signed by another key', async () => {
    const { signer, verifier } = await setUp();
    const { proof } = await signer.sign({ personId: 'person-1', ceiling: money(5_000n, 'EUR'), method: 'pin' });
    const [header, body, signature] = proof.split('.');
    const raised = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), max_amount: '500000' })).toString('base64url');
    expect(await refusedFor(verifier.verify(`${header}.${raised}.${signature}`, { ...payment, amount: money(100_000n, 'EUR') }))).toBe('bad-signature');

    const other = await setUp();
    const foreign = await other.signer.sign({ personId: 'person-1', ceiling: money(5_000n, 'EUR'), method: 'pin' });
    expect(await refusedFor(verifier.verify(foreign.proof, payment))).toBe('bad-signature');
  });

  it('refuses an access token or any JWT without the proof type, and an over-long proof', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k', alg: 'ES256' };
    const verifier = new StepUpProofVerifier({ jwks: { keys: [jwk] }, issuer: ISSUER });
    const claims = { amr: ['pin'], max_amount: '5000', currency: 'EUR' };
    const build = (typ: string, lifetime: number): Promise<string> =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k', typ })
        .setIssuer(ISSUER)
        .setSubject('person-1')
        .setAudience('pay:payments')
        .setJti('11111111-1111-4111-8111-111111111111')
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + lifetime)
        .sign(privateKey);
    expect(await refusedFor(verifier.verify(await build('JWT', 60), payment))).toBe('malformed');
    expect(await refusedFor(verifier.verify(await build('step-up+jwt', 86_400), payment))).toBe('malformed');
    await expect(verifier.verify(await build('step-up+jwt', 60), payment)).resolves.toMatchObject({ personId: 'person-1' });
  });

  it('neither accepts nor refuses a proof whose key cannot be used: the keys are unavailable (retryable), not the proof bad', async () => {
    const { signer } = await setUp();
    const { proof } = await signer.sign({ personId: 'person-1', ceiling: money(5_000n, 'EUR'), method: 'pin' });
    // The proof's key id is in the set, but its material is not a P-256 point: it does not import.
    const [published] = signer.publicKeySet().keys;
    const verifier = new StepUpProofVerifier({ jwks: { keys: [{ ...published, x: 'AAAA' }] }, issuer: ISSUER });
    const error = await verifier.verify(proof, payment).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StepUpKeysUnavailableError);
    expect(error).not.toBeInstanceOf(StepUpProofError);
    expect(error).toMatchObject({ retryable: true, message: expect.stringMatching(/not checked; try again/) });
    // What needs no key is still refused: not a JWS at all.
    expect(await refusedFor(verifier.verify('not.a.proof', payment))).toBe('malformed');
  });

  it('is single-use when given a replay guard', async () => {
    const used = new Set<string>();
    const guard: StepUpReplayGuard = { consume: async (id) => !used.has(id) && Boolean(used.add(id)) };
    const { signer } = await setUp();
    const verifier = new StepUpProofVerifier({ jwks: signer.publicKeySet(), issuer: ISSUER, replayGuard: guard });
    const { proof } = await signer.sign({ personId: 'person-1', ceiling: money(5_000n, 'EUR'), method: 'pin' });
    await verifier.verify(proof, payment);
    expect(await refusedFor(verifier.verify(proof, payment))).toBe('already-used');
  });

  it('signs only with a private asymmetric key and a bounded lifetime', async () => {
    const privateJwk = await StepUpProofSigner.generatePrivateJwk('k1');
    const { d: _d, ...publicOnly } = privateJwk;
    await expect(StepUpProofSigner.create({ privateJwk: publicOnly, issuer: ISSUER, ttlSeconds: 60 })).rejects.toThrow(/private JWK/);
    await expect(StepUpProofSigner.create({ privateJwk, issuer: ISSUER, ttlSeconds: 3_600 })).rejects.toThrow(/1 to 900 seconds/);
  });
});

describe('step-up thresholds', () => {
  it('needs a proof above the threshold of the currency, and always for a currency without one', () => {
    const thresholds = parseStepUpThresholds('EUR:5000, USD:2500');
    expect(stepUpRequired(money(5_000n, 'EUR'), thresholds)).toBe(false);
    expect(stepUpRequired(money(5_001n, 'EUR'), thresholds)).toBe(true);
    expect(stepUpRequired(money(1n, 'GBP'), thresholds)).toBe(true);
    expect(() => parseStepUpThresholds('EUR:50.00')).toThrow(/CURRENCY:minor-units/);
    expect(() => parseStepUpThresholds('EUR:1,EUR:2')).toThrow(/twice/);
  });
});
