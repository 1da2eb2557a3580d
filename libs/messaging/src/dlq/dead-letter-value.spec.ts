import { deadLetterValue } from './dead-letter-value';

describe('deadLetterValue', () => {
  it('keeps a message with nothing sensitive byte for byte', () => {
    const original = Buffer.from('{"id":"e1","payload":{"amount":{"minor":"1250","currency":"EUR"}}}');
    expect(deadLetterValue(original)).toEqual({ value: original, redacted: false });
    expect(deadLetterValue(null)).toEqual({ value: null, redacted: false });
  });

  it('redacts step-up proofs, tokens and contact details in free text, and says so', () => {
    const original = Buffer.from(
      JSON.stringify({
        id: 'e2',
        payload: { stepUpProof: 'proof-abc', pspToken: 'tok_123456789', description: 'gift for ana@example.com, card 4242 4242 4242 4242' },
      }),
    );
    const { value, redacted } = deadLetterValue(original);
    expect(redacted).toBe(true);
    const text = value!.toString('utf8');
    expect(text).not.toMatch(/proof-abc|tok_123|ana@example|4242/);
    expect(JSON.parse(text)).toMatchObject({
      id: 'e2',
      payload: { stepUpProof: '[REDACTED]', description: 'gift for [REDACTED:email], card [REDACTED:card]' },
    });
  });

  it('scrubs a message that is not JSON as text', () => {
    const { value, redacted } = deadLetterValue(Buffer.from('not json: 4242424242424242'));
    expect(redacted).toBe(true);
    expect(value!.toString('utf8')).toBe('not json: [REDACTED:card]');
  });
});
