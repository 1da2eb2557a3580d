import { findCardNumber } from '@pay/observability';

/** What the wallet's tests scan `serviceLogs` (@pay/testing/service-logs) for. */
export interface SecretsUsed {
  pins?: string[];
  ibans?: string[];
  emails?: string[];
  phones?: string[];
  holderNames?: string[];
}

/** Card numbers, IBANs, e-mails found in `text`, and any of the given secrets (PINs as whole numbers). */
/**
 * The trace and span ids every log line carries (libs/observability's logger) are random hex; a
 * span id is all decimal digits once in ~1,900 and then a Luhn-valid 16-digit number once in ten,
 * which the card-number check would report (seen in CI as "a card number (9847…)"). They are not
 * data the service handled, so they are left out of the scan.
 */
const TRACE_IDS = /"(?:trace_id|span_id)":"[0-9a-f]{16,32}"/g;

export function findSecrets(logs: string, secrets: SecretsUsed): string[] {
  const found: string[] = [];
  const text = logs.replace(TRACE_IDS, '');
  const card = findCardNumber(text);
  if (card) found.push(`a card number (${card.slice(0, 4)}…)`);
  if (/\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b/.test(text)) found.push('an IBAN');
  if (/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/.test(text)) found.push('an e-mail address');
  for (const iban of secrets.ibans ?? []) {
    if (text.includes(iban) || text.includes(iban.replace(/\s/g, '')) || text.includes(iban.slice(4, 14))) found.push(`IBAN ${iban.slice(0, 4)}…`);
  }
  for (const pin of secrets.pins ?? []) if (new RegExp(`(?<![0-9A-Za-z])${pin}(?![0-9A-Za-z])`).test(text)) found.push(`PIN ${pin.slice(0, 1)}…`);
  for (const email of secrets.emails ?? []) if (text.toLowerCase().includes(email.toLowerCase().split('@')[0])) found.push('a test e-mail local part');
  for (const phone of secrets.phones ?? []) if (text.includes(phone.replace(/\s/g, '').slice(3))) found.push('a test phone number');
  for (const name of secrets.holderNames ?? []) if (text.includes(name)) found.push('an account holder name');
  return found;
}
