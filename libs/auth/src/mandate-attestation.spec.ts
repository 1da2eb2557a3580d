import type { JSONWebKeySet, JWK } from 'jose';
import { AccessTokenVerifier } from './access-token-verifier';
import { AuthenticationError } from './auth-errors';
import { APP_BACKEND_SCOPES, parseKeyGrants } from './key-grants';
import { mandateAccountDigest, MANDATE_ATTESTATION_TYPE, MandateAttestationSigner } from './mandate-attestation';
import { createTestIssuer, testKeyPair } from './testing';

const acceptance = {
  personId: 'person-1',
  account: mandateAccountDigest({ iban: 'DE89 3704 0044 0532 0130 00' }),
  textVersion: 'pay-hub-sepa-2026-12',
  ipAddress: '198.51.100.23',
  userAgent: 'Mozilla/5.0',
};

describe('mandate attestations', () => {
  let idp: Awaited<ReturnType<typeof createTestIssuer>>;
  let hub: { publicJwk: JWK; privateJwk: JWK };
  let backend: { publicJwk: JWK; privateJwk: JWK };
  let support: { publicJwk: JWK; privateJwk: JWK };
  let verifier: AccessTokenVerifier;
  let now = Date.now();

  beforeAll(async () => {
    idp = await createTestIssuer();
    [hub, backend, support] = await Promise.all([testKeyPair('hub-key'), testKeyPair('instagram-key'), testKeyPair('support-key')]);
    const jwks: JSONWebKeySet = { keys: [...idp.jwks.keys, hub.publicJwk, backend.publicJwk, support.publicJwk] };
    const keyGrants = parseKeyGrants(
      JSON.stringify({
        'hub-key': { subjects: ['pay-hub'], roles: ['service'], scopes: ['mandates:attest'] },
        'instagram-key': { subjects: ['instagram-backend'], roles: ['service'], scopes: [...APP_BACKEND_SCOPES], apps: ['instagram'], merchants: ['m-1'] },
        'support-key': { subjects: ['support'], roles: ['service'], scopes: ['payments:refund'] },
      }),
    );
    verifier = new AccessTokenVerifier({ jwks, keyGrants, issuer: idp.issuer, audience: idp.audience, clockToleranceSeconds: 0, now: () => now });
  });

  const signer = (jwk: JWK) => MandateAttestationSigner.create(jwk, { issuer: idp.issuer, audience: idp.audience }, () => now);
  const refusal = (token: string): Promise<unknown> =>
    verifier.verifyMandateAttestation(token).then(
      () => undefined,
      (caught: unknown) => caught,
    );

  it("takes what the hub's registered key attested, with the hub's time", async () => {
    expect(await verifier.verifyMandateAttestation(await (await signer(hub.privateJwk)).sign(acceptance))).toEqual({
      ...acceptance,
      acceptedAt: new Date(now),
    });
  });

  it("refuses an attestation signed by an app backend's key, support's, the identity provider's, or after its minute", async () => {
    for (const key of [backend.privateJwk, support.privateJwk]) {
      const error = await refusal(await (await signer(key)).sign(acceptance));
      expect(error).toBeInstanceOf(AuthenticationError);
      expect((error as Error).message).toMatch(/not signed by a key registered for it \(subject "pay-hub", scope "mandates:attest"\)/);
    }
    const byIdp = await idp.signTestToken(
      { sub: 'pay-hub', role: 'service', scope: 'mandates:attest', person: 'person-1', account: acceptance.account, mandate: {} },
      { typ: MANDATE_ATTESTATION_TYPE, expiresIn: 60 },
    );
    expect(await refusal(byIdp)).toBeInstanceOf(AuthenticationError);
    const issued = await (await signer(hub.privateJwk)).sign(acceptance);
    now += 61_000;
    expect(((await refusal(issued)) as AuthenticationError).reason).toBe('expired');
  });

  it('names the account by a digest both sides compute alike, never the number', () => {
    expect(mandateAccountDigest({ iban: 'de89 3704 0044 0532 0130 00' })).toBe(acceptance.account);
    expect(mandateAccountDigest({ iban: 'DE89370400440532013001' })).not.toBe(acceptance.account);
    expect(mandateAccountDigest({ routingNumber: '110000000', accountNumber: '000123456789' })).toMatch(/^[0-9a-f]{64}$/);
    expect(acceptance.account).not.toContain('3704');
  });
});
