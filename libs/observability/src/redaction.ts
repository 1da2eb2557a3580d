/**
 * Scrubbing of sensitive data before anything is logged. Two layers: keys that name a secret
 * are replaced whatever their value, and free text is searched for card numbers (digit runs
 * that pass the Luhn check), IBANs, e-mail addresses and phone numbers.
 */
export const SENSITIVE_KEYS = [
  'password',
  'passwd',
  'secret',
  'token',
  'authorization',
  'cookie',
  'pin',
  'newpin',
  'currentpin',
  'cvc',
  'cvv',
  'pan',
  'cardnumber',
  'number',
  'iban',
  'accountnumber',
  'email',
  'phone',
  'phonenumber',
  'masterkey',
  'apikey',
  'stripesecretkey',
  'webhooksecret',
];

const SENSITIVE = new Set(SENSITIVE_KEYS);

/** Whether a key names something we never log; compares without case, `_` or `-`. */
export function isSensitiveKey(key: string): boolean {
  return SENSITIVE.has(key.toLowerCase().replace(/[_-]/g, ''));
}

export function passesLuhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i -= 1) {
    let digit = digits.charCodeAt(i) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}

// 13 to 19 digits, optionally grouped by single spaces or dashes, as card numbers are written.
const CARD_CANDIDATE = /\b\d(?:[ -]?\d){12,18}\b/g;
const IBAN = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b/g;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const PHONE = /\+\d[\d ()-]{7,18}\d/g;

// A UUID's all-digit groups, joined by its dashes, can look like a grouped card number; so can a
// W3C traceparent's span id when its 16 hex digits happen to be decimal ("…-1952809209177721-01").
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const TRACEPARENT = /\b[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}\b/gi;
const withoutUuids = (text: string): string => text.replace(UUID, (uuid) => uuid.replace(/[0-9]/g, 'x')).replace(TRACEPARENT, (id) => id.replace(/[0-9]/g, 'x'));

/** Finds a run of digits that looks like a card number (Luhn-valid, 13 to 19 digits). */
export function findCardNumber(text: string): string | undefined {
  for (const match of withoutUuids(text).matchAll(CARD_CANDIDATE)) {
    const digits = match[0].replace(/[ -]/g, '');
    if (digits.length >= 13 && digits.length <= 19 && passesLuhn(digits)) return match[0];
  }
  return undefined;
}

export function scrubText(text: string): string {
  return text
    .replace(CARD_CANDIDATE, (candidate, offset: number, whole: string) => {
      const digits = candidate.replace(/[ -]/g, '');
      if (digits.length < 13 || digits.length > 19 || !passesLuhn(digits)) return candidate;
      // Part of a UUID: an id, not a card.
      return withoutUuids(whole).slice(offset, offset + candidate.length) === candidate ? '[REDACTED:card]' : candidate;
    })
    .replace(IBAN, '[REDACTED:iban]')
    .replace(EMAIL, '[REDACTED:email]')
    .replace(PHONE, '[REDACTED:phone]');
}

/** Deep copy of a value with sensitive keys and sensitive-looking text replaced. */
export function scrubValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, depth + 1));
  if (value instanceof Error) {
    return { type: value.name, message: scrubText(value.message), stack: value.stack ? scrubText(value.stack) : undefined };
  }
  const result: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    result[key] = isSensitiveKey(key) ? '[REDACTED]' : scrubValue(inner, depth + 1);
  }
  return result;
}
