import { AccessTokenVerifier, APP_BACKEND_SCOPES } from '@pay/auth';
import type { TestIssuer } from '@pay/auth/testing';
import { createTestIssuer } from '@pay/auth/testing';
import type { ConsumedEvent } from '@pay/messaging';
import { PermanentEventError } from '@pay/messaging';
import { authenticateSender } from './purchase-request-sender';

let idp: TestIssuer;
let verifier: AccessTokenVerifier;

beforeAll(async () => {
  idp = await createTestIssuer();
  verifier = new AccessTokenVerifier({ jwks: idp.jwks, issuer: idp.issuer, audience: idp.audience, serviceTokenCacheMs: 0 });
});

const backend = (app: string, expiresIn?: number): Promise<string> =>
  idp.signTestToken({ sub: `${app}-backend`, role: 'service', app, scope: APP_BACKEND_SCOPES.join(' ') }, expiresIn === undefined ? {} : { expiresIn });

function request(app: string, headers: Record<string, string> | undefined, timestamp: number = Date.now()): ConsumedEvent<{ app: string }> {
  return {
    envelope: { data: { app } } as ConsumedEvent<{ app: string }>['envelope'],
    topic: 'payments.purchase-requests.v1',
    partition: 0,
    offset: '0',
    ...(headers ? { headers } : {}),
    timestamp: String(timestamp),
  };
}

describe('authenticateSender (the Kafka door)', () => {
  it("answers the app backend its token authenticates: what the sender's rate limit is keyed by", async () => {
    await expect(authenticateSender(verifier, request('instagram', { authorization: `Bearer ${await backend('instagram')}` }))).resolves.toBe(
      'service:instagram-backend',
    );
  });

  it('refuses, as a dead letter, a request without a token, with a malformed one, or with a forged one', async () => {
    const token = await backend('instagram');
    for (const headers of [undefined, { authorization: '' }, { authorization: token }, { authorization: `Bearer ${token.slice(0, -4)}AAAA` }]) {
      await expect(authenticateSender(verifier, request('instagram', headers))).rejects.toBeInstanceOf(PermanentEventError);
    }
  });

  it("refuses a backend naming another app, a person's token and a service's without payments:initiate", async () => {
    await expect(authenticateSender(verifier, request('facebook', { authorization: `Bearer ${await backend('messenger')}` }))).rejects.toThrow(
      /acts for the app "messenger"; it cannot ask for a payment in "facebook"/,
    );
    const person = await idp.signTestToken({ sub: 'p-1', role: 'person' });
    await expect(authenticateSender(verifier, request('instagram', { authorization: `Bearer ${person}` }))).rejects.toThrow(/not an app backend's/);
    const unscoped = await idp.signTestToken({ sub: 'instagram-backend', role: 'service', app: 'instagram', scope: 'payments:read' });
    await expect(authenticateSender(verifier, request('instagram', { authorization: `Bearer ${unscoped}` }))).rejects.toThrow(/payments:initiate/);
  });

  it('judges the token as of when the record was written: lag does not expire it, a later record time does', async () => {
    // Expired a minute ago (beyond the 30 s tolerance), written to Kafka while it was valid.
    const expired = await backend('instagram', -60);
    const writtenWhileValid = Date.now() - 70_000;
    await expect(authenticateSender(verifier, request('instagram', { authorization: `Bearer ${expired}` }, writtenWhileValid))).resolves.toBe(
      'service:instagram-backend',
    );
    await expect(authenticateSender(verifier, request('instagram', { authorization: `Bearer ${expired}` }))).rejects.toThrow(/expired/);
    // A record time in the future is taken as now.
    await expect(authenticateSender(verifier, request('instagram', { authorization: `Bearer ${expired}` }, Date.now() + 3_600_000))).rejects.toBeInstanceOf(
      PermanentEventError,
    );
  });
});
