import { randomBytes, randomUUID } from 'node:crypto';
import { DecryptionError, open, seal } from './aead';
import { dataKeyIdOf, decryptField, encryptField } from './field-cipher';
import { MasterKeyRing, UnknownMasterKeyError } from './master-key-ring';

const b64 = (): string => randomBytes(32).toString('base64');

describe('AES-256-GCM sealing', () => {
  const key = randomBytes(32);

  it('round-trips, and refuses another context, another key or a flipped bit', () => {
    const sealed = seal(key, Buffer.from('DE89370400440532013000'), 'row-1');
    expect(open(key, sealed, 'row-1').toString()).toBe('DE89370400440532013000');
    expect(() => open(key, sealed, 'row-2')).toThrow(DecryptionError);
    expect(() => open(randomBytes(32), sealed, 'row-1')).toThrow(DecryptionError);
    const flipped = Buffer.from(sealed);
    flipped[15] ^= 1;
    expect(() => open(key, flipped, 'row-1')).toThrow(DecryptionError);
    expect(sealed.toString('latin1')).not.toContain('DE89');
  });

  it('uses a fresh nonce each time', () => {
    expect(seal(key, Buffer.from('x'), 'c').equals(seal(key, Buffer.from('x'), 'c'))).toBe(false);
  });
});

describe('MasterKeyRing', () => {
  it('wraps with the active key and unwraps with any configured key', async () => {
    const k1 = `k1:${b64()}`;
    const old = MasterKeyRing.parse(k1, 'k1');
    const dataKey = randomBytes(32);
    const wrapped = await old.wrap('dk-1', dataKey);
    expect(wrapped.masterKeyId).toBe('k1');

    const both = MasterKeyRing.parse(`${k1}, k2:${b64()}`, 'k2');
    expect(both.keyIds).toEqual(['k1', 'k2']);
    expect((await both.unwrap('dk-1', wrapped)).equals(dataKey)).toBe(true);
    expect((await both.wrap('dk-1', dataKey)).masterKeyId).toBe('k2');
    // A wrapped key belongs to its row: it does not unwrap under another data key id.
    await expect(both.unwrap('dk-2', wrapped)).rejects.toThrow(DecryptionError);
    await expect(MasterKeyRing.parse(`k3:${b64()}`, 'k3').unwrap('dk-1', wrapped)).rejects.toThrow(UnknownMasterKeyError);
  });

  it('refuses bad configuration without printing key material', () => {
    const material = randomBytes(16).toString('base64');
    let message = '';
    try {
      MasterKeyRing.parse(`k1:${material}`, 'k1');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/must be 32 bytes/);
    expect(message).not.toContain(material);
    expect(() => MasterKeyRing.parse(`k1:${b64()}`, 'k2')).toThrow(/active master key "k2" is not among/);
    expect(() => MasterKeyRing.parse(`k1:${b64()},k1:${b64()}`, 'k1')).toThrow(/given twice/);
    expect(() => MasterKeyRing.parse('just-a-key', 'k1')).toThrow(/id:base64/);
    expect(() => MasterKeyRing.parse('', 'k1')).toThrow(/no master key/);
  });
});

describe('encrypted fields', () => {
  const dataKey = { id: randomUUID(), key: randomBytes(32) };

  it('carries the data key id and binds the value to its context', () => {
    const stored = encryptField(dataKey, 'ana@example.com', 'wallet:p1:contact-email');
    expect(stored).toMatch(/^v1\.[0-9a-f-]{36}\.[A-Za-z0-9_-]+$/);
    expect(dataKeyIdOf(stored)).toBe(dataKey.id);
    expect(decryptField(dataKey, stored, 'wallet:p1:contact-email')).toBe('ana@example.com');
    expect(() => decryptField(dataKey, stored, 'wallet:p2:contact-email')).toThrow(DecryptionError);
    expect(() => decryptField({ id: randomUUID(), key: dataKey.key }, stored, 'wallet:p1:contact-email')).toThrow(/another data key/);
    expect(() => dataKeyIdOf('ana@example.com')).toThrow(/not an encrypted field/);
  });
});
