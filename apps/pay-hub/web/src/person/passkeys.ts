import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/browser';
import { startAuthentication, startRegistration } from '@simplewebauthn/browser';
import type { Money, Passkey } from '../api';
import { api } from '../api';
import { walletPath } from './useWallet';

/** The wallet's passkey API (docs/passkeys.md): the browser's answers go to the wallet unchanged. */
export async function registerPasskey(personId: string, deviceName: string): Promise<Passkey> {
  const { options } = await api<{ options: PublicKeyCredentialCreationOptionsJSON }>('POST', `${walletPath(personId)}/passkeys/registration-options`, {});
  const credential: RegistrationResponseJSON = await startRegistration({ optionsJSON: options });
  return api<Passkey>('POST', `${walletPath(personId)}/passkeys`, { deviceName, credential });
}

export interface StepUpProof {
  proof: string;
  method: string;
  expiresAt: string;
}

/** Confirms up to `ceiling` with a passkey (user verification: the device's biometrics or its lock). */
export async function confirmWithPasskey(personId: string, ceiling: Money): Promise<StepUpProof> {
  const { options } = await api<{ options: PublicKeyCredentialRequestOptionsJSON }>('POST', `${walletPath(personId)}/step-up/biometric/options`, { ceiling });
  const credential: AuthenticationResponseJSON = await startAuthentication({ optionsJSON: options });
  return api<StepUpProof>('POST', `${walletPath(personId)}/step-up/biometric`, { ceiling, credential });
}

export function confirmWithPin(personId: string, pin: string, ceiling: Money): Promise<StepUpProof> {
  return api<StepUpProof>('POST', `${walletPath(personId)}/step-up/pin`, { pin, ceiling });
}
