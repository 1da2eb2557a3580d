import { AccessTokenVerifier, APP_BACKEND_SCOPES } from '@pay/auth';
import type { TestIssuer } from '@pay/auth/testing';
import { createTestIssuer } from '@pay/auth/testing';
import type { ConsumedEvent } from '@pay/messaging';
import { PermanentEventError } from '@pay/messaging';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import { attestSenderOf, authenticateSender } from './purchase-request-sender';
import { SENDER_ATTESTATION_HEADER, SenderAttestations } from './sender-attestation';

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

describe('sender attestations: a dead-lettered request replayed by an operator for its attested sender', () => {
  let attestations: SenderAttestations;
  let otherKey: SenderAttestations;

  const orchestrationKey = async (): Promise<SenderAttestations> => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    return SenderAttestations.create({ ...(await exportJWK(privateKey)), kid: `po-${randomUUID()}`, alg: 'ES256' });
  };

  beforeAll(async () => {
    attestations = await orchestrationKey();
    otherKey = await orchestrationKey();
  });

  /** A purchase request record as Kafka holds it: its value's bytes, headers and time. */
  const record = (app: string, headers: Record<string, string>, requestId = randomUUID()) => {
    const value = Buffer.from(JSON.stringify({ id: randomUUID(), type: 'payments.purchase.requested', data: { app, requestId } }));
    return { value, headers, timestamp: String(Date.now()) };
  };
  const asEvent = (app: string, message: ReturnType<typeof record>): ConsumedEvent<{ app: string }> => ({
    ...request(app, message.headers),
    value: message.value,
  });
  const operator = () => idp.signTestToken({ sub: 'sre-1', role: 'operator' });

  it("attests the verified sender of a dead letter (never its token); an operator's replay with it counts as that sender", async () => {
    const original = record('messenger', { authorization: `Bearer ${await backend('messenger')}` });
    const headers = await attestSenderOf(verifier, attestations, original);
    expect(Object.keys(headers)).toEqual([SENDER_ATTESTATION_HEADER]);
    expect(headers[SENDER_ATTESTATION_HEADER]).not.toContain(original.headers.authorization.slice(7));
    const replay = { ...original, headers: { authorization: `Bearer ${await operator()}`, [SENDER_ATTESTATION_HEADER]: headers[SENDER_ATTESTATION_HEADER]! } };
    await expect(authenticateSender(verifier, asEvent('messenger', replay), attestations)).resolves.toBe('service:messenger-backend');
    // A replay that fails again keeps its attestation: the same sender, as verified the first time;
    // also one re-sent with a wrong token (an expired operator's, a person's).
    const again = await attestSenderOf(verifier, attestations, replay);
    expect((await attestations.verify(again[SENDER_ATTESTATION_HEADER]!)).sender).toMatchObject({ subject: 'messenger-backend', app: 'messenger' });
    const expiredOperator = await idp.signTestToken({ sub: 'sre-1', role: 'operator' }, { expiresIn: -3600 });
    for (const token of [expiredOperator, await idp.signTestToken({ sub: 'p-1', role: 'person' })]) {
      const misSent = { ...replay, headers: { ...replay.headers, authorization: `Bearer ${token}` } };
      await expect(authenticateSender(verifier, asEvent('messenger', misSent), attestations)).rejects.toBeInstanceOf(PermanentEventError);
      expect(await attestSenderOf(verifier, attestations, misSent)).toEqual({ [SENDER_ATTESTATION_HEADER]: headers[SENDER_ATTESTATION_HEADER] });
    }
  });

  it('attests nothing for a sender that did not verify, and removes an attestation the producer put there itself', async () => {
    const genuine = record('messenger', { authorization: `Bearer ${await backend('messenger')}` });
    const stolen = (await attestSenderOf(verifier, attestations, genuine))[SENDER_ATTESTATION_HEADER]!;
    const senders: Array<Record<string, string>> = [
      {},
      { authorization: `Bearer ${await backend('instagram')}` },
      { authorization: `Bearer ${await operator()}` },
    ];
    for (const headers of senders) {
      expect(await attestSenderOf(verifier, attestations, record('messenger', { ...headers, [SENDER_ATTESTATION_HEADER]: stolen }))).toEqual({
        [SENDER_ATTESTATION_HEADER]: undefined,
      });
    }
  });

  it("cannot forge another app's identity: an attestation is for one request's exact bytes, signed by orchestration's key, taken from an operator only", async () => {
    const messengers = record('messenger', { authorization: `Bearer ${await backend('messenger')}` });
    const attestation = (await attestSenderOf(verifier, attestations, messengers))[SENDER_ATTESTATION_HEADER]!;
    const asOperator = { authorization: `Bearer ${await operator()}`, [SENDER_ATTESTATION_HEADER]: attestation };
    // messenger's attestation on a request naming facebook, or on another messenger request: another request.
    await expect(authenticateSender(verifier, asEvent('facebook', record('facebook', asOperator)), attestations)).rejects.toThrow(/for another request/);
    await expect(authenticateSender(verifier, asEvent('messenger', record('messenger', asOperator)), attestations)).rejects.toThrow(/for another request/);
    // The bytes of messenger's request with the app changed to facebook: another request too.
    const edited = { ...messengers, headers: asOperator, value: Buffer.from(messengers.value.toString().replace('"messenger"', '"facebook"')) };
    await expect(authenticateSender(verifier, asEvent('facebook', edited), attestations)).rejects.toThrow(/for another request/);
    // Signed by another key (not orchestration's own), or none at all: refused.
    const forged = (await attestSenderOf(verifier, otherKey, messengers))[SENDER_ATTESTATION_HEADER]!;
    const withForged = { ...messengers, headers: { ...asOperator, [SENDER_ATTESTATION_HEADER]: forged } };
    await expect(authenticateSender(verifier, asEvent('messenger', withForged), attestations)).rejects.toThrow(/not one payment-orchestration signed/);
    const bare = { ...messengers, headers: { authorization: asOperator.authorization } };
    await expect(authenticateSender(verifier, asEvent('messenger', bare), attestations)).rejects.toThrow(/only with the "sender-attestation"/);
    // An app's backend sending messenger's attestation is still judged by its own token: instagram stays instagram.
    const fromInstagram = { ...messengers, headers: { authorization: `Bearer ${await backend('instagram')}`, [SENDER_ATTESTATION_HEADER]: attestation } };
    await expect(authenticateSender(verifier, asEvent('messenger', fromInstagram), attestations)).rejects.toThrow(/acts for the app "instagram"/);
    // A person's token is no operator's.
    const fromPerson = { ...messengers, headers: { ...asOperator, authorization: `Bearer ${await idp.signTestToken({ sub: 'p-1', role: 'person' })}` } };
    await expect(authenticateSender(verifier, asEvent('messenger', fromPerson), attestations)).rejects.toThrow(/not an app backend's/);
  });
});
