import { findCardNumber, isSensitiveKey, passesLuhn, scrubText, scrubValue } from './redaction';

describe('redaction', () => {
  it('recognises card numbers by the Luhn check', () => {
    expect(passesLuhn('4242424242424242')).toBe(true);
    expect(passesLuhn('4242424242424241')).toBe(false);
    expect(findCardNumber('pay with 4242 4242 4242 4242 please')).toBe('4242 4242 4242 4242');
    expect(findCardNumber('order 1234567890123')).toBeUndefined();
  });

  it('scrubs card numbers, IBANs, e-mails and phone numbers from text', () => {
    const text = 'card 4000-0566-5566-5556 iban DE89 3704 0044 0532 0130 00 mail ana@example.com tel +49 30 1234567';
    const scrubbed = scrubText(text);
    expect(scrubbed).not.toMatch(/4000|DE89|ana@|1234567/);
    expect(scrubbed).toContain('[REDACTED:card]');
    expect(scrubbed).toContain('[REDACTED:iban]');
    expect(scrubbed).toContain('[REDACTED:email]');
    expect(scrubbed).toContain('[REDACTED:phone]');
  });

  it('does not mistake the digit groups of a UUID for a card number', () => {
    // Its first three groups join to 4242424242424242, which passes Luhn like a grouped card.
    const uuid = '42424242-4242-4242-4242-424242424242';
    expect(findCardNumber(`payment ${uuid}`)).toBeUndefined();
    expect(scrubText(`payment ${uuid}`)).toBe(`payment ${uuid}`);
    expect(scrubText(`payment ${uuid} card 4242 4242 4242 4242`)).toBe(`payment ${uuid} card [REDACTED:card]`);
  });

  it('does not mistake a traceparent whose span id is all decimal digits for a card number', () => {
    // Span id and flags join to 195280920917770701, which passes Luhn: alone it reads as a card.
    const traceparent = '00-ca1bf89f50574bbb0c94fb2dafd21de6-1952809209177707-01';
    expect(findCardNumber('1952809209177707-01')).toBeDefined();
    expect(findCardNumber(`headers {"traceparent": "${traceparent}"}`)).toBeUndefined();
    expect(scrubText(`traceparent ${traceparent}`)).toBe(`traceparent ${traceparent}`);
  });

  it('keeps ordinary ids and amounts', () => {
    expect(scrubText('payment 7f1c amount 1250 EUR at 2026-11-25T08:00:00Z')).toBe('payment 7f1c amount 1250 EUR at 2026-11-25T08:00:00Z');
  });

  it('replaces sensitive keys at any depth', () => {
    const scrubbed = scrubValue({ user: { pin: '1234', Email: 'x@y.io', name: 'Ana' }, headers: { authorization: 'Bearer abc' } });
    expect(scrubbed).toEqual({ user: { pin: '[REDACTED]', Email: '[REDACTED]', name: 'Ana' }, headers: { authorization: '[REDACTED]' } });
  });

  it('recognises secrets by the words in a key, whatever its case or separators', () => {
    const keys = [
      'pspToken',
      'accessToken',
      'stepUpProof',
      'vaultToken',
      'holderName',
      'DATABASE_URL',
      'x-api-key',
      'refresh_tokens',
      'clientSecret',
      'newPin',
      // A header naming a token, in any case (a refund approval is a JWS: its value is caught as a JWT).
      'support-agent-token',
      'Support-Agent-Token',
    ];
    const scrubbed = scrubValue(Object.fromEntries(keys.map((key) => [key, 'value']))) as Record<string, unknown>;
    for (const key of keys) expect([key, scrubbed[key]]).toEqual([key, '[REDACTED]']);
    // Words that merely contain a sensitive one are kept: a pinned flag, a shipping amount, a tokenizer name.
    expect(scrubValue({ pinned: true, shipping: 5, opinion: 'ok', paymentId: 'p1', pinAttempts: 2, sequenceNumber: 7 })).toEqual({
      pinned: true,
      shipping: 5,
      opinion: 'ok',
      paymentId: 'p1',
      pinAttempts: 2,
      sequenceNumber: 7,
    });
  });

  it('scrubs below any depth and survives cycles', () => {
    let deep: Record<string, unknown> = { pin: '1234', note: 'card 4242 4242 4242 4242' };
    for (let i = 0; i < 20; i += 1) deep = { inner: deep };
    expect(JSON.stringify(scrubValue(deep))).not.toMatch(/1234|4242/);
    let deeper: Record<string, unknown> = { secret: 'x' };
    for (let i = 0; i < 40; i += 1) deeper = { inner: deeper };
    expect(JSON.stringify(scrubValue(deeper))).not.toContain('"x"');
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    expect(scrubValue(cyclic)).toEqual({ name: 'a', self: '[CIRCULAR]' });
    const shared = { currency: 'EUR' };
    expect(scrubValue({ a: shared, b: shared })).toEqual({ a: shared, b: shared });
  });

  it('scrubs JWTs, API keys, bearer tokens and credentials in URLs from text', () => {
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJwZXJzb246YW5hIn0.c2lnbmF0dXJlLWJ5dGVz';
    const text = `token ${jwt} key sk_live_51Habc123XYZdef and whsec_abcdefgh123 auth Bearer abc.def-ghi_jkl db postgres://pay:s3cret@db:5432/pay`;
    const scrubbed = scrubText(text);
    expect(scrubbed).not.toMatch(/eyJ|sk_live|whsec_|abc\.def|s3cret/);
    expect(scrubbed).toContain('postgres://[REDACTED]@db:5432/pay');
    expect(scrubbed).toContain('Bearer [REDACTED]');
  });

  it('scrubs what needs no digit in text that has none, and returns other digit-free text as it is', () => {
    const secrets = {
      jwt: 'eyJhbGciOiJFUzI.eyJzdWIiOiJwZXJ.c2lnbmF0dXJl',
      key: 'sk_live_abcdefghijkl',
      hook: 'whsec_abcdefghijkl',
      bearer: 'Bearer abcdefghijkl',
      basic: 'basic YWxhZGRpbjpvcGVuc2VzYW1l',
      url: 'postgres://pay:secret@db/pay',
      mail: 'ana@example.com',
    };
    for (const [name, secret] of Object.entries(secrets)) {
      expect([name, scrubText(`sent ${secret} here`)]).toEqual([name, expect.stringContaining('REDACTED')]);
    }
    const plain = 'PSP webhook recorded for payment_intent.succeeded';
    expect(scrubText(plain)).toBe(plain);
  });

  it('judges a key the same however often it is asked', () => {
    for (let i = 0; i < 3; i += 1) {
      expect(isSensitiveKey('stepUpProof')).toBe(true);
      expect(isSensitiveKey('paymentId')).toBe(false);
    }
  });

  it('scrubs lower-case and dashed IBANs when their check digits hold, and national phone numbers', () => {
    const scrubbed = scrubText('iban de89 3704 0044 0532 0130 00 or DE89-3704-0044-0532-0130-00; call (415) 555-0123, 415-555-0123 or 030 1234567');
    expect(scrubbed).not.toMatch(/3704|555|1234567/);
    // A UUID whose tail passes the IBAN check (ac27-b934ac0e66ef does) is an id.
    expect(scrubText('cell 776ddfab-ac6e-5c7d-ac27-b934ac0e66ef')).toBe('cell 776ddfab-ac6e-5c7d-ac27-b934ac0e66ef');
    // Hex ids that start like an IBAN fail its check and stay.
    expect(scrubText('commit de12abcdef0123456789ab')).toBe('commit de12abcdef0123456789ab');
    expect(scrubText('at 2026-12-05T20:15:00Z, 1250 EUR')).toBe('at 2026-12-05T20:15:00Z, 1250 EUR');
  });
});
