import { WalletError } from '../domain/wallet-error';

/**
 * Checks a device's biometric attestation (Android Key Attestation / Play Integrity, Apple App
 * Attest): that a known device of this person confirmed the payment with a biometric just now.
 * A verified attestation earns the same step-up proof as a correct PIN. The adapter goes here:
 * bind it to BIOMETRIC_VERIFIER in the wallet module.
 */
export interface BiometricVerifier {
  verify(request: { personId: string; attestation: string; challenge: string }): Promise<BiometricVerdict>;
}

export type BiometricVerdict = { verified: true; deviceId: string } | { verified: false; reason: string };

export const BIOMETRIC_VERIFIER = Symbol('BiometricVerifier');

/** Until a device-attestation adapter exists, biometric step-up says so clearly. */
export class UnavailableBiometricVerifier implements BiometricVerifier {
  verify(): Promise<BiometricVerdict> {
    return Promise.reject(
      new WalletError('unsupported', 'BIOMETRIC_NOT_AVAILABLE', 'biometric confirmation is not available yet; confirm the payment with your PIN'),
    );
  }
}
