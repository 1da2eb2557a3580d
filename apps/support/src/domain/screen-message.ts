import { findCardNumber, replaceIbans } from '@pay/observability';

/** What a message was refused for; the person is told which, never the data itself. */
export type SensitiveRefusal = 'CARD_NUMBER' | 'PIN';

export type ScreenedMessage =
  | { readonly outcome: 'accepted'; readonly text: string; readonly masked: readonly 'iban'[] }
  | {
      readonly outcome: 'refused';
      readonly code: 'MESSAGE_HAS_CARD_NUMBER' | 'MESSAGE_HAS_PIN' | 'MESSAGE_EMPTY' | 'MESSAGE_TOO_LONG';
      readonly message: string;
    };

// "my pin is 1234", "PIN: 123456", "passcode 0000", and "1234 is my PIN".
const PIN_BEFORE = /\b(?:pin|pin code|pincode|passcode)\b[^0-9\n]{0,20}\b\d{4,6}\b/i;
const PIN_AFTER = /\b\d{4,6}\b[^0-9\n]{0,15}\b(?:pin|pin code|pincode|passcode)\b/i;

/**
 * Screens a chat message before it is stored: a card number or a PIN is refused (the person is
 * told why and nothing is kept), an IBAN is masked to its country and last four characters
 * (`[IBAN DE…3000]`: enough for an agent to recognise the account). Plain rules, no I/O.
 */
export function screenMessage(raw: string, maxLength: number): ScreenedMessage {
  const text = raw.trim();
  if (text.length === 0) return { outcome: 'refused', code: 'MESSAGE_EMPTY', message: 'the message is empty' };
  if (text.length > maxLength) return { outcome: 'refused', code: 'MESSAGE_TOO_LONG', message: `a message may have at most ${maxLength} characters` };
  // IBANs are masked first: the digits of an IBAN, grouped in fours, are a Luhn-valid run one
  // time in ten, and a person sending their own IBAN must not be told it is a card number.
  let masked = false;
  const out = replaceIbans(text, (iban) => {
    masked = true;
    const compact = iban.replace(/[ -]/g, '').toUpperCase();
    return `[IBAN ${compact.slice(0, 2)}…${compact.slice(-4)}]`;
  });
  if (findCardNumber(out) !== undefined) {
    return {
      outcome: 'refused',
      code: 'MESSAGE_HAS_CARD_NUMBER',
      message: 'for your safety, messages with a card number are not sent: support never needs it; the last four digits are enough',
    };
  }
  if (PIN_BEFORE.test(out) || PIN_AFTER.test(out)) {
    return {
      outcome: 'refused',
      code: 'MESSAGE_HAS_PIN',
      message: 'for your safety, messages with a PIN are not sent: never share your PIN, not even with support',
    };
  }
  return { outcome: 'accepted', text: out, masked: masked ? ['iban'] : [] };
}
