/**
 * Card numbers typed into Stripe.js's card frame (elements/stripe-js.ts), as Stripe's test mode
 * knows them: each becomes a PaymentMethod that behaves like one of the `pm_card_*` test tokens,
 * or is refused when the SetupIntent is confirmed. Any other number that passes the Luhn check is
 * a card that approves, its brand read from its prefix. The number itself is never kept: only
 * brand, last four, expiry and a fingerprint.
 */
export type CardNumberOutcome =
  | {
      readonly kind: 'saved';
      readonly behavesLike?: string;
      readonly funding: 'credit' | 'debit';
      /** 3-D Secure at setup: the SetupIntent goes `requires_action` until the person completes (or fails) the challenge. */
      readonly authenticatesSetup?: true;
    }
  | { readonly kind: 'refused'; readonly code: string; readonly declineCode?: string; readonly message: string };

const saved = (behavesLike?: string, funding: 'credit' | 'debit' = 'credit', authenticatesSetup = false): CardNumberOutcome => ({
  kind: 'saved',
  funding,
  ...(behavesLike ? { behavesLike } : {}),
  ...(authenticatesSetup ? { authenticatesSetup: true as const } : {}),
});

export const TEST_CARD_NUMBERS: Readonly<Record<string, CardNumberOutcome>> = {
  '4242424242424242': saved('pm_card_visa'),
  '4000056655665556': saved('pm_card_visa_debit', 'debit'),
  '5555555555554444': saved('pm_card_mastercard'),
  '378282246310005': saved('pm_card_amex'),
  // Saved, then every charge is declined (as Stripe's: the setup succeeds, the payment fails).
  '4000000000009995': saved('pm_card_chargeDeclinedInsufficientFunds'),
  '4000000000009987': saved('pm_card_chargeDeclinedLostCard'),
  // 3-D Secure at setup (requires_action, then the challenge): 3155 is then charged off-session
  // without a challenge; 3184 asks for one on every payment, so an off-session charge is declined
  // `authentication_required`.
  '4000002500003155': saved('pm_card_authenticationRequiredOnSetup', 'credit', true),
  '4000002760003184': saved('pm_card_authenticationRequired', 'credit', true),
  // Refused at setup.
  '4000000000000002': { kind: 'refused', code: 'card_declined', declineCode: 'generic_decline', message: 'Your card was declined.' },
  '4000000000000069': { kind: 'refused', code: 'expired_card', message: 'Your card has expired.' },
  '4000000000000127': { kind: 'refused', code: 'incorrect_cvc', message: "Your card's security code is incorrect." },
};

export function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** Stripe's brand names, from the number's prefix (IIN ranges). */
export function brandOf(digits: string): string {
  if (/^4/.test(digits)) return 'visa';
  if (/^(5[1-5]|2(2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720))/.test(digits)) return 'mastercard';
  if (/^3[47]/.test(digits)) return 'amex';
  if (/^(6011|65|64[4-9])/.test(digits)) return 'discover';
  if (/^(36|30[0-5]|38|39)/.test(digits)) return 'diners';
  if (/^35(2[89]|[3-8]\d)/.test(digits)) return 'jcb';
  if (/^62/.test(digits)) return 'unionpay';
  return 'unknown';
}
