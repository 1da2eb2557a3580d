import { findCardNumber } from '@pay/observability';
import { screenMessage } from './screen-message';

/** A British IBAN (ISO 13616 check digits) with the given 14 account digits, grouped in fours. */
function britishIban(accountDigits: string): string {
  const bban = `BUKB${accountDigits}`;
  const numeric = `${bban}GB00`.replace(/[A-Z]/g, (letter) => String(letter.charCodeAt(0) - 55));
  const check = 98 - Number(BigInt(numeric) % 97n);
  return `GB${String(check).padStart(2, '0')}${bban}`.replace(/(.{4})(?=.)/g, '$1 ');
}

describe('screenMessage', () => {
  it.each([
    ['4242 4242 4242 4242', 'MESSAGE_HAS_CARD_NUMBER'],
    ['my card is 4000-0566-5566-5556 please help', 'MESSAGE_HAS_CARD_NUMBER'],
    ['number 5555555555554444', 'MESSAGE_HAS_CARD_NUMBER'],
    ['my PIN is 4821', 'MESSAGE_HAS_PIN'],
    ['pin: 123456', 'MESSAGE_HAS_PIN'],
    ['0000 is my pin code', 'MESSAGE_HAS_PIN'],
    ['   ', 'MESSAGE_EMPTY'],
  ])('refuses %j (%s)', (text, code) => {
    expect(screenMessage(text, 2_000)).toMatchObject({ outcome: 'refused', code });
  });

  it('refuses a message over the length limit', () => {
    expect(screenMessage('a'.repeat(11), 10)).toMatchObject({ outcome: 'refused', code: 'MESSAGE_TOO_LONG' });
  });

  it('masks an IBAN to its country and last four characters', () => {
    expect(screenMessage('refund to DE89 3704 0044 0532 0130 00 please', 2_000)).toEqual({
      outcome: 'accepted',
      text: 'refund to [IBAN DE…3000] please',
      masked: ['iban'],
    });
    expect(screenMessage('gb82-west-1234-5698-7654-32', 2_000)).toMatchObject({ text: '[IBAN GB…5432]', masked: ['iban'] });
  });

  it('keeps ordinary text, amounts, order numbers and a card’s last four digits', () => {
    for (const text of ['I paid 12.50 on order 123456789 with the card ending 4242', 'payment pay_01HXYZ failed twice', 'PIN was wrong yesterday']) {
      expect(screenMessage(text, 2_000)).toEqual({ outcome: 'accepted', text, masked: [] });
    }
  });

  it('does not take a non-Luhn digit run for a card', () => {
    expect(screenMessage('tracking 1234567812345678', 2_000)).toMatchObject({ outcome: 'accepted' });
  });

  it('masks an IBAN whose digits, grouped in fours, also pass the card check (one IBAN in ten)', () => {
    // 2026 1207 0000 05 is a Luhn-valid run of 14 digits: alone it would be refused as a card.
    const iban = britishIban('20261207000005');
    expect(findCardNumber(iban)).toBeDefined();
    expect(screenMessage(`refund to ${iban} please`, 2_000)).toEqual({
      outcome: 'accepted',
      text: 'refund to [IBAN GB…0005] please',
      masked: ['iban'],
    });
  });

  it('still refuses a card number sent beside an IBAN', () => {
    expect(screenMessage('refund to DE89 3704 0044 0532 0130 00 from 4242 4242 4242 4242', 2_000)).toMatchObject({
      outcome: 'refused',
      code: 'MESSAGE_HAS_CARD_NUMBER',
    });
  });
});
