import { parseStepUpThresholds, StepUpKeysUnavailableError, StepUpProofVerifier } from '@pay/auth';
import { money, PAYMENT_REJECTION_CODES } from '@pay/contracts';
import type { JWK } from 'jose';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { PurchaseRequest } from './purchase-request';
import { checkStepUp } from './step-up-check';

const ISSUER = 'pay:wallet';
const thresholds = parseStepUpThresholds('USD:5000');
const purchase: PurchaseRequest = {
  requestId: '6d0c3c1e-8a47-4f55-b2d4-7f8a9e0c1b23',
  kind: 'purchase',
  payerId: 'ana',
  counterparty: { type: 'merchant', id: 'shop' },
  app: 'instagram',
  country: 'US',
  amount: money(8_000n, 'USD'),
};

/** A proof as the wallet signs it, and the wallet's public key. */
async function walletProof(): Promise<{ proof: string; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'wallet-1', alg: 'ES256' };
  const proof = await new SignJWT({ amr: ['pin'], max_amount: '10000', currency: 'USD' })
    .setProtectedHeader({ alg: 'ES256', kid: 'wallet-1', typ: 'step-up+jwt' })
    .setIssuer(ISSUER)
    .setSubject('ana')
    .setAudience('pay:payments')
    .setJti('11111111-1111-4111-8111-111111111111')
    .setIssuedAt()
    .setExpirationTime('2m')
    .sign(privateKey);
  return { proof, publicJwk };
}

describe('checkStepUp', () => {
  it('passes below the threshold and with a valid proof; refuses a missing or bad proof with its rejection code', async () => {
    const { proof, publicJwk } = await walletProof();
    const verifier = new StepUpProofVerifier({ jwks: { keys: [publicJwk] }, issuer: ISSUER });
    expect(await checkStepUp({ ...purchase, amount: money(5_000n, 'USD') }, thresholds, verifier)).toEqual({ outcome: 'passed' });
    expect(await checkStepUp({ ...purchase, stepUpProof: proof }, thresholds, verifier)).toMatchObject({
      outcome: 'passed',
      grant: { personId: 'ana', method: 'pin' },
    });
    expect(await checkStepUp(purchase, thresholds, verifier)).toMatchObject({ outcome: 'refused', refusal: { code: 'STEP_UP_REQUIRED' } });
    // A proof with a payment below the threshold is checked too (it resets the cumulative allowance).
    expect(await checkStepUp({ ...purchase, amount: money(100n, 'USD'), stepUpProof: proof }, thresholds, verifier)).toMatchObject({
      outcome: 'passed',
      grant: { personId: 'ana' },
    });
    expect(await checkStepUp({ ...purchase, amount: money(100n, 'USD'), stepUpProof: 'not.a.proof' }, thresholds, verifier)).toMatchObject({
      outcome: 'refused',
      refusal: { code: 'STEP_UP_PROOF_INVALID' },
    });
    expect(await checkStepUp({ ...purchase, stepUpProof: 'not.a.proof' }, thresholds, verifier)).toMatchObject({
      outcome: 'refused',
      refusal: { code: 'STEP_UP_PROOF_INVALID' },
    });
    expect(await checkStepUp({ ...purchase, payerId: 'bob', stepUpProof: proof }, thresholds, verifier)).toMatchObject({
      outcome: 'refused',
      refusal: { code: 'STEP_UP_PROOF_INVALID' },
    });
  });

  it("is unavailable, not refused, when the wallet's keys cannot be used: no rejection code exists for it", async () => {
    const { proof, publicJwk } = await walletProof();
    const unusable = new StepUpProofVerifier({ jwks: { keys: [{ ...publicJwk, x: 'AAAA' }] }, issuer: ISSUER });
    const outcome = await checkStepUp({ ...purchase, stepUpProof: proof }, thresholds, unusable);
    expect(outcome.outcome).toBe('unavailable');
    expect(outcome).toMatchObject({ error: expect.any(StepUpKeysUnavailableError) });
    expect(outcome).not.toHaveProperty('refusal');
    expect(PAYMENT_REJECTION_CODES.filter((code) => /UNAVAILABLE/.test(code))).toEqual([]);
  });
});
