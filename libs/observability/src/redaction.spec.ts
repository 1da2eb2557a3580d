import { findCardNumber, passesLuhn, scrubText, scrubValue } from './redaction';

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
});
