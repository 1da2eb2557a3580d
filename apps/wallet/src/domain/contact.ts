import { WalletError } from './wallet-error';

const EMAIL = /^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/;
const PHONE = /^\+[1-9]\d{6,14}$/;

/** Lower-cased domain; the local part kept as given (it may be case-sensitive). */
export function normalizeEmail(email: string): string {
  const trimmed = email.trim();
  if (trimmed.length > 254 || !EMAIL.test(trimmed)) throw new WalletError('invalid', 'EMAIL_INVALID', 'the e-mail address is not valid', { field: 'email' });
  const at = trimmed.lastIndexOf('@');
  return `${trimmed.slice(0, at)}@${trimmed.slice(at + 1).toLowerCase()}`;
}

/** Whether the text is an international phone number (E.164, separators allowed). */
export function isPhoneNumber(text: string): boolean {
  return PHONE.test(text.trim().replace(/[\s().-]/g, ''));
}

/** E.164: a plus, the country code and the number, spaces and dashes removed. */
export function normalizePhone(phone: string): string {
  const compact = phone.replace(/[\s().-]/g, '');
  if (!PHONE.test(compact))
    throw new WalletError('invalid', 'PHONE_INVALID', 'the phone number must be international (E.164), e.g. +4915112345678', { field: 'phone' });
  return compact;
}

/** `a•••@example.com`: enough for the person to recognise it, too little to use. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  return `${email.slice(0, 1)}•••@${email.slice(at + 1)}`;
}

/** `+49•••••••78`. */
export function maskPhone(phone: string): string {
  return `${phone.slice(0, 3)}${'•'.repeat(Math.max(0, phone.length - 5))}${phone.slice(-2)}`;
}
