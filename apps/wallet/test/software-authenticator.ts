import type { KeyObject } from 'node:crypto';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

const b64url = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest();

/** Authenticator data flags (WebAuthn §6.1). */
const FLAG = { userPresent: 0x01, userVerified: 0x04, backupEligible: 0x08, backedUp: 0x10, attestedCredentialData: 0x40 } as const;

export interface CeremonyTweaks {
  /** The authenticator verified the user (biometric); default true. */
  userVerified?: boolean;
  /** The signature counter to report instead of the next one. */
  counter?: number;
  origin?: string;
  rpId?: string;
  /** Sign a different challenge than the options' (e.g. someone else's). */
  challenge?: string;
}

/**
 * A software WebAuthn authenticator for tests: a P-256 key pair generated here, attestation
 * `none`, assertions signed with the private key exactly as a device signs them
 * (authenticatorData || SHA-256(clientDataJSON), ECDSA with SHA-256, DER). What it sends is what
 * @simplewebauthn/browser would send; the wallet verifies it with the real library.
 */
export class SoftwareAuthenticator {
  readonly credentialId = b64url(randomBytes(32));
  private readonly privateKey: KeyObject;
  private readonly publicJwk: { x: string; y: string };
  private userHandle?: string;
  /** The signature counter, advanced at each assertion (as most security keys do). */
  counter = 0;

  constructor(private readonly defaults: { origin: string; rpId: string }) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    this.publicJwk = { x: jwk.x!, y: jwk.y! };
  }

  /** Answers `navigator.credentials.create()` with the wallet's options: a RegistrationResponseJSON. */
  register(options: { challenge: string; user: { id: string } }, tweaks: CeremonyTweaks = {}): Record<string, unknown> {
    this.userHandle = options.user.id;
    const clientDataJSON = this.clientData('webauthn.create', tweaks.challenge ?? options.challenge, tweaks);
    const id = Buffer.from(this.credentialId, 'base64url');
    const cosePublicKey = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(this.publicJwk.x, 'base64url')],
        [-3, Buffer.from(this.publicJwk.y, 'base64url')],
      ]),
    );
    const attestedCredentialData = Buffer.concat([Buffer.alloc(16), u16(id.length), id, cosePublicKey]);
    const authData = Buffer.concat([this.header(tweaks, FLAG.attestedCredentialData, tweaks.counter ?? this.counter), attestedCredentialData]);
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Uint8Array | Map<string, string>>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, string>()],
        ['authData', authData],
      ]),
    );
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(attestationObject), transports: ['internal', 'hybrid'] },
    };
  }

  /** Answers `navigator.credentials.get()`: an AuthenticationResponseJSON signed with this authenticator's key. */
  assert(options: { challenge: string }, tweaks: CeremonyTweaks = {}): Record<string, unknown> {
    if (tweaks.counter === undefined) this.counter += 1;
    const clientDataJSON = this.clientData('webauthn.get', tweaks.challenge ?? options.challenge, tweaks);
    const authData = this.header(tweaks, 0, tweaks.counter ?? this.counter);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), this.privateKey);
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        ...(this.userHandle ? { userHandle: this.userHandle } : {}),
      },
    };
  }

  private clientData(type: string, challenge: string, tweaks: CeremonyTweaks): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin: tweaks.origin ?? this.defaults.origin, crossOrigin: false }));
  }

  /** rpIdHash, flags, signCount: the first 37 bytes of authenticator data. */
  private header(tweaks: CeremonyTweaks, extraFlags: number, counter: number): Buffer {
    const flags = FLAG.userPresent | (tweaks.userVerified === false ? 0 : FLAG.userVerified) | extraFlags;
    const signCount = Buffer.alloc(4);
    signCount.writeUInt32BE(counter);
    return Buffer.concat([sha256(tweaks.rpId ?? this.defaults.rpId), Buffer.from([flags]), signCount]);
  }
}

function u16(value: number): Buffer {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16BE(value);
  return bytes;
}
