import { decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { SignedServiceTokens } from './service-tokens';

async function signingKey(kid?: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateJwk: { ...(await exportJWK(privateKey)), ...(kid === undefined ? {} : { kid }) }, publicKey };
}

const claims = { issuer: 'https://id.example.com', audience: 'pay', subject: 'support' };

describe('SignedServiceTokens', () => {
  it("signs a service token with the key's kid, the subject and the scopes asked for, valid five minutes", async () => {
    const { privateJwk, publicKey } = await signingKey('orchestration-1');
    const now = Date.UTC(2026, 11, 6, 12, 0, 0);
    const tokens = await SignedServiceTokens.create(privateJwk, { ...claims, subject: 'payment-orchestration', scopes: ['instruments:read'] }, () => now);
    const token = await tokens.token();
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: 'orchestration-1' });
    const { payload } = await jwtVerify(token, publicKey, { issuer: claims.issuer, audience: 'pay', currentDate: new Date(now) });
    expect(payload).toMatchObject({ sub: 'payment-orchestration', role: 'service', scope: 'instruments:read', iat: now / 1000, exp: now / 1000 + 300 });
  });

  it('puts no scope claim when none is asked for', async () => {
    const { privateJwk, publicKey } = await signingKey('support-1');
    const { payload } = await jwtVerify(await (await SignedServiceTokens.create(privateJwk, claims)).token(), publicKey);
    expect(payload.sub).toBe('support');
    expect(payload).not.toHaveProperty('scope');
  });

  it('reuses a token until a minute before it expires, then signs a new one', async () => {
    const { privateJwk } = await signingKey('support-1');
    let now = Date.UTC(2026, 11, 6, 12, 0, 0);
    const tokens = await SignedServiceTokens.create(privateJwk, claims, () => now);
    const first = await tokens.token();
    now += 239_000;
    expect(await tokens.token()).toBe(first);
    now += 1_000;
    expect(await tokens.token()).not.toBe(first);
  });

  it('refuses a key without a kid (no grant could name it)', async () => {
    const { privateJwk } = await signingKey();
    await expect(SignedServiceTokens.create(privateJwk, claims)).rejects.toThrow('needs a "kid"');
  });
});
