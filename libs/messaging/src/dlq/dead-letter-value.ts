import { scrubText, scrubValue } from '@pay/observability';

/**
 * What a dead letter keeps of the message it stands for: the same JSON with sensitive fields
 * (step-up proofs, tokens, PINs, ...) and sensitive-looking text (card numbers, IBANs, contact
 * details in a description) replaced. A message with nothing to hide is kept byte for byte, so a
 * replay of it is exact; a redacted one says so, because its replay cannot be.
 */
export function deadLetterValue(value: Buffer | null): { value: Buffer | null; redacted: boolean } {
  if (value === null) return { value, redacted: false };
  const text = value.toString('utf8');
  let scrubbed: string;
  try {
    const parsed: unknown = JSON.parse(text);
    const clean = scrubValue(parsed);
    scrubbed = JSON.stringify(clean) === JSON.stringify(parsed) ? text : JSON.stringify(clean);
  } catch {
    scrubbed = scrubText(text);
  }
  return scrubbed === text ? { value, redacted: false } : { value: Buffer.from(scrubbed, 'utf8'), redacted: true };
}
