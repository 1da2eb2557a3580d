/**
 * Scrubbing of sensitive data before anything is logged or dead-lettered. Two layers: keys that
 * name a secret are replaced whatever their value, and free text is searched for card numbers
 * (digit runs that pass the Luhn check), IBANs, JWTs, API keys, credentials in URLs, bearer
 * tokens, e-mail addresses and phone numbers.
 */

/** Words that make a key sensitive wherever they appear in it (`pspToken`, `step_up_proof`, `X-Api-Key`). */
const SENSITIVE_WORDS = new Set([
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'authorization',
  'cookie',
  'credential',
  'cvc',
  'cvv',
  'iban',
  'email',
  'phone',
  'proof',
  'dsn',
]);

/** Keys sensitive as a whole, compared without case, `_` or `-` (`DATABASE_URL`, `holderName`). */
export const SENSITIVE_KEYS = [
  'pin',
  'newpin',
  'currentpin',
  'oldpin',
  'pan',
  'cardnumber',
  'number',
  'accountnumber',
  'phonenumber',
  'holdername',
  'accountholder',
  'masterkey',
  'apikey',
  'privatekey',
  'datakey',
  'signingkey',
  'databaseurl',
  'stripesecretkey',
  'webhooksecret',
];

const SENSITIVE = new Set(SENSITIVE_KEYS);
// Compound names also end longer keys: `xApiKey`, `wrappedDataKey`, `bankAccountNumber`.
// (Not `number` alone: `sequenceNumber` is not a secret.)
const SENSITIVE_ENDINGS = SENSITIVE_KEYS.filter((key) => key.length >= 6 && key !== 'number');

/** `stepUpProof` → step, up, proof; `DATABASE_URL` → database, url; plurals count as their word. */
function wordsOf(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .map((word) => (word.length > 3 && word.endsWith('s') ? word.slice(0, -1) : word));
}

/**
 * Keys already judged. A logged object's keys are nearly always the code's own few hundred, and
 * splitting each into words was a third of a log line's scrubbing. Bounded: keys that come from
 * outside (a parsed body's) cannot grow it past this; beyond it they are judged each time.
 */
const judgedKeys = new Map<string, boolean>();
const MAX_JUDGED_KEYS = 4_096;

/** Whether a key names something we never log or dead-letter. */
export function isSensitiveKey(key: string): boolean {
  const judged = judgedKeys.get(key);
  if (judged !== undefined) return judged;
  const words = wordsOf(key);
  const joined = words.join('');
  const sensitive = SENSITIVE.has(joined) || words.some((word) => SENSITIVE_WORDS.has(word)) || SENSITIVE_ENDINGS.some((ending) => joined.endsWith(ending));
  if (judgedKeys.size < MAX_JUDGED_KEYS) judgedKeys.set(key, sensitive);
  return sensitive;
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
// Upper-case IBANs are redacted as written; lower-case or dash-grouped ones only when their
// ISO 7064 check digits hold, so hex ids and slugs are not mistaken for them.
const IBAN = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b/g;
const IBAN_LOOSE = /\b[a-z]{2}\d{2}(?:[ -]?[a-z0-9]{4}){2,7}(?:[ -]?[a-z0-9]{1,3})?\b/gi;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const PHONE = /\+\d[\d ()-]{7,18}\d/g;
// National numbers without `+`: (415) 555-0123, 415-555-0123, 030 1234567, 0151/23456789.
const PHONE_NATIONAL = /(?:\(\d{3}\) ?|\b\d{3}[ .-])\d{3}[ .-]\d{4}\b|\b0\d{2,4}[ /-]\d{4,9}\b/g;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const API_KEY = /\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}|\bwhsec_[A-Za-z0-9]{8,}/g;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/-]{8,}=*/gi;
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s:/@]+:[^\s@/]+@/gi;

/** ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97 = 1. */
function ibanChecks(candidate: string): boolean {
  const compact = candidate.replace(/[ -]/g, '').toUpperCase();
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    const value = char >= 'A' ? char.charCodeAt(0) - 55 : char.charCodeAt(0) - 48;
    remainder = (value > 9 ? remainder * 100 + value : remainder * 10 + value) % 97;
  }
  return remainder === 1;
}

// A UUID's all-digit groups, joined by its dashes, can look like a grouped card number; so can a
// W3C traceparent's span id when its 16 hex digits happen to be decimal ("…-1952809209177721-01").
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const TRACEPARENT = /\b[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}\b/gi;
const withoutUuids = (text: string): string =>
  text.replace(UUID, (uuid) => uuid.replace(/[0-9]/g, 'x')).replace(TRACEPARENT, (id) => id.replace(/[0-9]/g, 'x'));

/** Finds a run of digits that looks like a card number (Luhn-valid, 13 to 19 digits). */
export function findCardNumber(text: string): string | undefined {
  for (const match of withoutUuids(text).matchAll(CARD_CANDIDATE)) {
    const digits = match[0].replace(/[ -]/g, '');
    if (digits.length >= 13 && digits.length <= 19 && passesLuhn(digits)) return match[0];
  }
  return undefined;
}

/**
 * Replaces every IBAN in free text (upper-case as written; lower-case or grouped when its check
 * digits hold), with what `replace` makes of it: the support chat masks them before storage.
 */
export function replaceIbans(text: string, replace: (iban: string) => string): string {
  return text
    .replace(IBAN, (candidate) => replace(candidate))
    .replace(IBAN_LOOSE, (candidate, offset: number, whole: string) =>
      ibanChecks(candidate) && withoutUuids(whole).slice(offset, offset + candidate.length) === candidate ? replace(candidate) : candidate,
    );
}

/**
 * What every pattern below needs somewhere in the text: a digit (cards, IBANs, phone numbers), `@`
 * (e-mails, credentials in URLs), or the fixed start of a JWT, an API key or an authorization
 * scheme. Text with none of them cannot match any, and is returned without running them.
 */
const MAY_HOLD_SENSITIVE = /[0-9@]|eyJ|_live_|_test_|whsec_|bearer|basic/i;

export function scrubText(text: string): string {
  if (!MAY_HOLD_SENSITIVE.test(text)) return text;
  return (
    text
      .replace(JWT, '[REDACTED:jwt]')
      .replace(API_KEY, '[REDACTED:key]')
      .replace(BEARER, '$1 [REDACTED]')
      .replace(URL_CREDENTIALS, '$1[REDACTED]@')
      .replace(CARD_CANDIDATE, (candidate, offset: number, whole: string) => {
        const digits = candidate.replace(/[ -]/g, '');
        if (digits.length < 13 || digits.length > 19 || !passesLuhn(digits)) return candidate;
        // Part of a UUID: an id, not a card.
        return withoutUuids(whole).slice(offset, offset + candidate.length) === candidate ? '[REDACTED:card]' : candidate;
      })
      .replace(IBAN, '[REDACTED:iban]')
      // A UUID's tail can pass the check (1 in 97): ids are not IBANs.
      .replace(IBAN_LOOSE, (candidate, offset: number, whole: string) =>
        ibanChecks(candidate) && withoutUuids(whole).slice(offset, offset + candidate.length) === candidate ? '[REDACTED:iban]' : candidate,
      )
      .replace(EMAIL, '[REDACTED:email]')
      .replace(PHONE, '[REDACTED:phone]')
      .replace(PHONE_NATIONAL, (candidate, offset: number, whole: string) =>
        // A UUID's or traceparent's digit groups are ids, not phone numbers.
        withoutUuids(whole).slice(offset, offset + candidate.length) === candidate ? '[REDACTED:phone]' : candidate,
      )
  );
}

/** Below this depth a value is replaced, not copied: nothing unscrubbed slips out under a deep nesting. */
const MAX_DEPTH = 32;

/** Deep copy of a value with sensitive keys and sensitive-looking text replaced, at any depth. */
export function scrubValue(value: unknown, depth = 0, ancestors: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { type: value.name, message: scrubText(value.message), stack: value.stack ? scrubText(value.stack) : undefined };
  }
  if (value instanceof Date) return value;
  if (Buffer.isBuffer(value)) return '[BINARY]';
  if (depth > MAX_DEPTH) return '[TRUNCATED]';
  if (ancestors.has(value)) return '[CIRCULAR]';
  // Only ancestors make a cycle: the same object twice side by side is copied twice.
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => scrubValue(item, depth + 1, ancestors));
    const result: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      result[key] = isSensitiveKey(key) ? '[REDACTED]' : scrubValue(inner, depth + 1, ancestors);
    }
    return result;
  } finally {
    ancestors.delete(value);
  }
}
