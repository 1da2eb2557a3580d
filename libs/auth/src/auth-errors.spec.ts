import { createLocalJWKSet, errors } from 'jose';
import { AccessTokenVerifier } from './access-token-verifier';
import { AuthenticationError, KeySetUnavailableError, toAuthenticationError } from './auth-errors';
import { keySetFailuresAs } from './key-set';
import type { TestIssuer } from './testing';
import { createTestIssuer } from './testing';

const unavailable = (error: unknown): boolean => toAuthenticationError(error) instanceof KeySetUnavailableError;
const reasonOf = (error: unknown): string | undefined => {
  const mapped = toAuthenticationError(error);
  return mapped instanceof AuthenticationError ? mapped.reason : undefined;
};

describe('toAuthenticationError', () => {
  it('calls every way jose reports a key set it could not have "unavailable", never a bad token', () => {
    expect(unavailable(new errors.JWKSTimeout())).toBe(true);
    expect(unavailable(new errors.JOSEError('Expected 200 OK from the JSON Web Key Set HTTP response'))).toBe(true);
    expect(unavailable(new errors.JOSEError('Failed to parse the JSON Web Key Set HTTP response as JSON'))).toBe(true);
    expect(unavailable(new errors.JWKSInvalid('JSON Web Key Set malformed'))).toBe(true);
    expect(unavailable(new errors.JWKInvalid('Invalid key'))).toBe(true);
    expect(unavailable(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }))).toBe(true);
    expect(unavailable(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toBe(true);
    expect(unavailable(new DOMException('This operation was aborted', 'AbortError'))).toBe(true);
  });

  it('passes a KeySetUnavailableError through, with its cause, and says it is worth asking again', () => {
    const cause = new Error('socket hang up');
    const error = new KeySetUnavailableError('keys gone', { cause });
    expect(toAuthenticationError(error)).toBe(error);
    expect(error.retryable).toBe(true);
    expect(error.cause).toBe(cause);
  });

  it("keeps the token's own faults 401 reasons", () => {
    expect(reasonOf(new errors.JWTExpired('"exp" claim timestamp check failed', {}))).toBe('expired');
    expect(reasonOf(new errors.JWSSignatureVerificationFailed())).toBe('bad-signature');
    expect(reasonOf(new errors.JWKSNoMatchingKey())).toBe('bad-signature');
    expect(reasonOf(new errors.JWKSMultipleMatchingKeys())).toBe('bad-signature');
    expect(reasonOf(new errors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed'))).toBe('bad-signature');
    expect(reasonOf(new errors.JWTClaimValidationFailed('unexpected "iss" claim value', {}, 'iss'))).toBe('bad-claims');
    expect(reasonOf(new errors.JWSInvalid('Invalid Compact JWS'))).toBe('malformed');
    expect(reasonOf(new errors.JWTInvalid('JWT Claims Set must be a top-level JSON object'))).toBe('malformed');
    expect(reasonOf(new TypeError('Cannot read properties of undefined'))).toBe('malformed');
    expect(reasonOf(undefined)).toBe('malformed');
  });
});

describe('keySetFailuresAs', () => {
  const wrapped = (thrown: unknown) =>
    keySetFailuresAs(
      async () => {
        throw thrown;
      },
      (cause) => new KeySetUnavailableError('unavailable', { cause }),
    );
  const header = { alg: 'ES256', kid: 'k1' };

  it('lets through what the token caused: a kid or an algorithm the key set does not hold', async () => {
    for (const refusal of [
      new errors.JWKSNoMatchingKey(),
      new errors.JWKSMultipleMatchingKeys(),
      new errors.JOSENotSupported('Unsupported "alg" value for a JSON Web Key Set'),
    ]) {
      await expect(wrapped(refusal)(header, { payload: '', signature: '' })).rejects.toBe(refusal);
    }
  });

  it('makes anything else "unavailable", listed code or not, keeping it as the cause', async () => {
    for (const failure of [
      new errors.JWKSTimeout(),
      new errors.JOSEError('Expected 200 OK from the JSON Web Key Set HTTP response'),
      new errors.JWKSInvalid('JSON Web Key Set malformed'),
      new TypeError('fetch failed'),
      new TypeError('terminated'),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      new DOMException('Invalid keyData', 'DataError'),
      'a string',
      null,
    ]) {
      const error = await Promise.resolve(wrapped(failure)(header, { payload: '', signature: '' })).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(KeySetUnavailableError);
      expect((error as Error).cause).toBe(failure);
    }
  });

  it('counts an empty key set as none: "no key for this token" then says nothing about the token', async () => {
    const idp = await createTestIssuer();
    const header = JSON.parse(Buffer.from((await idp.signTestToken({ sub: 'p', role: 'person' })).split('.')[0], 'base64url').toString());
    const token = { payload: '', signature: '' };
    const asUnavailable = (cause: unknown): Error => new KeySetUnavailableError('unavailable', { cause });
    await expect(keySetFailuresAs(createLocalJWKSet({ keys: [] }), asUnavailable)(header, token)).rejects.toBeInstanceOf(KeySetUnavailableError);
    const stranger = await createTestIssuer();
    await expect(keySetFailuresAs(createLocalJWKSet(stranger.jwks), asUnavailable)(header, token)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    await expect(keySetFailuresAs(createLocalJWKSet(idp.jwks), asUnavailable)(header, token)).resolves.toBeDefined();
  });
});

describe('AccessTokenVerifier with a key URL (fetch replaced, no I/O)', () => {
  let idp: TestIssuer;
  let fetchSpy: jest.SpyInstance;

  beforeAll(async () => {
    idp = await createTestIssuer();
  });

  afterEach(() => fetchSpy?.mockRestore());

  const answering = (answer: () => Promise<Response>): void => {
    fetchSpy = jest.spyOn(globalThis, 'fetch').mockImplementation(answer);
  };
  const json = (status: number, body: unknown): Promise<Response> =>
    Promise.resolve(new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }));
  const verifier = (): AccessTokenVerifier =>
    new AccessTokenVerifier({ jwksUrl: 'https://id.test.pay/.well-known/jwks.json', issuer: idp.issuer, audience: idp.audience });
  const outcome = async (token: string, subject = verifier()): Promise<string> => {
    try {
      await subject.verify(token);
      return 'accepted';
    } catch (error) {
      if (error instanceof KeySetUnavailableError) return 'unavailable';
      if (error instanceof AuthenticationError) return `refused: ${error.reason}`;
      throw error;
    }
  };

  it.each<[string, () => Promise<Response>]>([
    ['503', () => json(503, { code: 'UNAVAILABLE' })],
    ['404', () => json(404, { code: 'NOT_FOUND' })],
    ['a redirect (not followed)', () => Promise.resolve(new Response(null, { status: 302, headers: { location: 'https://elsewhere.example/jwks.json' } }))],
    ['200 with HTML', () => Promise.resolve(new Response('<html>maintenance</html>', { status: 200, headers: { 'content-type': 'text/html' } }))],
    ['200 with JSON that is not a key set', () => json(200, { status: 'ok' })],
    ['200 with an empty key set', () => json(200, { keys: [] })],
    [
      'a refused connection',
      () => Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) })),
    ],
    ['a timeout', () => Promise.reject(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))],
    ['an error nobody listed', () => Promise.reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))],
  ])('a valid token is unchecked (KeySetUnavailableError), not refused, when the key URL answers %s', async (_what, answer) => {
    answering(answer);
    expect(await outcome(await idp.signTestToken({ sub: 'p-1', role: 'person' }))).toBe('unavailable');
  });

  it("a key in the fetched set that does not import is the key set's problem, not the token's", async () => {
    const [key] = idp.jwks.keys;
    answering(() => json(200, { keys: [{ ...key, x: 'AAAA' }] }));
    expect(await outcome(await idp.signTestToken({ sub: 'p-1', role: 'person' }))).toBe('unavailable');
  });

  it('with the key set fetched, accepts a valid token and refuses an unknown key, a tampered and an expired token (401)', async () => {
    answering(() => json(200, idp.jwks));
    const subject = verifier();
    expect(await outcome(await idp.signTestToken({ sub: 'p-1', role: 'person' }), subject)).toBe('accepted');
    const stranger = await createTestIssuer();
    expect(await outcome(await stranger.signTestToken({ sub: 'p-1', role: 'person' }), subject)).toBe('refused: bad-signature');
    const [header, payload, signature] = (await idp.signTestToken({ sub: 'p-1', role: 'person' })).split('.');
    const raised = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), role: 'operator' })).toString('base64url');
    expect(await outcome(`${header}.${raised}.${signature}`, subject)).toBe('refused: bad-signature');
    expect(await outcome(await idp.signTestToken({ sub: 'p-1', role: 'person' }, { expiresIn: -3_600 }), subject)).toBe('refused: expired');
    // One fetch served every check: an unknown kid right after a fetch does not fetch again (cooldown).
    expect(fetchSpy).toHaveBeenCalledTimes(1);
  });

  it('refuses what is not a JWS without fetching anything', async () => {
    answering(() => json(503, {}));
    expect(await outcome('not.a.jwt')).toBe('refused: malformed');
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});
