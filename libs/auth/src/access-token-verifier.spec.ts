import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { AccessTokenVerifier } from './access-token-verifier';
import { AuthenticationError } from './auth-errors';
import { APP_BACKEND_SCOPES, parseKeyGrants } from './key-grants';
import { parsePublicKeySet } from './key-set';
import { createTestIssuer, signTestToken } from './testing';

async function refusal(token: Promise<string>, verifier: AccessTokenVerifier): Promise<AuthenticationError> {
  const error = await verifier.verify(await token).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AuthenticationError);
  return error as AuthenticationError;
}

describe('AccessTokenVerifier', () => {
  it.each(['ES256', 'EdDSA', 'RS256'] as const)('accepts a %s token from the configured issuer and names subject and role', async (algorithm) => {
    const idp = await createTestIssuer({ algorithm });
    const verifier = new AccessTokenVerifier({ jwks: idp.jwks, issuer: idp.issuer, audience: idp.audience });
    const principal = await verifier.verify(await idp.signTestToken({ sub: 'person-1', role: 'person' }));
    expect(principal).toEqual({ subject: 'person-1', role: 'person', tokenId: expect.any(String), scopes: [] });
  });

  it('refuses expired, tampered, foreign-issuer, wrong-audience tokens and unknown roles', async () => {
    const idp = await createTestIssuer();
    const verifier = new AccessTokenVerifier({ jwks: idp.jwks, issuer: idp.issuer, audience: idp.audience, clockToleranceSeconds: 0 });
    expect((await refusal(idp.signTestToken({ sub: 'p', role: 'person' }, { expiresIn: -60 }), verifier)).reason).toBe('expired');

    const good = await idp.signTestToken({ sub: 'p', role: 'person' });
    const [header, payload, signature] = good.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), role: 'operator' })).toString('base64url');
    expect((await refusal(Promise.resolve(`${header}.${forged}.${signature}`), verifier)).reason).toBe('bad-signature');

    expect((await refusal(idp.signTestToken({ sub: 'p', role: 'person' }, { issuer: 'https://evil.example' }), verifier)).reason).toBe('bad-claims');
    expect((await refusal(idp.signTestToken({ sub: 'p', role: 'person' }, { audience: 'other-api' }), verifier)).reason).toBe('bad-claims');
    expect((await refusal(idp.signTestToken({ sub: 'p', role: 'root' }), verifier)).message).toMatch(/role.*person, service, analyst, operator, advertiser/);
    expect((await refusal(idp.signTestToken({ sub: 'p q', role: 'person' }), verifier)).message).toMatch(/"sub"/);
    expect((await refusal(idp.signTestToken({ sub: 'p', role: 'person' }, { typ: 'step-up+jwt' }), verifier)).message).toMatch(/not an access token/);
    expect((await refusal(Promise.resolve('not-a-jwt'), verifier)).reason).toBe('malformed');
  });

  it('refuses a token signed by a key outside the key set, an unsigned token, and an HMAC token', async () => {
    const idp = await createTestIssuer();
    const stranger = await createTestIssuer();
    const verifier = new AccessTokenVerifier({ jwks: idp.jwks, issuer: idp.issuer, audience: idp.audience });
    expect((await refusal(stranger.signTestToken({ sub: 'p', role: 'person' }), verifier)).reason).toBe('bad-signature');

    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(
      JSON.stringify({ sub: 'p', role: 'operator', iss: idp.issuer, aud: idp.audience, exp: 9_999_999_999 }),
    ).toString('base64url')}.`;
    await expect(verifier.verify(unsigned)).rejects.toBeInstanceOf(AuthenticationError);

    const hmac = await new SignJWT({ sub: 'p', role: 'operator' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(idp.issuer)
      .setAudience(idp.audience)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('a shared secret that nobody should accept'));
    expect((await refusal(Promise.resolve(hmac), verifier)).reason).toBe('bad-signature');
  });

  it('refuses everything when no key set is configured', async () => {
    const idp = await createTestIssuer();
    const verifier = new AccessTokenVerifier({ issuer: idp.issuer, audience: idp.audience });
    expect(verifier.configured).toBe(false);
    expect((await refusal(idp.signTestToken({ sub: 'p', role: 'person' }), verifier)).reason).toBe('no-key-set');
  });

  it('signs with any key for tests of refusals', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await signTestToken(privateKey, { algorithm: 'ES256', issuer: 'i', audience: 'a' }, { sub: 's', role: 'service' });
    expect(token.split('.')).toHaveLength(3);
  });
});

describe('parsePublicKeySet', () => {
  it('takes public keys and refuses private or symmetric ones without quoting them', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    expect(parsePublicKeySet(JSON.stringify({ keys: [publicJwk] })).keys).toHaveLength(1);
    const privateJwk = await exportJWK(privateKey);
    expect(() => parsePublicKeySet(JSON.stringify({ keys: [privateJwk] }))).toThrow(/private or symmetric/);
    expect(() => parsePublicKeySet(JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }))).toThrow(/private or symmetric/);
    expect(() => parsePublicKeySet('{"keys": []}')).toThrow(/non-empty "keys"/);
    let message = '';
    try {
      parsePublicKeySet(`{"keys":[${JSON.stringify(privateJwk)}`);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/not valid JSON/);
    expect(message).not.toContain(privateJwk.d);
  });
});

describe("AccessTokenVerifier: support agents' tokens are for the support service alone", () => {
  it("refuses an agent's token at a service without the agents' audience, whatever audience it names", async () => {
    const idp = await createTestIssuer();
    const wallet = new AccessTokenVerifier({ jwks: idp.jwks, issuer: idp.issuer, audience: idp.audience });
    // As the identity provider issues it (the support audience alone)…
    expect((await refusal(idp.signTestToken({ sub: 'agent-1', role: 'support' }), wallet)).reason).toBe('bad-claims');
    // …or misregistered, for the shared audience too or instead.
    const both = idp.signTestToken({ sub: 'agent-1', role: 'support' }, { audience: [idp.audience, idp.agentAudience] });
    expect((await refusal(both, wallet)).message).toMatch(/support service alone/);
    expect((await refusal(idp.signTestToken({ sub: 'agent-1', role: 'support' }, { audience: idp.audience }), wallet)).message).toMatch(
      /support service alone/,
    );
  });

  it("takes at support an agent's token for the agents' audience alone, and every other role's for the shared one only", async () => {
    const idp = await createTestIssuer();
    const support = new AccessTokenVerifier({ jwks: idp.jwks, issuer: idp.issuer, audience: idp.audience, agentAudience: idp.agentAudience });
    expect(await support.verify(await idp.signTestToken({ sub: 'agent-1', role: 'support' }))).toMatchObject({ subject: 'agent-1', role: 'support' });
    expect(await support.verify(await idp.signTestToken({ sub: 'person-1', role: 'person' }))).toMatchObject({ subject: 'person-1', role: 'person' });
    const agent = (audience: string | string[]) => idp.signTestToken({ sub: 'agent-1', role: 'support' }, { audience });
    expect((await refusal(agent([idp.audience, idp.agentAudience]), support)).message).toMatch(/"pay-support" and no other/);
    expect((await refusal(agent(idp.audience), support)).message).toMatch(/"pay-support" and no other/);
    expect((await refusal(agent('other-api'), support)).reason).toBe('bad-claims');
    // The agents' audience opens nothing to another role.
    const person = idp.signTestToken({ sub: 'person-1', role: 'person' }, { audience: idp.agentAudience });
    expect((await refusal(person, support)).message).toMatch(/must include "pay-api"/);
    const operator = idp.signTestToken({ sub: 'op-1', role: 'operator' }, { audience: idp.agentAudience });
    expect((await refusal(operator, support)).message).toMatch(/must include "pay-api"/);
  });
});

describe('AccessTokenVerifier for advertisers', () => {
  it('gives an advertiser the merchants its token names, and refuses an advertiser token without them', async () => {
    const idp = await createTestIssuer();
    const verifier = new AccessTokenVerifier({ jwks: idp.jwks, issuer: idp.issuer, audience: idp.audience });
    const principal = await verifier.verify(await idp.signTestToken({ sub: 'adv-1', role: 'advertiser', merchants: ['m-2', 'm-1', 'm-2'], org: 'org-books' }));
    expect(principal).toMatchObject({ subject: 'adv-1', role: 'advertiser', merchants: ['m-1', 'm-2'], organisation: 'org-books' });
    for (const merchants of [undefined, [], ['bad id'], 'm-1', Array.from({ length: 1_001 }, (_, i) => `m-${i}`)]) {
      const token = await idp.signTestToken({ sub: 'adv-1', role: 'advertiser', merchants, org: 'org-books' });
      await expect(verifier.verify(token)).rejects.toThrow(/must name the merchants it may see/);
    }
    for (const org of [undefined, '', 'two words', 42]) {
      const token = await idp.signTestToken({ sub: 'adv-1', role: 'advertiser', merchants: ['m-1'], org });
      await expect(verifier.verify(token)).rejects.toThrow(/must name its organisation/);
    }
    // Other roles carry no merchants, even when the token says some.
    expect(await verifier.verify(await idp.signTestToken({ sub: 'a-1', role: 'analyst', merchants: ['m-1'] }))).not.toHaveProperty('merchants');
  });
});

describe('AccessTokenVerifier: verified service tokens, remembered for seconds', () => {
  const counted = (verifier: AccessTokenVerifier) => jest.spyOn(verifier as unknown as { verifyToken: (token: string) => Promise<unknown> }, 'verifyToken');

  it('takes a verified service token again without checking its signature, but never past its expiry', async () => {
    const idp = await createTestIssuer();
    let now = Date.now();
    const verifier = new AccessTokenVerifier({
      jwks: idp.jwks,
      issuer: idp.issuer,
      audience: idp.audience,
      clockToleranceSeconds: 0,
      serviceTokenCacheMs: 600_000,
      now: () => now,
    });
    const checks = counted(verifier);
    const token = await idp.signTestToken({ sub: 'payment-orchestration', role: 'service' }, { expiresIn: 60 });
    expect(await verifier.verify(token)).toMatchObject({ subject: 'payment-orchestration', role: 'service' });
    expect(await verifier.verify(token)).toMatchObject({ subject: 'payment-orchestration', role: 'service' });
    expect(checks).toHaveBeenCalledTimes(1);
    now += 61_000;
    await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'expired' });
  });

  it('checks again after the cache time, and always for tokens that are not service tokens', async () => {
    const idp = await createTestIssuer();
    let now = Date.now();
    const verifier = new AccessTokenVerifier({ jwks: idp.jwks, issuer: idp.issuer, audience: idp.audience, serviceTokenCacheMs: 5_000, now: () => now });
    const checks = counted(verifier);
    const service = await idp.signTestToken({ sub: 'payment-orchestration', role: 'service' });
    const person = await idp.signTestToken({ sub: 'person-1', role: 'person' });
    await verifier.verify(service);
    await verifier.verify(person);
    await verifier.verify(person);
    expect(checks).toHaveBeenCalledTimes(3);
    now += 5_001;
    await verifier.verify(service);
    expect(checks).toHaveBeenCalledTimes(4);
  });

  it('remembers a bounded number of tokens, dropping the oldest', async () => {
    const idp = await createTestIssuer();
    const verifier = new AccessTokenVerifier({ jwks: idp.jwks, issuer: idp.issuer, audience: idp.audience, serviceTokenCacheSize: 2 });
    const checks = counted(verifier);
    const [a, b, c] = await Promise.all(['svc-a', 'svc-b', 'svc-c'].map((sub) => idp.signTestToken({ sub, role: 'service' })));
    for (const token of [a, b, c, c, b]) await verifier.verify(token);
    expect(checks).toHaveBeenCalledTimes(3);
    await verifier.verify(a);
    expect(checks).toHaveBeenCalledTimes(4);
  });
});

describe('AccessTokenVerifier with key grants (a service that signs its own tokens)', () => {
  it("takes a granted key's tokens only for the subject, role and scopes it is registered for", async () => {
    const idp = await createTestIssuer();
    const orchestration = await createTestIssuer();
    const orchestrationKid = orchestration.jwks.keys[0].kid!;
    const verifier = new AccessTokenVerifier({
      jwks: { keys: [...idp.jwks.keys, ...orchestration.jwks.keys] },
      issuer: idp.issuer,
      audience: idp.audience,
      keyGrants: parseKeyGrants(
        JSON.stringify({ [orchestrationKid]: { subjects: ['payment-orchestration'], roles: ['service'], scopes: ['instruments:read'] } }),
      ),
    });
    const own = await verifier.verify(await orchestration.signTestToken({ sub: 'payment-orchestration', role: 'service', scope: 'instruments:read' }));
    expect(own).toMatchObject({ subject: 'payment-orchestration', role: 'service', scopes: ['instruments:read'] });
    // What code running in orchestration could try with its key: each refused.
    const forgeries: [Record<string, unknown>, RegExp][] = [
      [{ sub: 'payment-orchestration', role: 'operator' }, /may not sign for role "operator"/],
      [{ sub: 'sre-1', role: 'operator' }, /may not sign for subject "sre-1"/],
      [{ sub: 'victim', role: 'person' }, /may not sign for subject "victim"/],
      [{ sub: 'adv-1', role: 'advertiser', merchants: ['m-1'], org: 'o-1' }, /may not sign for subject/],
      [{ sub: 'instagram-shop', role: 'service', scope: 'instruments:read' }, /may not sign for subject "instagram-shop"/],
      [{ sub: 'payment-orchestration', role: 'service', scope: 'instruments:read ledger:post' }, /may not grant scope "ledger:post"/],
    ];
    for (const [claims, reason] of forgeries) {
      await expect(verifier.verify(await orchestration.signTestToken(claims as { sub: string; role: string }))).rejects.toThrow(reason);
    }
    // The identity provider's keys have no grant: they sign for anyone, with any scope.
    expect(await verifier.verify(await idp.signTestToken({ sub: 'instagram-shop', role: 'service', scope: 'payments:initiate' }))).toMatchObject({
      scopes: ['payments:initiate'],
    });
  });

  it("keeps an app backend's key to its own app, merchants and scopes: one app cannot act for another", async () => {
    const instagram = await createTestIssuer();
    const facebook = await createTestIssuer();
    const grant = (app: string, merchants: string[]) => ({
      subjects: [`${app}-backend`],
      roles: ['service'],
      scopes: [...APP_BACKEND_SCOPES],
      apps: [app],
      merchants,
    });
    const verifier = new AccessTokenVerifier({
      jwks: { keys: [...instagram.jwks.keys, ...facebook.jwks.keys] },
      issuer: instagram.issuer,
      audience: instagram.audience,
      keyGrants: parseKeyGrants(
        JSON.stringify({ [instagram.jwks.keys[0].kid!]: grant('instagram', ['m-insta-shop']), [facebook.jwks.keys[0].kid!]: grant('facebook', ['m-fb-shop']) }),
      ),
    });
    const own = { sub: 'instagram-backend', role: 'service', app: 'instagram', merchants: ['m-insta-shop'], scope: 'payments:initiate payments:read' };
    expect(await verifier.verify(await instagram.signTestToken(own))).toMatchObject({
      subject: 'instagram-backend',
      app: 'instagram',
      merchants: ['m-insta-shop'],
      scopes: ['payments:initiate', 'payments:read'],
    });
    const forgeries: [Record<string, unknown>, RegExp][] = [
      [{ ...own, sub: 'facebook-backend', app: 'facebook' }, /may not sign for subject "facebook-backend"/],
      [{ ...own, app: 'facebook' }, /may not act for app "facebook"/],
      [{ ...own, merchants: ['m-insta-shop', 'm-fb-shop'] }, /may not act for merchant "m-fb-shop"/],
      [{ ...own, scope: 'payments:initiate instruments:read' }, /may not grant scope "instruments:read"/],
      [{ ...own, scope: 'ledger:write' }, /may not grant scope "ledger:write"/],
    ];
    for (const [claims, reason] of forgeries) {
      await expect(verifier.verify(await instagram.signTestToken(claims as { sub: string; role: string }))).rejects.toThrow(reason);
    }
    await expect(verifier.verify(await instagram.signTestToken({ ...own, app: 'Instagram!' }))).rejects.toThrow(/"app"/);
    await expect(verifier.verify(await instagram.signTestToken({ ...own, merchants: 'm-insta-shop' }))).rejects.toThrow(/"merchants"/);
  });

  it("refuses a person's token signed by an app backend's key: delegation comes from the identity provider alone", async () => {
    const idp = await createTestIssuer();
    const instagram = await createTestIssuer();
    const verifier = new AccessTokenVerifier({
      jwks: { keys: [...idp.jwks.keys, ...instagram.jwks.keys] },
      issuer: idp.issuer,
      audience: idp.audience,
      keyGrants: parseKeyGrants(
        JSON.stringify({
          [instagram.jwks.keys[0].kid!]: { subjects: ['instagram-backend'], roles: ['service'], scopes: [...APP_BACKEND_SCOPES], apps: ['instagram'] },
        }),
      ),
    });
    const delegated = { sub: 'p-1', role: 'person', app: 'instagram', act: { sub: 'instagram-backend' } };
    // Issued by the identity provider (token exchange): the person, through instagram's backend.
    expect(await verifier.verify(await idp.signTestToken(delegated))).toEqual({
      subject: 'p-1',
      role: 'person',
      tokenId: expect.any(String),
      scopes: [],
      app: 'instagram',
      actedBy: 'instagram-backend',
    });
    // The backend's own key cannot make itself the person, with or without the delegation claims.
    for (const claims of [delegated, { sub: 'p-1', role: 'person' }, { sub: 'instagram-backend', role: 'person', app: 'instagram' }]) {
      const refused = await refusal(instagram.signTestToken(claims), verifier);
      expect(refused.reason).toBe('bad-claims');
      expect(refused.message).toMatch(/may not sign for (subject|role)/);
    }
  });

  it('validates the delegation claims of a person\'s token ("app", "act") with what is wrong', async () => {
    const idp = await createTestIssuer();
    const verifier = new AccessTokenVerifier({ jwks: idp.jwks, issuer: idp.issuer, audience: idp.audience });
    // Signed in through an app's client, no one acting: the app alone.
    expect(await verifier.verify(await idp.signTestToken({ sub: 'p-1', role: 'person', app: 'whatsapp' }))).toEqual({
      subject: 'p-1',
      role: 'person',
      tokenId: expect.any(String),
      scopes: [],
      app: 'whatsapp',
    });
    const refusals: [Record<string, unknown>, RegExp][] = [
      [{ app: 'Instagram!' }, /"app" must be an app's name/],
      [{ app: ['instagram'] }, /"app" must be an app's name/],
      [{ app: 'instagram', act: 'instagram-backend' }, /"act" must be an object naming who acts/],
      [{ app: 'instagram', act: { sub: 'has spaces' } }, /"act" must be an object naming who acts/],
      [{ app: 'instagram', act: [{ sub: 'instagram-backend' }] }, /"act" must be an object naming who acts/],
      [{ app: 'instagram', act: { sub: 'instagram-backend', act: { sub: 'facebook-backend' } } }, /one actor, not a chain/],
      [{ act: { sub: 'instagram-backend' } }, /names its app \("app"\) and that app's backend/],
      [{ app: 'facebook', act: { sub: 'instagram-backend' } }, /names its app \("app"\) and that app's backend/],
    ];
    for (const [claims, reason] of refusals) {
      const refused = await refusal(idp.signTestToken({ sub: 'p-1', role: 'person', ...claims }), verifier);
      expect(refused.reason).toBe('bad-claims');
      expect(refused.message).toMatch(reason);
    }
    // Only a person is acted for: a service or an operator naming an actor is refused.
    for (const role of ['service', 'operator']) {
      expect((await refusal(idp.signTestToken({ sub: 'x-1', role, act: { sub: 'instagram-backend' } }), verifier)).message).toMatch(
        /only a person's access token may name who acts/,
      );
    }
  });

  it('reads scopes from the space-separated "scope" claim and refuses a malformed one', async () => {
    const idp = await createTestIssuer();
    const verifier = new AccessTokenVerifier({ jwks: idp.jwks, issuer: idp.issuer, audience: idp.audience });
    expect(await verifier.verify(await idp.signTestToken({ sub: 's-1', role: 'service', scope: 'b:read a:write b:read' }))).toMatchObject({
      scopes: ['a:write', 'b:read'],
    });
    expect(await verifier.verify(await idp.signTestToken({ sub: 's-1', role: 'service' }))).toMatchObject({ scopes: [] });
    for (const scope of [['a:read'], 'ADMIN', 'a:read; drop']) {
      await expect(verifier.verify(await idp.signTestToken({ sub: 's-1', role: 'service', scope }))).rejects.toThrow(/"scope"/);
    }
  });

  it('refuses a malformed AUTH_KEY_GRANTS with what is wrong', () => {
    expect(() => parseKeyGrants('nope')).toThrow(/not JSON/);
    expect(() => parseKeyGrants('[]')).toThrow(/object of key ids/);
    expect(() => parseKeyGrants('{"k":{"subjects":["a"],"roles":["root"],"scopes":[]}}')).toThrow(/\["k"\]\.roles/);
    expect(parseKeyGrants('{}').size).toBe(0);
  });
});
