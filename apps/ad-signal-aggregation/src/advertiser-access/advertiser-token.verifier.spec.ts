import { AuthenticationError } from '@pay/auth';
import { createTestIssuer } from '@pay/auth/testing';
import type { TestIssuer } from '@pay/auth/testing';
import { AdvertiserTokenVerifier, NotAnAdvertiserError } from './advertiser-token.verifier';

describe('AdvertiserTokenVerifier', () => {
  let idp: TestIssuer;
  let verifier: AdvertiserTokenVerifier;

  beforeAll(async () => {
    idp = await createTestIssuer();
    verifier = new AdvertiserTokenVerifier({ jwks: idp.jwks, issuer: idp.issuer, audience: idp.audience });
  });

  it('accepts an advertiser with the merchants it may see', async () => {
    const token = await idp.signTestToken({ sub: 'adv-1', role: 'advertiser', merchants: ['shop-b', 'shop-a', 'shop-a'] });
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'adv-1', merchants: ['shop-a', 'shop-b'] });
  });

  it('refuses other roles (403), tokens without a usable merchants claim, unknown roles and foreign issuers (401)', async () => {
    await expect(verifier.verify(await idp.signTestToken({ sub: 'p-1', role: 'analyst' }))).rejects.toBeInstanceOf(NotAnAdvertiserError);
    for (const claims of [{ merchants: 'shop-a' }, { merchants: [] }, { merchants: ['shop a'] }, { merchants: [7] }, {}]) {
      await expect(verifier.verify(await idp.signTestToken({ sub: 'adv-1', role: 'advertiser', ...claims }))).rejects.toThrow(/must name the merchants/);
    }
    await expect(verifier.verify(await idp.signTestToken({ sub: 'adv-1', role: 'root', merchants: ['shop-a'] }))).rejects.toBeInstanceOf(AuthenticationError);
    await expect(verifier.verify(await idp.signTestToken({ sub: 'adv-1', role: 'advertiser', merchants: ['shop-a'] }, { issuer: 'https://evil.example' }))).rejects.toBeInstanceOf(AuthenticationError);
    await expect(verifier.verify(await idp.signTestToken({ sub: 'adv-1', role: 'advertiser', merchants: ['shop-a'] }, { expiresIn: -120 }))).rejects.toThrow(/expired/);
  });

  it('refuses everything without a key set', async () => {
    const token = await idp.signTestToken({ sub: 'adv-1', role: 'advertiser', merchants: ['shop-a'] });
    await expect(new AdvertiserTokenVerifier({ issuer: idp.issuer, audience: idp.audience }).verify(token)).rejects.toThrow(/no token key set/);
  });
});
