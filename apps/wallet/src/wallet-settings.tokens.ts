import type { PinLockoutPolicy } from './domain/pin-policy';

/** Rules read from configuration once, handed to the use cases. */
export interface WalletRules {
  pinLockout: PinLockoutPolicy;
  /** PIN and step-up attempts allowed per minute, per person and per caller (token buckets in PostgreSQL). */
  pinAttemptRates: { perPerson: number; perCaller: number };
  /** Countries where ad-measurement consent starts on (explicit configuration); off everywhere else. */
  adConsentGrantedByDefaultCountries: ReadonlySet<string>;
  /** The WebAuthn relying party the wallet is for passkeys. */
  passkeys: PasskeyRelyingParty;
}

export interface PasskeyRelyingParty {
  rpId: string;
  rpName: string;
  origins: string[];
  challengeTtlMs: number;
}

export const WALLET_RULES = Symbol('WalletRules');
export const STEP_UP_SIGNER = Symbol('StepUpProofSigner');
