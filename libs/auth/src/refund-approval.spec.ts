import { randomUUID } from 'node:crypto';
import type { JSONWebKeySet, JWK } from 'jose';
import { importJWK, SignJWT } from 'jose';
import { AccessTokenVerifier } from './access-token-verifier';
import { AuthenticationError } from './auth-errors';
import { parseKeyGrants } from './key-grants';
import { MandateAttestationSigner } from './mandate-attestation';
import type { RefundApproval } from './refund-approval';
import { readRefundApproval, REFUND_APPROVAL_TYPE, RefundApprovalSigner } from './refund-approval';
import { refundDifference } from './refund-statement';
import { SupportCaseSigner } from './support-case';
import { createTestIssuer, testKeyPair } from './testing';

const anApproval = (): RefundApproval => ({
  conversationId: randomUUID(),
  agentId: 'agent-1',
  paymentId: 'pay-1',
  idempotencyKey: randomUUID(),
  amount: { amount: '1000', currency: 'USD' },
});

describe('refund approvals (the Pay Hub approves an agent’s refund; orchestration verifies)', () => {
  let idp: Awaited<ReturnType<typeof createTestIssuer>>;
  let hub: { publicJwk: JWK; privateJwk: JWK };
  let mandatesOnly: { publicJwk: JWK; privateJwk: JWK };
  let support: { publicJwk: JWK; privateJwk: JWK };
  let verifier: AccessTokenVerifier;
  let now = Date.now();

  beforeAll(async () => {
    idp = await createTestIssuer();
    hub = await testKeyPair('hub-key');
    mandatesOnly = await testKeyPair('old-hub-key');
    support = await testKeyPair('support-key');
    const jwks: JSONWebKeySet = { keys: [...idp.jwks.keys, hub.publicJwk, mandatesOnly.publicJwk, support.publicJwk] };
    const keyGrants = parseKeyGrants(
      JSON.stringify({
        'hub-key': { subjects: ['pay-hub'], roles: ['service'], scopes: ['mandates:attest', 'refunds:approve'] },
        // A hub key registered before approvals: it attests mandates, it approves nothing.
        'old-hub-key': { subjects: ['pay-hub'], roles: ['service'], scopes: ['mandates:attest'] },
        'support-key': { subjects: ['support'], roles: ['service'], scopes: ['payments:refund'] },
      }),
    );
    verifier = new AccessTokenVerifier({ jwks, keyGrants, issuer: idp.issuer, audience: idp.audience, clockToleranceSeconds: 0, now: () => now });
  });

  const signer = (jwk: JWK) => RefundApprovalSigner.create(jwk, { issuer: idp.issuer, audience: idp.audience }, () => now);
  const refusal = async (token: string): Promise<AuthenticationError> => {
    const error = await verifier.verifyRefundApproval(token).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(AuthenticationError);
    return error as AuthenticationError;
  };

  it("verifies the hub's approval exactly as signed, with an id of its own and a minute's life", async () => {
    const approval = anApproval();
    const verified = await verifier.verifyRefundApproval(await (await signer(hub.privateJwk)).sign(approval));
    expect(verified).toEqual({ ...approval, approvalId: expect.stringMatching(/^[0-9a-f-]{36}$/), expiresAt: expect.any(Date) });
    expect(verified.expiresAt.getTime() - now).toBeLessThanOrEqual(60_000);
    const again = await verifier.verifyRefundApproval(await (await signer(hub.privateJwk)).sign(approval));
    expect(again.approvalId).not.toBe(verified.approvalId);
  });

  it("refuses one signed by support's key, by a hub key without refunds:approve, by the identity provider, or by an unknown key", async () => {
    expect((await refusal(await (await signer(support.privateJwk)).sign(anApproval()))).message).toMatch(/not signed by a key registered for it/);
    expect((await refusal(await (await signer(mandatesOnly.privateJwk)).sign(anApproval()))).message).toMatch(/scope "refunds:approve"/);
    const approval = anApproval();
    const byIdp = await idp.signTestToken(
      {
        sub: 'pay-hub',
        role: 'service',
        conversation: approval.conversationId,
        agent: approval.agentId,
        payment: approval.paymentId,
        idempotency_key: approval.idempotencyKey,
        amount: approval.amount,
        jti: randomUUID(),
      },
      { typ: REFUND_APPROVAL_TYPE, expiresIn: 60 },
    );
    expect((await refusal(byIdp)).reason).toBe('bad-signature');
    const stranger = await testKeyPair('hub-key');
    expect((await refusal(await (await signer(stranger.privateJwk)).sign(anApproval()))).reason).toBe('bad-signature');
  });

  it("refuses an agent's access token, a support case and a mandate attestation in its place, and is never an access token", async () => {
    // As the identity provider issues it, for the support service's audience alone: refused by its audience…
    const agentToken = await idp.signTestToken({ sub: 'agent-1', role: 'support' });
    expect((await refusal(agentToken)).message).toMatch(/"aud" claim/);
    // …and one issued for the shared audience by its type.
    const sharedAudience = await idp.signTestToken({ sub: 'agent-1', role: 'support' }, { audience: idp.audience });
    expect((await refusal(sharedAudience)).message).toMatch(/refund-approval\+jwt/);
    const claims = { issuer: idp.issuer, audience: idp.audience };
    const supportCase = await (await SupportCaseSigner.create(support.privateJwk, claims, () => now)).sign(anApproval());
    expect((await refusal(supportCase)).message).toMatch(/refund-approval\+jwt/);
    const attestation = await (
      await MandateAttestationSigner.create(hub.privateJwk, claims, () => now)
    ).sign({ personId: 'p-1', account: 'a'.repeat(64), textVersion: 'v1', ipAddress: '127.0.0.1', userAgent: 'test' });
    expect((await refusal(attestation)).message).toMatch(/refund-approval\+jwt/);
    await expect(verifier.verify(await (await signer(hub.privateJwk)).sign(anApproval()))).rejects.toThrow(/not an access token/);
  });

  it('refuses an expired approval, a long-lived one, a tampered one and one without its claims or id', async () => {
    const issued = await (await signer(hub.privateJwk)).sign(anApproval());
    now += 61_000;
    expect((await refusal(issued)).reason).toBe('expired');
    const privateKey = await importJWK(hub.privateJwk, 'ES256');
    const sign = (claims: Record<string, unknown>, lifetime: number) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'hub-key', typ: REFUND_APPROVAL_TYPE })
        .setIssuer(idp.issuer)
        .setAudience(idp.audience)
        .setSubject('pay-hub')
        .setIssuedAt(Math.floor(now / 1000))
        .setExpirationTime(Math.floor(now / 1000) + lifetime)
        .sign(privateKey);
    const claims = {
      conversation: randomUUID(),
      agent: 'agent-1',
      payment: 'pay-1',
      idempotency_key: randomUUID(),
      amount: { amount: '1', currency: 'USD' },
      jti: randomUUID(),
    };
    expect(await verifier.verifyRefundApproval(await sign(claims, 60))).toMatchObject({ approvalId: claims.jti });
    expect((await refusal(await sign(claims, 3600))).message).toMatch(/at most 60 seconds/);
    expect((await refusal(await sign({ ...claims, agent: undefined }, 60))).message).toMatch(/must name/);
    expect((await refusal(await sign({ ...claims, amount: { amount: '0', currency: 'USD' } }, 60))).message).toMatch(/must name/);
    expect((await refusal(await sign({ ...claims, jti: undefined }, 60))).message).toMatch(/jti/);
    const [header, payload, signature] = (await sign(claims, 60)).split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), amount: { amount: '99999', currency: 'USD' } }),
    ).toString('base64url');
    expect((await refusal(`${header}.${forged}.${signature}`)).reason).toBe('bad-signature');
  });

  it('reads what an approval says for support (not verified), and refuses anything else', async () => {
    const approval = anApproval();
    expect(readRefundApproval(await (await signer(hub.privateJwk)).sign(approval))).toEqual(approval);
    expect(() => readRefundApproval('not-a-jws')).toThrow(/not a JWS/);
    expect(() => readRefundApproval(`${'a'.repeat(10)}.${'b'.repeat(10)}.c`)).toThrow(AuthenticationError);
  });

  it('names the first field in which two statements of a refund differ', () => {
    const approval = anApproval();
    expect(refundDifference(approval, { ...approval })).toBeUndefined();
    expect(refundDifference(approval, { ...approval, conversationId: randomUUID() })).toBe('conversation');
    expect(refundDifference(approval, { ...approval, agentId: 'agent-2' })).toBe('agent');
    expect(refundDifference(approval, { ...approval, paymentId: 'pay-2' })).toBe('payment');
    expect(refundDifference(approval, { ...approval, idempotencyKey: randomUUID() })).toBe('Idempotency-Key');
    expect(refundDifference(approval, { ...approval, amount: { amount: '999', currency: 'USD' } })).toBe('amount');
    expect(refundDifference(approval, { ...approval, amount: { amount: '1000', currency: 'EUR' } })).toBe('amount');
  });
});
