import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';
import { COSEALG, decodeAttestationObject, decodeClientDataJSON, isoBase64URL, parseAuthenticatorData } from '@simplewebauthn/server/helpers';
import { PasskeyAssertionRefusedV1, PasskeyRegisteredV1 } from '@pay/contracts';
import type { PasskeyRefusalReason } from '../domain/passkey-policy';
import { assertionRefusalReason, MAX_PASSKEYS_PER_PERSON, passkeyNotVerified, sameCeiling } from '../domain/passkey-policy';
import { WalletError } from '../domain/wallet-error';
import type { Clock } from '../ports/clock';
import { CLOCK } from '../ports/clock';
import type { WalletChange } from '../store/wallet-store';
import type { WalletRules } from '../wallet-settings.tokens';
import { WALLET_RULES } from '../wallet-settings.tokens';
import type { AuthenticationCredentialBody, PasskeyAuthenticationOptionsView, PasskeyRegistrationOptionsView, RegistrationCredentialBody } from './passkey.dto';
import type { PasskeyRow } from './passkey-store';
import { PasskeyStore } from './passkey-store';
import type { Ceremony } from './webauthn-challenges';
import { webauthnChallenges } from './webauthn-challenges';

/** A refusal is returned, not thrown, so the challenge's deletion commits with the wallet change. */
export type CeremonyOutcome<T> = { ok: true; value: T } | { ok: false; refusal: WalletError };

const refused = (reason: PasskeyRefusalReason): { ok: false; refusal: WalletError } => ({ ok: false, refusal: passkeyNotVerified(reason) });

/** A refused confirmation is published (a fraud signal, as a wrong PIN is) and committed with the used challenge. */
function refusedAssertion(change: WalletChange, reason: PasskeyRefusalReason): { ok: false; refusal: WalletError } {
  change.emit(PasskeyAssertionRefusedV1, { reason });
  return refused(reason);
}

/** Both ceremonies demand user verification (biometric or device PIN), and neither asks for a vendor attestation. */
const USER_VERIFICATION = 'required';

/**
 * EdDSA, ES256, RS256 (COSE ids), the library's defaults named here: left unnamed, it probes the
 * runtime for post-quantum ML-DSA, which Node 24 answers with an ExperimentalWarning on stderr.
 */
const SUPPORTED_ALGORITHMS = [COSEALG.EdDSA, COSEALG.ES256, COSEALG.RS256];

/**
 * The wallet as WebAuthn relying party (@simplewebauthn/server): options with server-side,
 * single-use, short-lived challenges, and verification of what the authenticator answered.
 * Every method runs inside a wallet change, under the person's lock.
 */
@Injectable()
export class PasskeyCeremonies {
  constructor(
    private readonly passkeys: PasskeyStore,
    @Inject(WALLET_RULES) private readonly rules: WalletRules,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async registrationOptions(change: WalletChange): Promise<PasskeyRegistrationOptionsView> {
    const existing = await this.passkeys.rows(change.personId, change.sql);
    assertBelowLimit(existing.length);
    const { rpId, rpName } = this.rules.passkeys;
    const userHandle = await this.passkeys.userHandle(change.sql, change.personId, () => isoBase64URL.fromBuffer(randomBytes(32)));
    const options = await generateRegistrationOptions({
      rpName,
      rpID: rpId,
      userID: isoBase64URL.toBuffer(userHandle),
      // What the device shows beside the passkey: the wallet's id of the person, never contact details.
      userName: change.personId,
      userDisplayName: change.personId,
      challenge: randomBytes(32),
      timeout: this.rules.passkeys.challengeTtlMs,
      attestationType: 'none',
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
      excludeCredentials: existing.map((row) => ({ id: row.credential_id, transports: row.transports })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: USER_VERIFICATION },
    });
    const expiresAt = await this.remember(change, options.challenge, 'registration');
    return { options: options as unknown as Record<string, unknown>, expiresAt: expiresAt.toISOString() };
  }

  async verifyRegistration(change: WalletChange, credential: RegistrationCredentialBody, deviceName: string): Promise<CeremonyOutcome<PasskeyRow>> {
    const challenge = await this.takeChallenge(change, credential.response.clientDataJSON, 'registration');
    if (!challenge) return refused('challenge-invalid');
    let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
    try {
      verification = await verifyRegistrationResponse({
        response: credential as RegistrationResponseJSON,
        expectedChallenge: challenge.value,
        expectedOrigin: this.rules.passkeys.origins,
        expectedRPID: this.rules.passkeys.rpId,
        requireUserVerification: true,
        supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
      });
    } catch {
      return refused(registrationUserVerified(credential) === false ? 'user-not-verified' : 'invalid-response');
    }
    if (!verification.verified) return refused('invalid-response');
    const { credential: verified, credentialDeviceType, credentialBackedUp } = verification.registrationInfo;
    assertBelowLimit((await this.passkeys.rows(change.personId, change.sql)).length);
    const row = await this.passkeys.insert(change.sql, change.personId, {
      passkeyId: randomUUID(),
      credentialId: verified.id,
      publicKey: verified.publicKey,
      counter: verified.counter,
      transports: [...new Set(credential.response.transports ?? verified.transports ?? [])],
      deviceName,
      deviceType: credentialDeviceType,
      backedUp: credentialBackedUp,
    });
    if (!row) return { ok: false, refusal: new WalletError('conflict', 'PASSKEY_ALREADY_REGISTERED', 'this passkey is already registered') };
    change.emit(PasskeyRegisteredV1, { passkeyId: row.passkey_id, backedUp: row.backed_up });
    return { ok: true, value: row };
  }

  /** Request options over the person's passkeys, the challenge bound to the ceiling of the payment to confirm. */
  async authenticationOptions(change: WalletChange, ceiling: { amount: string; currency: string }): Promise<PasskeyAuthenticationOptionsView> {
    const existing = await this.passkeys.rows(change.personId, change.sql);
    if (existing.length === 0)
      throw new WalletError('conflict', 'PASSKEY_NOT_REGISTERED', 'no passkey is registered yet: register one, or confirm with the PIN');
    const options = await generateAuthenticationOptions({
      rpID: this.rules.passkeys.rpId,
      allowCredentials: existing.map((row) => ({ id: row.credential_id, transports: row.transports })),
      challenge: randomBytes(32),
      timeout: this.rules.passkeys.challengeTtlMs,
      userVerification: USER_VERIFICATION,
    });
    const expiresAt = await this.remember(change, options.challenge, 'step-up', ceiling);
    return { options: options as unknown as Record<string, unknown>, expiresAt: expiresAt.toISOString() };
  }

  async verifyAuthentication(
    change: WalletChange,
    credential: AuthenticationCredentialBody,
    ceiling: { amount: string; currency: string },
  ): Promise<CeremonyOutcome<PasskeyRow>> {
    const challenge = await this.takeChallenge(change, credential.response.clientDataJSON, 'step-up');
    if (!challenge) return refusedAssertion(change, 'challenge-invalid');
    if (!challenge.ceiling || !sameCeiling(challenge.ceiling, ceiling)) return refusedAssertion(change, 'ceiling-mismatch');
    const passkey = await this.passkeys.byCredential(change.sql, change.personId, credential.id);
    if (!passkey) return refusedAssertion(change, 'unknown-credential');
    const storedCounter = Number(passkey.counter);
    let verification: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
    try {
      verification = await verifyAuthenticationResponse({
        response: credential as AuthenticationResponseJSON,
        expectedChallenge: challenge.value,
        expectedOrigin: this.rules.passkeys.origins,
        expectedRPID: this.rules.passkeys.rpId,
        credential: { id: passkey.credential_id, publicKey: new Uint8Array(passkey.public_key), counter: storedCounter, transports: passkey.transports },
        requireUserVerification: true,
      });
    } catch {
      return refusedAssertion(change, this.assertionReason(credential, storedCounter));
    }
    if (!verification.verified) return refusedAssertion(change, 'invalid-response');
    const { newCounter, credentialBackedUp } = verification.authenticationInfo;
    await this.passkeys.recordUse(change.sql, passkey.passkey_id, newCounter, credentialBackedUp, this.clock.now());
    return { ok: true, value: passkey };
  }

  private async remember(change: WalletChange, challenge: string, ceremony: Ceremony, ceiling?: { amount: string; currency: string }): Promise<Date> {
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + this.rules.passkeys.challengeTtlMs);
    await webauthnChallenges.issue(change.sql, { challenge, personId: change.personId, ceremony, ceiling, expiresAt, now });
    return expiresAt;
  }

  /** The challenge the authenticator signed, taken out of the store (single use) if it is this person's, live, and of this ceremony. */
  private async takeChallenge(
    change: WalletChange,
    clientDataJSON: string,
    ceremony: Ceremony,
  ): Promise<{ value: string; ceiling?: { amount: string; currency: string } } | undefined> {
    let signed: unknown;
    try {
      signed = decodeClientDataJSON(clientDataJSON).challenge;
    } catch {
      return undefined;
    }
    if (typeof signed !== 'string' || !/^[A-Za-z0-9_-]{16,128}$/.test(signed)) return undefined;
    const row = await webauthnChallenges.take(change.sql, signed, change.personId, ceremony, this.clock.now());
    if (!row) return undefined;
    return {
      value: row.challenge,
      ...(row.ceiling_amount && row.ceiling_currency ? { ceiling: { amount: row.ceiling_amount, currency: row.ceiling_currency } } : {}),
    };
  }

  private assertionReason(credential: AuthenticationCredentialBody, storedCounter: number): PasskeyRefusalReason {
    try {
      const data = parseAuthenticatorData(isoBase64URL.toBuffer(credential.response.authenticatorData));
      return assertionRefusalReason({ userVerified: data.flags.uv, storedCounter, receivedCounter: data.counter });
    } catch {
      return 'invalid-response';
    }
  }
}

function assertBelowLimit(count: number): void {
  if (count >= MAX_PASSKEYS_PER_PERSON) {
    throw new WalletError('conflict', 'PASSKEY_LIMIT_REACHED', `a wallet holds at most ${MAX_PASSKEYS_PER_PERSON} passkeys: remove one first`);
  }
}

/** The UV flag of a registration's authenticator data, or undefined when it cannot be read. */
function registrationUserVerified(credential: RegistrationCredentialBody): boolean | undefined {
  try {
    const authData = decodeAttestationObject(isoBase64URL.toBuffer(credential.response.attestationObject)).get('authData');
    return parseAuthenticatorData(authData).flags.uv;
  } catch {
    return undefined;
  }
}
