import * as argon2 from 'argon2';

/** Hashes PINs for storage and checks them; argon2id in production. */
export interface PinHasher {
  hash(pin: string): Promise<string>;
  verify(hash: string, pin: string): Promise<boolean>;
}

export const PIN_HASHER = Symbol('PinHasher');

/**
 * argon2id with OWASP's minimum (19 MiB, 2 passes, 1 lane). A PIN has at most a million values,
 * so the hash alone cannot protect it offline: the hash is also sealed with the person's data
 * key (see the PIN store), and the lockout protects it online.
 */
export const ARGON2_PIN_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * Each hash takes a 19 MiB block from malloc on one of libuv's threads: the wallet's deployment
 * sets glibc's thresholds so that the block goes back to the system (GLIBC_TUNABLES; a test in
 * tools/test/k8s-manifests.repo-spec.ts proves it), or every hashing thread keeps one.
 */
export class Argon2PinHasher implements PinHasher {
  hash(pin: string): Promise<string> {
    return argon2.hash(pin, ARGON2_PIN_OPTIONS);
  }

  async verify(hash: string, pin: string): Promise<boolean> {
    return argon2.verify(hash, pin);
  }
}
