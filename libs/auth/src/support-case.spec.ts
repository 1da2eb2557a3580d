import { randomUUID } from 'node:crypto';
import type { JSONWebKeySet, JWK } from 'jose';
import { importJWK, SignJWT } from 'jose';
import { AccessTokenVerifier } from './access-token-verifier';
import { AuthenticationError } from './auth-errors';
import { parseKeyGrants } from './key-grants';
import { SignedServiceTokens } from './service-tokens';
import type { SupportCase } from './support-case';
import { SUPPORT_CASE_TYPE, SupportCaseSigner } from './support-case';
import { createTestIssuer, testKeyPair } from './testing';

const aCase = (): SupportCase => ({
  conversationId: randomUUID(),
  agentId: 'agent-1',
  paymentId: 'pay-1',
  idempotencyKey: randomUUID(),
  amount: { amount: '1000', currency: 'USD' },
});

describe('support case references', () => {
  let idp: Awaited<ReturnType<typeof createTestIssuer>>;
  let support: { publicJwk: JWK; privateJwk: JWK };
  let orchestration: { publicJwk: JWK; privateJwk: JWK };
  let verifier: AccessTokenVerifier;
  let now = Date.now();

  beforeAll(async () => {
    idp = await createTestIssuer();
    support = await testKeyPair('support-key');
    orchestration = await testKeyPair('orchestration-key');
    const jwks: JSONWebKeySet = { keys: [...idp.jwks.keys, support.publicJwk, orchestration.publicJwk] };
    const keyGrants = parseKeyGrants(
      JSON.stringify({
        'support-key': { subjects: ['support'], roles: ['service'], scopes: ['payments:refund'] },
        'orchestration-key': { subjects: ['payment-orchestration'], roles: ['service'], scopes: ['instruments:read'] },
      }),
    );
    verifier = new AccessTokenVerifier({ jwks, keyGrants, issuer: idp.issuer, audience: idp.audience, clockToleranceSeconds: 0, now: () => now });
  });

  const signer = (jwk: JWK) => SupportCaseSigner.create(jwk, { issuer: idp.issuer, audience: idp.audience }, () => now);
  const refusal = async (token: string): Promise<AuthenticationError> => {
    const error = await verifier.verifySupportCase(token).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(AuthenticationError);
    return error as AuthenticationError;
  };

  it('verifies what support signed with its registered key, exactly as signed', async () => {
    const supportCase = aCase();
    const verified = await verifier.verifySupportCase(await (await signer(support.privateJwk)).sign(supportCase));
    // …with its own id (spent at orchestration at first use) and its expiry, 15 s after signing.
    expect(verified).toEqual({ ...supportCase, caseId: expect.stringMatching(/^[0-9a-f-]{36}$/), expiresAt: expect.any(Date) });
    expect(verified.expiresAt.getTime() - now).toBeLessThanOrEqual(15_000);
    const again = await verifier.verifySupportCase(await (await signer(support.privateJwk)).sign(supportCase));
    expect(again.caseId).not.toBe(verified.caseId);
  });

  it('refuses a case signed by another registered key (orchestration’s), by the identity provider, or by an unknown key', async () => {
    expect((await refusal(await (await signer(orchestration.privateJwk)).sign(aCase()))).message).toMatch(
      /not signed by a key registered for it \(subject "support", scope "payments:refund"\)/,
    );
    // The identity provider signs tokens for anyone, but has no grant: it cannot attest a case.
    const byIdp = await idp.signTestToken(
      {
        sub: 'support',
        role: 'service',
        conversation: randomUUID(),
        agent: 'a',
        payment: 'p',
        idempotency_key: randomUUID(),
        amount: { amount: '1', currency: 'USD' },
      },
      { typ: SUPPORT_CASE_TYPE, expiresIn: 15 },
    );
    expect((await refusal(byIdp)).message).toMatch(/not signed by a key registered for it \(subject "support", scope "payments:refund"\)/);
    const stranger = await testKeyPair('support-key');
    expect((await refusal(await (await signer(stranger.privateJwk)).sign(aCase()))).reason).toBe('bad-signature');
  });

  it('refuses support’s own access token as a case, and a case as an access token', async () => {
    const tokens = await SignedServiceTokens.create(support.privateJwk, {
      issuer: idp.issuer,
      audience: idp.audience,
      subject: 'support',
      scopes: ['payments:refund'],
    });
    expect((await refusal(await tokens.token())).message).toMatch(/support-case\+jwt/);
    await expect(verifier.verify(await (await signer(support.privateJwk)).sign(aCase()))).rejects.toThrow(/not an access token/);
  });

  it('refuses an expired case, a long-lived one, a tampered one and one without its claims', async () => {
    const issued = await (await signer(support.privateJwk)).sign(aCase());
    now += 16_000;
    expect((await refusal(issued)).reason).toBe('expired');
    const privateKey = await importJWK(support.privateJwk, 'ES256');
    const sign = (claims: Record<string, unknown>, lifetime: number) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'support-key', typ: SUPPORT_CASE_TYPE })
        .setIssuer(idp.issuer)
        .setAudience(idp.audience)
        .setSubject('support')
        .setIssuedAt(Math.floor(now / 1000))
        .setExpirationTime(Math.floor(now / 1000) + lifetime)
        .sign(privateKey);
    const claims = {
      conversation: randomUUID(),
      agent: 'a',
      payment: 'p',
      idempotency_key: randomUUID(),
      amount: { amount: '1', currency: 'USD' },
      jti: randomUUID(),
    };
    expect(await verifier.verifySupportCase(await sign(claims, 15))).toMatchObject({ caseId: claims.jti });
    expect((await refusal(await sign(claims, 60))).message).toMatch(/at most 15 seconds/);
    expect((await refusal(await sign(claims, 3600))).message).toMatch(/at most 15 seconds/);
    expect((await refusal(await sign({ ...claims, payment: undefined }, 15))).message).toMatch(/must name/);
    expect((await refusal(await sign({ ...claims, amount: { amount: '-1', currency: 'USD' } }, 15))).message).toMatch(/must name/);
    // Without its id it could not be spent: no case.
    expect((await refusal(await sign({ ...claims, jti: undefined }, 15))).message).toMatch(/jti/);
    const [header, payload, signature] = (await sign(claims, 15)).split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), payment: 'pay-victim' })).toString('base64url');
    expect((await refusal(`${header}.${forged}.${signature}`)).reason).toBe('bad-signature');
  });
});
