import { WalletError } from './wallet-error';

/** Why a passkey ceremony was refused (the `reason` of PASSKEY_NOT_VERIFIED, docs/passkeys.md). */
export type PasskeyRefusalReason =
  'challenge-invalid' | 'ceiling-mismatch' | 'unknown-credential' | 'user-not-verified' | 'counter-regressed' | 'invalid-response';

export const MAX_PASSKEYS_PER_PERSON = 10;

const MESSAGES: Record<PasskeyRefusalReason, string> = {
  'challenge-invalid': 'the passkey signed a challenge that is unknown, expired or already used: ask for new options and try again',
  'ceiling-mismatch': 'the passkey confirmed another amount or currency than this one: ask for options for this ceiling',
  'unknown-credential': 'this passkey is not registered to this wallet (or was removed)',
  'user-not-verified': 'the device did not verify the user (biometric or device PIN): user verification is required',
  'counter-regressed': "the passkey's signature counter went backwards: the authenticator may have been cloned",
  'invalid-response': 'the passkey response could not be verified (signature, origin or relying party)',
};

export const passkeyNotVerified = (reason: PasskeyRefusalReason): WalletError =>
  new WalletError('refused', 'PASSKEY_NOT_VERIFIED', `passkey not accepted: ${MESSAGES[reason]}`, { reason });

/**
 * A signature counter must move forward at every use, so an assertion from a cloned
 * authenticator shows up. Authenticators that keep no counter send 0 every time: accepted while
 * the stored counter is 0 too (WebAuthn §6.1.1).
 */
export function counterAdvances(stored: number, received: number): boolean {
  return received > stored || (received === 0 && stored === 0);
}

export interface AssertionFacts {
  userVerified: boolean;
  storedCounter: number;
  receivedCounter: number;
}

/** The reason to give for an assertion the verifier refused, from what the authenticator data says. */
export function assertionRefusalReason(facts: AssertionFacts): PasskeyRefusalReason {
  if (!facts.userVerified) return 'user-not-verified';
  if (!counterAdvances(facts.storedCounter, facts.receivedCounter)) return 'counter-regressed';
  return 'invalid-response';
}

export function sameCeiling(issued: { amount: string; currency: string }, sent: { amount: string; currency: string }): boolean {
  return BigInt(issued.amount) === BigInt(sent.amount) && issued.currency === sent.currency;
}
