/**
 * The step-up verifier against a real HTTP key endpoint (a stand-in for the wallet's
 * `/.well-known/step-up-jwks.json`, on loopback): keys that cannot be fetched make the proof
 * unchecked (StepUpKeysUnavailableError), never refused; a bad proof is still refused.
 */
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { TestKeyEndpoint } from '../testing';
import { closedLoopbackPort, startTestKeyEndpoint, TEST_KEY_ENDPOINT_OUTAGES } from '../testing';
import { StepUpKeysUnavailableError, StepUpProofError } from './step-up-proof';
import { StepUpProofSigner } from './step-up-signer';
import { StepUpProofVerifier } from './step-up-verifier';
import { money } from '@pay/contracts';

const ISSUER = 'pay:wallet';
const payment = { personId: 'person-1', amount: money(4_999n, 'EUR') };
/** Where the wallet serves its step-up keys. */
const STEP_UP_KEYS_PATH = '/.well-known/step-up-jwks.json';

async function outcomeOf(
  promise: Promise<unknown>,
): Promise<{ kind: 'accepted' } | { kind: 'refused'; reason: string } | { kind: 'unavailable'; retryable: boolean }> {
  try {
    await promise;
    return { kind: 'accepted' };
  } catch (error) {
    if (error instanceof StepUpKeysUnavailableError) return { kind: 'unavailable', retryable: error.retryable };
    if (error instanceof StepUpProofError) return { kind: 'refused', reason: error.reason };
    throw error;
  }
}

describe("step-up proofs checked with the wallet's published keys", () => {
  let signer: StepUpProofSigner;
  let endpoint: TestKeyEndpoint;

  beforeAll(async () => {
    signer = await StepUpProofSigner.create({ privateJwk: await StepUpProofSigner.generatePrivateJwk(), issuer: ISSUER, ttlSeconds: 120 });
    endpoint = await startTestKeyEndpoint(() => signer.publicKeySet(), STEP_UP_KEYS_PATH);
  });

  afterAll(async () => {
    await endpoint?.close();
  });

  beforeEach(() => {
    endpoint.mode = 'keys';
    endpoint.requests = 0;
  });

  const verifierOf = (jwksUrl: string): StepUpProofVerifier => new StepUpProofVerifier({ jwksUrl, issuer: ISSUER, jwksTimeoutMs: 500 });
  const validProof = async (): Promise<string> => (await signer.sign({ personId: 'person-1', ceiling: money(5_000n, 'EUR'), method: 'pin' })).proof;

  it.each(TEST_KEY_ENDPOINT_OUTAGES)(
    'a valid proof is unchecked, not refused, while the key endpoint answers %s; the same verifier accepts it once the keys come back',
    async (mode) => {
      const verifier = verifierOf(endpoint.url);
      const proof = await validProof();
      endpoint.mode = mode;
      expect(await outcomeOf(verifier.verify(proof, payment))).toEqual({ kind: 'unavailable', retryable: true });
      expect(await outcomeOf(verifier.verify(proof, payment))).toEqual({ kind: 'unavailable', retryable: true });
      expect(endpoint.requests).toBe(2); // a failed fetch is not remembered: each verification asks again

      endpoint.mode = 'keys';
      expect(await outcomeOf(verifier.verify(proof, payment))).toEqual({ kind: 'accepted' });
    },
  );

  it('a valid proof is unchecked, not refused, when nothing listens at the key URL (connection refused)', async () => {
    const verifier = verifierOf(`http://127.0.0.1:${await closedLoopbackPort()}/.well-known/step-up-jwks.json`);
    const error = await verifier.verify(await validProof(), payment).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StepUpKeysUnavailableError);
    expect(error).not.toBeInstanceOf(StepUpProofError);
    expect((error as Error).message).toMatch(/could not be fetched.*try again/);
  });

  it('still refuses what is not a proof, or uses an algorithm we do not accept, without asking for keys', async () => {
    const verifier = verifierOf(endpoint.url);
    endpoint.mode = 'status-503';
    expect(await outcomeOf(verifier.verify('not.a.proof', payment))).toEqual({ kind: 'refused', reason: 'malformed' });
    const hs256 = await new SignJWT({ amr: ['pin'], max_amount: '5000', currency: 'EUR' })
      .setProtectedHeader({ alg: 'HS256', typ: 'step-up+jwt' })
      .setIssuer(ISSUER)
      .setSubject('person-1')
      .setAudience('pay:payments')
      .setJti('11111111-1111-4111-8111-111111111111')
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(new Uint8Array(32));
    expect(await outcomeOf(verifier.verify(hs256, payment))).toEqual({ kind: 'refused', reason: 'bad-signature' });
    expect(endpoint.requests).toBe(0);
  });

  it('with the keys fetched, still refuses a proof under an unknown key, a tampered one and an expired one — also if the wallet is down by then', async () => {
    const verifier = verifierOf(endpoint.url);
    expect(await outcomeOf(verifier.verify(await validProof(), payment))).toEqual({ kind: 'accepted' });
    expect(endpoint.requests).toBe(1);

    const other = await StepUpProofSigner.create({ privateJwk: await StepUpProofSigner.generatePrivateJwk(), issuer: ISSUER, ttlSeconds: 120 });
    const foreign = await other.sign({ personId: 'person-1', ceiling: money(5_000n, 'EUR'), method: 'pin' });
    const { proof } = await signer.sign({ personId: 'person-1', ceiling: money(5_000n, 'EUR'), method: 'pin' });
    const [header, body, signature] = proof.split('.');
    const raised = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), max_amount: '500000' })).toString('base64url');
    const expiredAt = { ...payment, now: new Date(Date.now() + 121_000 + 5_000) };

    for (const mode of ['keys', 'status-503'] as const) {
      endpoint.mode = mode;
      expect(await outcomeOf(verifier.verify(foreign.proof, payment))).toEqual({ kind: 'refused', reason: 'bad-signature' });
      expect(await outcomeOf(verifier.verify(`${header}.${raised}.${signature}`, { ...payment, amount: money(100_000n, 'EUR') }))).toEqual({
        kind: 'refused',
        reason: 'bad-signature',
      });
      expect(await outcomeOf(verifier.verify(proof, expiredAt))).toEqual({ kind: 'refused', reason: 'expired' });
      expect(await outcomeOf(verifier.verify(proof, { ...payment, personId: 'person-2' }))).toEqual({ kind: 'refused', reason: 'wrong-person' });
    }
    // The fetched keys served every check: an unknown key right after a fetch is no reason to ask again.
    expect(endpoint.requests).toBe(1);
  });

  it("a key set that does not hold usable keys is the wallet's problem, not the proof's", async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = JSON.parse(Buffer.from((await validProof()).split('.')[0], 'base64url').toString()).kid as string;
    // The proof's key id, but the key material is not a P-256 point: it does not import.
    const brokenKey = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', x: 'AAAA' };
    const broken = await startTestKeyEndpoint(() => ({ keys: [brokenKey] }), STEP_UP_KEYS_PATH);
    try {
      const verifier = verifierOf(broken.url);
      expect(await outcomeOf(verifier.verify(await validProof(), payment))).toEqual({ kind: 'unavailable', retryable: true });
    } finally {
      await broken.close();
    }
  });
});
