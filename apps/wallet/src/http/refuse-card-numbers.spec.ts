import { findCardNumberIn } from './refuse-card-numbers.interceptor';

describe('findCardNumberIn', () => {
  it('names the first field that holds a Luhn-valid 13 to 19 digit number, however written', () => {
    expect(findCardNumberIn({ label: 'Work card', note: 'pay with 4111 1111 1111 1111 please' }, 'body')).toBe('body.note');
    expect(findCardNumberIn({ deep: { list: ['ok', '5555-5555-5555-4444'] } }, 'body')).toBe('body.deep.list[1]');
    expect(findCardNumberIn({ amount: 4242424242424242 }, 'body')).toBe('body.amount');
    expect(findCardNumberIn({ '4242424242424242': true }, 'body')).toBe('body');
    // Dressed as a PSP token: `_` joins words, so the digits after it are one.
    expect(findCardNumberIn({ pspToken: 'tok_4242424242424242' }, 'body')).toBe('body.pspToken');
    expect(findCardNumberIn({ pspToken: 'pm_card_4000056655665556' }, 'body')).toBe('body.pspToken');
    expect(findCardNumberIn({ pspToken: 'pm_card_visa', other: 'tok_1N3T00LkdIwHu7ixt44h1F8k' }, 'body')).toBeUndefined();
  });

  it('leaves ids, IBANs and numbers that fail the Luhn check alone', () => {
    expect(findCardNumberIn({ label: '4242424242424241' }, 'body')).toBeUndefined();
    // A spaced IBAN whose digit groups happen to pass the Luhn check is still an IBAN.
    expect(findCardNumberIn({ iban: 'DE89 3704 0044 0532 0130 00' }, 'body')).toBeUndefined();
    expect(findCardNumberIn({ methodId: '12345678-1234-4123-8123-123456789012' }, 'body')).toBeUndefined();
    // 13 digits that pass the Luhn check, but a phone number (E.164) all the same.
    expect(findCardNumberIn({ phone: '+4915112345678', apps: ['facebook'] }, 'body')).toBeUndefined();
    expect(findCardNumberIn({ phone: '+49 151 1234 5678' }, 'body')).toBeUndefined();
    expect(findCardNumberIn({ phone: '+4242424242424242' }, 'body')).toBe('body.phone');
    expect(findCardNumberIn(undefined, 'query')).toBeUndefined();
  });
});
