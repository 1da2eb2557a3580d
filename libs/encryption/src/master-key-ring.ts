import { KEY_BYTES, open, seal } from './aead';

/**
 * Wraps and unwraps data keys with a key-encryption key. This implementation keeps master keys
 * from configuration; a KMS adapter (AWS KMS, Cloud KMS, Vault transit) implements the same
 * port, which is why the methods are asynchronous.
 */
export interface KeyWrapper {
  /** The master key new data keys are wrapped with. */
  readonly activeKeyId: string;
  wrap(dataKeyId: string, dataKey: Buffer): Promise<WrappedDataKey>;
  unwrap(dataKeyId: string, wrapped: WrappedDataKey): Promise<Buffer>;
}

export interface WrappedDataKey {
  masterKeyId: string;
  wrapped: Buffer;
}

export const MASTER_KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** A master key is missing from configuration: data it wraps cannot be read. */
export class UnknownMasterKeyError extends Error {
  override name = 'UnknownMasterKeyError';
}

/**
 * Master keys by id, from configuration: `id:base64(32 bytes)` pairs separated by commas, and
 * the id of the active one. Older keys stay in the ring until `rotate-keys` has re-wrapped
 * every data key under the active one; then they can be removed.
 */
export class MasterKeyRing implements KeyWrapper {
  private readonly keys: ReadonlyMap<string, Buffer>;

  constructor(
    keys: ReadonlyMap<string, Buffer>,
    readonly activeKeyId: string,
  ) {
    for (const [id, key] of keys) {
      if (!MASTER_KEY_ID_PATTERN.test(id)) throw new Error(`master key id "${id}" must be 1 to 64 of letters, digits, ".", "_" and "-"`);
      if (key.length !== KEY_BYTES) throw new Error(`master key ${id} must be 32 bytes (base64 of 32 random bytes)`);
    }
    if (!keys.has(activeKeyId)) throw new Error(`the active master key "${activeKeyId}" is not among the configured master keys`);
    this.keys = keys;
  }

  /** Parses `id:base64,id:base64`; messages name ids, never key material. */
  static parse(spec: string, activeKeyId: string): MasterKeyRing {
    const keys = new Map<string, Buffer>();
    for (const entry of spec
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)) {
      const separator = entry.indexOf(':');
      const id = separator > 0 ? entry.slice(0, separator) : '';
      const material = entry.slice(separator + 1);
      if (!id || !/^[A-Za-z0-9+/]+={0,2}$/.test(material)) throw new Error('each master key must be written id:base64, e.g. 2026-01:q3Z…=');
      if (keys.has(id)) throw new Error(`master key id "${id}" is given twice`);
      keys.set(id, Buffer.from(material, 'base64'));
    }
    if (keys.size === 0) throw new Error('no master key is configured');
    return new MasterKeyRing(keys, activeKeyId);
  }

  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  has(masterKeyId: string): boolean {
    return this.keys.has(masterKeyId);
  }

  async wrap(dataKeyId: string, dataKey: Buffer): Promise<WrappedDataKey> {
    const key = this.keys.get(this.activeKeyId)!;
    return { masterKeyId: this.activeKeyId, wrapped: seal(key, dataKey, wrapContext(dataKeyId, this.activeKeyId)) };
  }

  async unwrap(dataKeyId: string, wrapped: WrappedDataKey): Promise<Buffer> {
    const key = this.keys.get(wrapped.masterKeyId);
    if (!key) throw new UnknownMasterKeyError(`data key ${dataKeyId} is wrapped by master key "${wrapped.masterKeyId}", which is not configured`);
    return open(key, wrapped.wrapped, wrapContext(dataKeyId, wrapped.masterKeyId));
  }
}

/** Binds a wrapped key to its own id and master key, so wrapped keys cannot be swapped between rows. */
const wrapContext = (dataKeyId: string, masterKeyId: string): string => `data-key:${dataKeyId}:${masterKeyId}`;
