import { DecryptionError, open, seal } from './aead';
import type { DataKey } from './data-key-store';

const FORMAT = /^v1\.([0-9a-f-]{36})\.([A-Za-z0-9_-]+)$/;

/**
 * A secret field as stored: `v1.<data key id>.<base64url(nonce | ciphertext | tag)>`. The data
 * key id travels with the ciphertext so a reader knows which key to unwrap; the context (e.g.
 * `payment_method:<id>:secret`) is authenticated but not stored.
 */
export function encryptField(dataKey: DataKey, plaintext: string, context: string): string {
  const sealed = seal(dataKey.key, Buffer.from(plaintext, 'utf8'), `${dataKey.id}|${context}`);
  return `v1.${dataKey.id}.${sealed.toString('base64url')}`;
}

export function dataKeyIdOf(stored: string): string {
  const match = FORMAT.exec(stored);
  if (!match) throw new DecryptionError('the stored value is not an encrypted field (v1.<key id>.<data>)');
  return match[1];
}

export function decryptField(dataKey: DataKey, stored: string, context: string): string {
  const match = FORMAT.exec(stored);
  if (!match) throw new DecryptionError('the stored value is not an encrypted field (v1.<key id>.<data>)');
  if (match[1] !== dataKey.id) throw new DecryptionError('the field was sealed with another data key');
  return open(dataKey.key, Buffer.from(match[2], 'base64url'), `${dataKey.id}|${context}`).toString('utf8');
}
